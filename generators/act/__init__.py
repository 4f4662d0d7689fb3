"""Acting on what was measured: `recommend` turns measured waste into manifest changes whose
savings the estimator confirms, and `--write` makes them.

- `edits`: changing a manifest in place, every untouched byte kept (comments, key order, quoting).
"""
