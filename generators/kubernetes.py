"""The Kubernetes objects a team stack creates, per cluster and namespace: one home for the stacks and preflight.

modules/serving_autoscaler.py and modules/serving_schedule.py create them; preflight asks the
cluster, for each namespace, whether the deploying principal may manage every kind listed here
(tests/test_deployability.py checks this list against the synthesized stacks).
"""

from __future__ import annotations

from dataclasses import dataclass

from generators.model import OrgPolicy, TeamManifest


@dataclass(frozen=True)
class Kind:
    group: str  # API group; "" is the core group
    resource: str  # plural resource name, as RBAC and SelfSubjectAccessReview name it
    terraform_type: str  # the hashicorp/kubernetes resource that creates it


NAMESPACE = Kind("", "namespaces", "kubernetes_namespace_v1")
HPA = Kind("autoscaling", "horizontalpodautoscalers", "kubernetes_horizontal_pod_autoscaler_v2")
SERVICE_ACCOUNT = Kind("", "serviceaccounts", "kubernetes_service_account_v1")
ROLE = Kind("rbac.authorization.k8s.io", "roles", "kubernetes_role_v1")
ROLE_BINDING = Kind("rbac.authorization.k8s.io", "rolebindings", "kubernetes_role_binding_v1")
CRON_JOB = Kind("batch", "cronjobs", "kubernetes_cron_job_v1")
SCHEDULE_KINDS = (SERVICE_ACCOUNT, ROLE, ROLE_BINDING, CRON_JOB)

# What the hashicorp/kubernetes provider calls for a resource it manages: create on the first
# apply, get on every refresh, a JSON patch on an update, delete on destroy
# (kubernetes/resource_kubernetes_role.go: Roles(namespace).Create / Get / Patch / Delete).
MANAGE_VERBS = ("create", "get", "patch", "delete")

# The serving schedule's Role: what its CronJobs may do to their one Deployment.
SCALE_RULE_GROUP = "apps"
SCALE_RULE_RESOURCE = "deployments"
SCALE_RULE_SUBRESOURCE = "scale"
SCALE_RULE_VERBS = ("get", "patch")

# Namespaces Kubernetes creates itself: a stack must never try to create (or, on destroy,
# delete) them. https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/#initial-namespaces
INITIAL_NAMESPACES = frozenset({"default", "kube-node-lease", "kube-public", "kube-system"})


@dataclass(frozen=True)
class ScaledDeployment:
    pool: str  # names the serving schedule's Role (naming.serving_scaler)
    deployment: str


@dataclass(frozen=True)
class NamespaceUse:
    """What one team's stack creates in one namespace of one cluster."""

    cluster: str
    namespace: str
    team: str
    created: bool  # the stack creates the namespace itself (clusters.<name>.create_namespaces)
    kinds: tuple[Kind, ...]
    scaled_deployments: tuple[ScaledDeployment, ...]  # what each serving-schedule Role may scale (and its RoleBinding grants)


def namespace_uses(team: TeamManifest, org: OrgPolicy) -> list[NamespaceUse]:
    """Each (cluster, namespace) the team's pools put Kubernetes objects in, in manifest order."""
    found: dict[tuple[str, str], tuple[list[Kind], list[ScaledDeployment]]] = {}
    for pool in team.inference:
        if pool.autoscaling is None:
            continue
        kinds, deployments = found.setdefault((pool.cluster, pool.autoscaling.namespace), ([], []))
        wanted = [HPA] + (list(SCHEDULE_KINDS) if team.schedule is not None else [])
        kinds.extend(kind for kind in wanted if kind not in kinds)
        if team.schedule is not None:
            deployments.append(ScaledDeployment(pool.name, pool.autoscaling.deployment))
    return [
        NamespaceUse(cluster, namespace, team.team, org.clusters[cluster].create_namespaces, tuple(kinds), tuple(deployments))
        for (cluster, namespace), (kinds, deployments) in found.items()
    ]
