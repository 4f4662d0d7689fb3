"""The scan: checkov (offline, in its own venv) and our CKV_GFO_* checks over synthesized stacks.

- `checkov_adapter`: runs checkov per stack, caches results of unchanged stacks.
- `results`: checkov's report as results with file:line and construct path, suppressions applied.
- `suppressions`: the reviewed suppressions file (policies/suppressions.yaml).
- `render`: cli, json, SARIF and JUnit XML.
"""
