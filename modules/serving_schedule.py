"""Off-hours for a pool's serving Deployment: two in-cluster CronJobs that scale it to zero and back.

Scaling the node group to zero alone saves nothing on an autoscaled pool: the HPA keeps
`min_replicas` pods, they stay pending, and the cluster-autoscaler brings the GPU nodes back.
So at `schedule.stop` a CronJob scales the Deployment to 0 replicas, which also stops the HPA
("autoscaling is disabled for the target while its replicas are 0":
https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#implicit-maintenance-mode-deactivation),
and at `schedule.start` another scales it back to `min_replicas`, from where the HPA resumes.

In the cluster rather than from the off-hours Lambda: the CronJobs run in the team's namespace
under a ServiceAccount whose Role may only get and patch `deployments/scale` there, and need
no AWS credentials and no EKS access entry for the function. CronJob `timeZone` (stable since
Kubernetes 1.27: https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones)
keeps them in step with the EventBridge Scheduler schedules, which use the same IANA zone.
"""

from __future__ import annotations

import json
from typing import Mapping, Sequence

from cdktf import ITerraformDependable, TerraformProvider
from cdktf_cdktf_provider_kubernetes.cron_job_v1 import (
    CronJobV1,
    CronJobV1Metadata,
    CronJobV1Spec,
    CronJobV1SpecJobTemplate,
    CronJobV1SpecJobTemplateMetadata,
    CronJobV1SpecJobTemplateSpec,
    CronJobV1SpecJobTemplateSpecTemplate,
    CronJobV1SpecJobTemplateSpecTemplateMetadata,
    CronJobV1SpecJobTemplateSpecTemplateSpec,
    CronJobV1SpecJobTemplateSpecTemplateSpecContainer,
    CronJobV1SpecJobTemplateSpecTemplateSpecContainerEnv,
    CronJobV1SpecJobTemplateSpecTemplateSpecContainerResources,
    CronJobV1SpecJobTemplateSpecTemplateSpecContainerSecurityContext,
    CronJobV1SpecJobTemplateSpecTemplateSpecContainerSecurityContextCapabilities,
    CronJobV1SpecJobTemplateSpecTemplateSpecContainerVolumeMount,
    CronJobV1SpecJobTemplateSpecTemplateSpecSecurityContext,
    CronJobV1SpecJobTemplateSpecTemplateSpecSecurityContextSeccompProfile,
    CronJobV1SpecJobTemplateSpecTemplateSpecVolume,
    CronJobV1SpecJobTemplateSpecTemplateSpecVolumeEmptyDir,
)
from cdktf_cdktf_provider_kubernetes.role_binding_v1 import (
    RoleBindingV1,
    RoleBindingV1Metadata,
    RoleBindingV1RoleRef,
    RoleBindingV1Subject,
)
from cdktf_cdktf_provider_kubernetes.role_v1 import RoleV1, RoleV1Metadata, RoleV1Rule
from cdktf_cdktf_provider_kubernetes.service_account_v1 import ServiceAccountV1, ServiceAccountV1Metadata
from constructs import Construct

from generators import kubernetes, naming
from generators.model import InferencePool, Schedule, hour_minute

# The kubectl image is the cluster's (generators.model.KUBECTL_IMAGES: one minor per cluster
# version, as the skew policy asks). `kubectl patch --subresource` is beta, on by default, from
# 1.27 and GA in 1.33 (https://kubernetes.io/docs/reference/kubectl/generated/kubectl_patch/).
# Cron day-of-week numbers (0 = Sunday): https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#schedule-syntax
CRON_DAYS = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
# A run missed by more than this (controller down, cluster upgrade) is skipped, not run late:
# a stop at lunchtime would take the service down while people use it. Same hour as the
# EventBridge Scheduler schedules' retry window (modules/offhours_schedule.py).
STARTING_DEADLINE_SECONDS = 3600
BACKOFF_LIMIT = 3
# A finished Job and its pod are kept a day for `kubectl logs`, then removed.
TTL_SECONDS_AFTER_FINISHED = 86_400
# Requests equal limits (Guaranteed QoS). kubectl's API discovery on a cluster with many CRDs
# outgrows 64 Mi and the container is OOM-killed before it patches anything; 128 Mi leaves room.
CPU = "50m"
MEMORY = "128Mi"
# Any unprivileged uid: kubectl only reads its service account token and talks to the API.
RUN_AS_USER = 65532
# kubectl writes its discovery cache under $HOME; the root filesystem is read-only, so HOME is
# a small scratch volume.
SCRATCH = "/tmp"


