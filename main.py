"""Entry point that `cdktf synth` / `cdktf deploy` run in this repository (see cdktf.json): the
app is stacks/cdktf_app.py, which a repository made with `genai-finops init` runs as a module."""

from __future__ import annotations

import sys

from stacks.cdktf_app import main

if __name__ == "__main__":
    sys.exit(main())
