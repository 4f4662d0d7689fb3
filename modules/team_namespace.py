"""The team's Kubernetes namespace, on a cluster whose org policy lets team stacks create them.

Only with `clusters.<name>.create_namespaces: true` (otherwise the platform team creates
namespaces and preflight checks they exist). Validation gives each created namespace to one team,
so no two stacks create it and one stack's destroy never deletes another team's objects. The
namespace carries the team's labels: Kubecost and OpenCost allocate by namespace labels, and
preflight recognises a namespace this stack created by its `team` label.
"""

from __future__ import annotations

from typing import Mapping

from cdktf import TerraformProvider
from cdktf_cdktf_provider_kubernetes.namespace_v1 import NamespaceV1, NamespaceV1Metadata
from constructs import Construct


class TeamNamespace(Construct):
    """A team's namespace, when its cluster has `create_namespaces` (validation keeps one team per
    created namespace and refuses Kubernetes' own).

    Args:
        name: the namespace, from the team's validated autoscaling entries.
        labels: the team's Kubernetes labels (generators/labels.py).
        provider: the cluster's Kubernetes provider.

    Attributes: `namespace` (for `after=` of what lives in it).
    """

    def __init__(self, scope: Construct, id: str, *, name: str, labels: Mapping[str, str], provider: TerraformProvider) -> None:
        super().__init__(scope, id)
        self.namespace = NamespaceV1(
            self,
            "namespace",
            provider=provider,
            metadata=NamespaceV1Metadata(name=name, labels=dict(labels)),
        )
