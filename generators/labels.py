"""Kubernetes node labels for GPU inference pools, by which Kubecost / OpenCost allocate cost.

Kubecost's default organisational labels are team, owner, env, department and app
(https://docs.kubecost.com/install-and-configure/advanced-configuration/cost-allocation/labels-and-annotations,
the `owner_label`, `team_label`, `department_label`, `product_label`, `environment_label` settings);
OpenCost reads the same keys. We add project and model-id, which the FinOps reports group by.

Label values must be at most 63 characters, empty or begin and end with an alphanumeric, with
only alphanumerics, '-', '_' and '.' between
(https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set).
An e-mail owner therefore becomes `ml-team-alpha_at_example.com`; validation refuses a pool whose
labels would still break the rules, so synthesis never meets one.
"""

from __future__ import annotations

import re

from generators.model import InferencePool, TeamManifest

LABEL_VALUE_MAX = 63
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_FIELD_OF_LABEL = {
    "team": ("team",),
    "owner": ("owner",),
    "env": ("environment",),
    "department": ("cost_center",),
    "project": ("project",),
}


def _owner_value(email: str) -> str:
    return email.replace("@", "_at_")


def team_labels(team: TeamManifest) -> dict[str, str]:
    """The team's own labels: on the namespaces its stack creates (Kubecost and OpenCost read
    namespace labels too) and, with the pool's, on its nodes."""
    return {
        "team": team.team,
        "owner": _owner_value(team.owner),
        "env": team.environment,
        "department": team.cost_center,
        "project": team.project,
    }


def node_labels(team: TeamManifest, pool: InferencePool) -> dict[str, str]:
    return {**team_labels(team), "app": pool.name, "model-id": pool.model_id}


def value_problem(value: str) -> str | None:
    if len(value) > LABEL_VALUE_MAX:
        return f"is {len(value)} characters; Kubernetes label values may have at most {LABEL_VALUE_MAX}"
    if not _LABEL_VALUE.match(value):
        return "has characters a Kubernetes label value cannot hold; allowed: letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
    return None


def label_problems(team: TeamManifest, index: int, pool: InferencePool) -> list[tuple[tuple[str | int, ...], str]]:
    """(manifest field, message) for every node label value this pool would break."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for key, value in node_labels(team, pool).items():
        reason = value_problem(value)
        if reason:
            field = _FIELD_OF_LABEL.get(key, ("inference", index, "model_id" if key == "model-id" else "name"))
            problems.append((field, f"becomes the node label {key}={value!r}, which {reason}"))
    return problems
