"""Generated data for the demo and the tests: FOCUS billing rows and vLLM token counters that
follow the manifests (schedules, spot, pools), so `make demo` shows back a realistic month.

- `focus_sample`: `python -m generators.samples.focus_sample manifests --month 2026-10 --out DIR`
- `token_sample`: backfills token counters into a real Prometheus and runs showback and report.
"""
