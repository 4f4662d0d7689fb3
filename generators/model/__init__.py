"""Typed models of the team manifest and the org policy (docs/manifest.md): `fields` (patterns,
constrained types, the strict base), `team`, `org` and `loaded` (the validated set), exported here.

The models are the single source of truth for field names, types, defaults, the JSON Schema
(`genai-finops schema`) and the per-field error messages. Rules that need more than one field
or more than one file (org allow-lists, cross-team uniqueness, AWS name limits) live in
`generators.manifest.validation`, which works on these already-typed objects.

Every model forbids unknown fields and is strict about types: YAML `"5"` is not the number 5,
and a typo'd field is an error rather than a silently ignored key.
"""


from __future__ import annotations

# The package's interface is every public name of its modules (callers import them from here).
from generators.model.fields import *  # noqa: F403
from generators.model.loaded import *  # noqa: F403
from generators.model.org import *  # noqa: F403
from generators.model.team import *  # noqa: F403