def cron(hhmm: str, weekdays: list[str]) -> str:
    hours, minutes = hour_minute(hhmm)
    days = ",".join(str(CRON_DAYS[day]) for day in sorted(weekdays, key=CRON_DAYS.__getitem__))
    return f"{minutes} {hours} * * {days}"


def scale_args(deployment: str, namespace: str, replicas: int) -> list[str]:
    """kubectl arguments that set the Deployment's replicas through its scale subresource only."""
    patch = json.dumps({"spec": {"replicas": replicas}}, separators=(",", ":"))
    return ["patch", "deployment", deployment, "--namespace", namespace, "--subresource=scale", "--type=merge", f"--patch={patch}"]


class ServingSchedule(Construct):
    """The ServiceAccount, Role, RoleBinding and the stop and start CronJobs of one pool.

    Args:
        pool: the team manifest's validated inference pool; it must have `autoscaling` (the
            Deployment the CronJobs scale), else ValueError.
        schedule: the team's validated schedule (the CronJobs' times and time zone).
        labels: the team's Kubernetes labels (generators/labels.py).
        provider: the cluster's Kubernetes provider.
        team: whose pool it is; the objects' names carry it, so teams sharing a namespace never
            collide.
        kubectl_image: the kubectl matching the pool's cluster version (generators.model.KUBECTL_IMAGES).
        after: what must exist first (the namespace, when the stack creates it); default none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        pool: InferencePool,
        schedule: Schedule,
        labels: Mapping[str, str],
        provider: TerraformProvider,
        team: str,
        kubectl_image: str,
        after: Sequence[ITerraformDependable] = (),
    ) -> None:
        super().__init__(scope, id)
        self._team = team
        self._after = list(after)
        self._kubectl_image = kubectl_image
        autoscaling = pool.autoscaling
        if autoscaling is None:
            raise ValueError(f"pool {pool.name} has no autoscaling, so no Deployment to scale")
        namespace, deployment = autoscaling.namespace, autoscaling.deployment
        name = naming.serving_scaler(team, pool.name)
        self._labels = dict(labels)
        account = ServiceAccountV1(
            self,
            "service-account",
            provider=provider,
            depends_on=self._after,
            metadata=ServiceAccountV1Metadata(name=name, namespace=namespace, labels=dict(labels)),
            # Only the CronJobs' pods mount its token (automount_service_account_token below).
            automount_service_account_token=False,
        )
        RoleV1(
            self,
            "role",
            provider=provider,
            depends_on=self._after,
            metadata=RoleV1Metadata(name=name, namespace=namespace, labels=dict(labels)),
            rule=[
                RoleV1Rule(
                    api_groups=[kubernetes.SCALE_RULE_GROUP],
                    resources=[f"{kubernetes.SCALE_RULE_RESOURCE}/{kubernetes.SCALE_RULE_SUBRESOURCE}"],
                    resource_names=[deployment],
                    verbs=list(kubernetes.SCALE_RULE_VERBS),
                )
            ],
        )
        RoleBindingV1(
            self,
            "role-binding",
            provider=provider,
            depends_on=self._after,
            metadata=RoleBindingV1Metadata(name=name, namespace=namespace, labels=dict(labels)),
            role_ref=RoleBindingV1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name=name),
            subject=[RoleBindingV1Subject(kind="ServiceAccount", name=account.metadata.name, namespace=namespace)],
        )
        self.cronjobs = [
            self._cronjob(provider, pool.name, action, at, schedule, namespace, deployment, replicas)
            for action, at, replicas in (("stop", schedule.stop, 0), ("start", schedule.start, autoscaling.min_replicas))
        ]

    def _cronjob(
        self,
        provider: TerraformProvider,
        pool: str,
        action: str,
        at: str,
        schedule: Schedule,
        namespace: str,
        deployment: str,
        replicas: int,
    ) -> CronJobV1:
        container = CronJobV1SpecJobTemplateSpecTemplateSpecContainer(
            name="kubectl",
            image=self._kubectl_image,
            image_pull_policy="IfNotPresent",
            args=scale_args(deployment, namespace, replicas),
            env=[CronJobV1SpecJobTemplateSpecTemplateSpecContainerEnv(name="HOME", value=SCRATCH)],
            volume_mount=[CronJobV1SpecJobTemplateSpecTemplateSpecContainerVolumeMount(name="scratch", mount_path=SCRATCH)],
            resources=CronJobV1SpecJobTemplateSpecTemplateSpecContainerResources(
                requests={"cpu": CPU, "memory": MEMORY}, limits={"cpu": CPU, "memory": MEMORY}
            ),
            security_context=CronJobV1SpecJobTemplateSpecTemplateSpecContainerSecurityContext(
                allow_privilege_escalation=False,
                privileged=False,
                read_only_root_filesystem=True,
                run_as_non_root=True,
                capabilities=CronJobV1SpecJobTemplateSpecTemplateSpecContainerSecurityContextCapabilities(drop=["ALL"]),
            ),
        )
        pod = CronJobV1SpecJobTemplateSpecTemplateSpec(
            service_account_name=naming.serving_scaler(self._team, pool),
            automount_service_account_token=True,
            restart_policy="OnFailure",
            security_context=CronJobV1SpecJobTemplateSpecTemplateSpecSecurityContext(
                run_as_non_root=True,
                run_as_user=str(RUN_AS_USER),
                run_as_group=str(RUN_AS_USER),
                seccomp_profile=CronJobV1SpecJobTemplateSpecTemplateSpecSecurityContextSeccompProfile(type="RuntimeDefault"),
            ),
            volume=[
                CronJobV1SpecJobTemplateSpecTemplateSpecVolume(
                    name="scratch", empty_dir=CronJobV1SpecJobTemplateSpecTemplateSpecVolumeEmptyDir(size_limit="16Mi")
                )
            ],
            container=[container],
        )
        return CronJobV1(
            self,
            f"cronjob-{action}",
            provider=provider,
            depends_on=self._after,
            metadata=CronJobV1Metadata(name=naming.serving_cronjob(self._team, pool, action), namespace=namespace, labels=self._labels),
            spec=CronJobV1Spec(
                schedule=cron(at, list(schedule.weekdays)),
                timezone=schedule.timezone,
                concurrency_policy="Forbid",
                starting_deadline_seconds=STARTING_DEADLINE_SECONDS,
                successful_jobs_history_limit=1,
                failed_jobs_history_limit=3,
                job_template=CronJobV1SpecJobTemplate(
                    metadata=CronJobV1SpecJobTemplateMetadata(labels=self._labels),
                    spec=CronJobV1SpecJobTemplateSpec(
                        backoff_limit=BACKOFF_LIMIT,
                        ttl_seconds_after_finished=str(TTL_SECONDS_AFTER_FINISHED),
                        template=CronJobV1SpecJobTemplateSpecTemplate(
                            metadata=CronJobV1SpecJobTemplateSpecTemplateMetadata(labels=self._labels), spec=pod
                        ),
                    ),
                ),
            ),
        )
