"""The Kubernetes HorizontalPodAutoscaler (autoscaling/v2) of a pool's serving Deployment."""

from __future__ import annotations

from typing import Sequence

from cdktf import ITerraformDependable, TerraformProvider
from cdktf_cdktf_provider_kubernetes.horizontal_pod_autoscaler_v2 import (
    HorizontalPodAutoscalerV2,
    HorizontalPodAutoscalerV2Metadata,
    HorizontalPodAutoscalerV2Spec,
    HorizontalPodAutoscalerV2SpecMetric,
    HorizontalPodAutoscalerV2SpecMetricPods,
    HorizontalPodAutoscalerV2SpecMetricPodsMetric,
    HorizontalPodAutoscalerV2SpecMetricPodsTarget,
    HorizontalPodAutoscalerV2SpecMetricResource,
    HorizontalPodAutoscalerV2SpecMetricResourceTarget,
    HorizontalPodAutoscalerV2SpecScaleTargetRef,
)
from constructs import Construct

from generators.model import Autoscaling

# The per-pod custom metric the HPA reads through the custom metrics API; a metrics adapter
# (prometheus-adapter, KEDA, ...) in the cluster must serve it under this name
# (https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale-walkthrough/#autoscaling-on-multiple-metrics-and-custom-metrics).
REQUESTS_PER_SECOND_METRIC = "requests_per_second"


def quantity(value: float) -> str:
    """A Kubernetes quantity: whole numbers as is, fractions in milli-units (12.5 -> 12500m)."""
    if float(value).is_integer():
        return str(int(value))
    return f"{round(value * 1000)}m"


class ServingAutoscaler(Construct):
    """The HorizontalPodAutoscaler (autoscaling/v2) of one pool's Deployment: CPU utilization and
    requests per second per pod.

    Args:
        autoscaling: the pool's validated `autoscaling` (namespace, deployment, replicas, targets).
        labels: the team's Kubernetes labels (generators/labels.py).
        provider: the cluster's Kubernetes provider.
        after: what must exist first (the namespace, when the stack creates it); default none.

    Attributes: `hpa`.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        autoscaling: Autoscaling,
        labels: dict[str, str],
        provider: TerraformProvider,
        after: Sequence[ITerraformDependable] = (),
    ) -> None:
        super().__init__(scope, id)
        self.hpa = HorizontalPodAutoscalerV2(
            self,
            "hpa",
            provider=provider,
            depends_on=list(after),
            metadata=HorizontalPodAutoscalerV2Metadata(
                name=autoscaling.deployment, namespace=autoscaling.namespace, labels=dict(labels)
            ),
            spec=HorizontalPodAutoscalerV2Spec(
                min_replicas=autoscaling.min_replicas,
                max_replicas=autoscaling.max_replicas,
                scale_target_ref=HorizontalPodAutoscalerV2SpecScaleTargetRef(
                    api_version="apps/v1", kind="Deployment", name=autoscaling.deployment
                ),
                metric=[
                    HorizontalPodAutoscalerV2SpecMetric(
                        type="Resource",
                        resource=HorizontalPodAutoscalerV2SpecMetricResource(
                            name="cpu",
                            target=HorizontalPodAutoscalerV2SpecMetricResourceTarget(
                                type="Utilization", average_utilization=autoscaling.target_cpu_percent
                            ),
                        ),
                    ),
                    HorizontalPodAutoscalerV2SpecMetric(
                        type="Pods",
                        pods=HorizontalPodAutoscalerV2SpecMetricPods(
                            metric=HorizontalPodAutoscalerV2SpecMetricPodsMetric(name=REQUESTS_PER_SECOND_METRIC),
                            target=HorizontalPodAutoscalerV2SpecMetricPodsTarget(
                                type="AverageValue", average_value=quantity(autoscaling.target_requests_per_second)
                            ),
                        ),
                    ),
                ],
            ),
        )
