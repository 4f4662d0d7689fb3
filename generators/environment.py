"""Every environment variable genai-finops reads, in one place (the README's "Settings" table
lists the same). The off-hours function's variables are its contract with the stack that sets
them, and live in lambdas/offhours/contract.py, which runs in AWS without generators/.
"""

from __future__ import annotations

# The manifests every command reads without a PATH, and `cdktf synth` / `cdktf deploy` read
# through main.py (several paths separated by the OS path separator); before genai-finops.toml's
# `manifests`, default manifests/ (generators/project.py).
MANIFESTS_ENV = "GENAI_FINOPS_MANIFESTS"
# The checkov program `scan` runs (make sets it to the one in .venv/tools/checkov).
CHECKOV_ENV = "GENAI_FINOPS_CHECKOV"
# Set by `scan` for our checks, which run inside checkov's process: the org policy they read.
# policies/gfo_common.py repeats the name (it cannot import generators/); a test keeps them equal.
POLICY_ENV = "GENAI_FINOPS_POLICY"
# The default of synth's, scan's and main.py's output directory (after --out, before genai-finops.toml).
OUT_ENV = "GENAI_FINOPS_OUT"
# The default of showback's and report's --prometheus.
PROMETHEUS_URL_ENV = "GENAI_FINOPS_PROMETHEUS_URL"
# Where `showback --months` keeps each billing file's daily sums between runs (see/daily_cache.py);
# default $XDG_CACHE_HOME/genai-finops, else ~/.cache/genai-finops.
CACHE_DIR_ENV = "GENAI_FINOPS_CACHE_DIR"
