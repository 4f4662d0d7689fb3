"""Seeing spend: the FOCUS billing export and Prometheus against budgets and the estimate.

- `showback`: spend per team and model (DuckDB in process, or Athena), untagged and
  off-schedule spend, forecast.
- `billing_files`: finding and checking FOCUS files (local or S3) before a query reads them.
- `focus_spec`: the FOCUS columns showback reads, with the specification's wording.
- `tokens`: vLLM token counters from Prometheus, bounded and reset-aware.
- `gpu_idle`: GPU busy share from DCGM, per pool, and idle spend.
- `report`: the one-file HTML report.
"""
