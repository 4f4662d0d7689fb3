"""The manifests: reading team and org YAML into the model, with every problem at file:line:col.

- `loading`: files and directories in, a validated `ManifestSet` out (schema errors as problems).
- `validation`: the rules across fields, files and the org policy (regions, types, clusters,
  schedules, volumes, names), each a `Problem` with its position.
The model itself (`generators.model`) and the YAML reader with positions
(`generators.yaml_source`) are shared vocabulary beside this package.
"""
