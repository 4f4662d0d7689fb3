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

from generators.model.fields import (  # noqa: F401 - the package's interface
    EMAIL_PATTERN,
    ENTRY_NAME_PATTERN,
    HHMM,
    HHMM_PATTERN,
    IAM_ROLE_NAME_PATTERN,
    K8S_NAME_PATTERN,
    WEEKDAYS,
    Email,
    EntryName,
    Environment,
    K8sName,
    Market,
    NonEmpty,
    OnExceed,
    Percent,
    RoleName,
    StrictModel,
    TeamName,
    Weekday,
    repeated,
)
from generators.model.loaded import (  # noqa: F401 - the package's interface
    LoadedTeam,
    ManifestSet,
)
from generators.model.org import (  # noqa: F401 - the package's interface
    DEFAULT_KUBERNETES_VERSION,
    GATES,
    KUBECTL_IMAGES,
    Alerts,
    Billing,
    Cluster,
    CostGate,
    Governance,
    Network,
    OrgPolicy,
    ProdRules,
    Recommend,
    StateBackend,
)
from generators.model.team import (  # noqa: F401 - the package's interface
    Autoscaling,
    Budget,
    InferencePool,
    Schedule,
    TeamManifest,
    TrainingJob,
    hour_minute,
)
