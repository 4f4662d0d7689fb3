"""The plan: what the manifests will cost before anything is deployed.

- `pricing`: the price catalog (`prices.json`, on-demand and observed spot ranges per region).
- `estimate`: the monthly estimate per team and component, low / expected / high, schedule- and
  spot-aware, and the budget gate.
- `compare` and `saved`: `cost --compare` against the base branch or its saved JSON.
- `unit_cost`: $ per million tokens, the one formula every output uses.
"""
