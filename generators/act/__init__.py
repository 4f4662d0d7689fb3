"""Acting on what was measured: `recommend` turns measured waste into manifest changes whose
savings the estimator confirms, and `--write` makes them.

- `recommend`: the recommendations, their evidence and savings (the estimator's), and `write`.
- `edits`: changing a manifest in place, every untouched byte kept (comments, key order, quoting).
"""
