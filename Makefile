# Every target installs what it needs: a fresh clone with Python 3.11+ and Node 20 needs
# nothing else. Stamps make re-runs cheap; they are rebuilt when their inputs change.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# checkov pins packages that conflict with ours, so it gets its own venv (see generators/scan/checkov-requirements.txt).
CHECKOV_VENV := $(VENV)/tools/checkov
OUT ?= cdktf.out
# The month the demo's generated billing data covers (a complete month, so no forecast).
DEMO_MONTH ?= 2026-10
export CHECKPOINT_DISABLE := 1
# jsii prints an end-of-life banner for Node 20 on every start; Node 20 is what this machine has.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export GENAI_FINOPS_CHECKOV := $(abspath $(CHECKOV_VENV)/bin/checkov)

.PHONY: install system-packages demo lint test bench clean help

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	@echo "installing genai-finops and its pinned dependencies into $(VENV) (first run: 1-3 minutes)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

$(CHECKOV_VENV)/.installed: generators/scan/checkov-requirements.txt | $(VENV)/.installed
	@echo "installing checkov into its own virtualenv, $(CHECKOV_VENV) (first run: 1-2 minutes)"
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r generators/scan/checkov-requirements.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	@echo "installing the pinned cdktf CLI with npm ci (first run: under a minute)"
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Debian packages the tests and the demo run for real: Prometheus and promtool (token counters)
# and Chromium (the report, checked in a real browser). System programs: installed with
# apt-get when this runs as root (as CI does), otherwise the one command to run is printed.
SYSTEM_PACKAGES := prometheus chromium
system-packages:
	@command -v prometheus >/dev/null && command -v promtool >/dev/null && command -v chromium >/dev/null || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing $(SYSTEM_PACKAGES) with apt-get (first run: 1-3 minutes)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES) >/dev/null; \
		else echo "needed: sudo apt-get install $(SYSTEM_PACKAGES)" >&2; exit 1; fi; }

install: $(VENV)/.installed $(CHECKOV_VENV)/.installed node_modules/.installed system-packages ## Install everything into .venv and node_modules (and Prometheus, Chromium)

demo: install ## Validate, price, synthesize and scan the shipped examples, show back generated billing data, recommend
	$(BIN)/genai-finops validate manifests
	$(BIN)/genai-finops cost manifests
	$(BIN)/genai-finops synth manifests --out $(OUT)
	$(BIN)/genai-finops scan --out $(OUT)
	$(BIN)/python -m generators.samples.focus_sample manifests --month $(DEMO_MONTH) --out $(OUT)/billing
	$(BIN)/python -m generators.samples.trend_sample manifests --from 2026-08 --until 2026-10-16 --out $(OUT)/trend
	$(BIN)/genai-finops showback manifests --billing $(OUT)/trend --last 3 --month $(DEMO_MONTH)
	$(BIN)/python -m generators.samples.token_sample manifests --month $(DEMO_MONTH) --out $(OUT)/tokens --billing $(OUT)/billing --report $(OUT)/report.html --recommend

LINTED := generators stacks modules lambdas policies main.py

lint: $(VENV)/.installed ## Lint and type-check: ruff (pyflakes, pycodestyle, import order), then mypy; settings in pyproject.toml
	$(BIN)/ruff check $(LINTED)
	$(BIN)/mypy $(LINTED)

test: install lint ## Lint, then run every test
	$(BIN)/python -m pytest

bench: install ## Measure validate, cost, synth and scan for 10, 100 and 500 teams, then one changed team of 500
	$(BIN)/python benchmarks/scale.py
	$(BIN)/python benchmarks/incremental.py

clean: ## Remove generated output (keeps the installs and the Terraform state in state/)
	@if [ -d "$(OUT)" ] && [ -n "$$(find "$(OUT)" \( -name '*.tfstate' -o -name '*.tfstate.backup' \) -print -quit)" ]; then \
		echo "make clean: $(OUT) holds Terraform state; move it to state/<stack>.tfstate first:" >&2; \
		find "$(OUT)" \( -name '*.tfstate' -o -name '*.tfstate.backup' \) >&2; exit 1; fi
	rm -rf $(OUT) .pytest_cache .hypothesis
