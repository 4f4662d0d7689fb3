"""One team's stack: its GPU training instances, inference pools, managed models' Bedrock profiles, budget and off-hours schedule."""

from __future__ import annotations

from pathlib import Path

from cdktf import Fn, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_eks_cluster import DataAwsEksCluster
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from cdktf_cdktf_provider_kubernetes.namespace_v1 import NamespaceV1
from cdktf_cdktf_provider_kubernetes.provider import KubernetesProvider, KubernetesProviderExec
from constructs import Construct

from generators import labels, tags
from generators.model import OrgPolicy, TeamManifest
from generators.provision.app_builder import StackPlan
from modules.anomaly_monitor import TeamAnomalyMonitor
from modules.context import TeamContext
from modules.deep_learning_ami import DeepLearningAmi
from modules.gpu_training_instance import GpuTrainingInstance
from modules.inference_node_pool import InferenceNodePool
from modules.managed_model_access import ManagedModelAccess
from modules.offhours_schedule import OffHoursSchedule
from modules.serving_autoscaler import ServingAutoscaler
from modules.serving_schedule import ServingSchedule
from modules.team_budget import TeamBudget
from modules.team_namespace import TeamNamespace
from modules.training_instance_profile import TrainingInstanceProfile
from stacks.state import configure_state


class TeamStack(TerraformStack):
    def __init__(self, scope: Construct, plan: StackPlan, org: OrgPolicy, stack_dir: Path) -> None:
        super().__init__(scope, plan.name)
        team = plan.team
        assert team is not None, "a TeamStack is planned with its manifest"
        base = tags.base_tags(team)
        AwsProvider(self, "aws", region=team.region, default_tags=[AwsProviderDefaultTags(tags=base)])
        configure_state(self, plan.state, stack_dir)

        # The stack decides each construct's context (tags with the model's ModelID, or the
        # team's base tags) and which optional parts exist; the constructs build what they get.
        context = TeamContext(team=team.team, region=team.region, tags=base)

        def for_model(model_id: str) -> TeamContext:
            return TeamContext(team=team.team, region=team.region, tags=tags.model_tags(team, model_id))

        instance_ids: list[str] = []
        if team.training:
            ami = DeepLearningAmi(self, "deep-learning-ami")
            profile = TrainingInstanceProfile(self, "training-profile", context=context)
            for job in team.training:
                training = GpuTrainingInstance(
                    self,
                    f"training-{job.name}",
                    job=job,
                    network=org.networks[team.region],
                    ami_id=ami.ami_id,
                    instance_profile=profile.name,
                    context=for_model(job.model_id),
                )
                instance_ids.extend(training.instance_ids)

        kubernetes: dict[str, KubernetesProvider] = {}
        self._namespaces: dict[tuple[str, str], NamespaceV1] = {}
        node_groups = []
        for pool in team.inference:
            pool_labels = labels.node_labels(team, pool)
            node_groups.append(
                InferenceNodePool(
                    self,
                    f"inference-{pool.name}",
                    pool=pool,
                    cluster=org.clusters[pool.cluster],
                    node_labels=pool_labels,
                    offhours_managed=team.capacity_function,
                    context=for_model(pool.model_id),
                ).node_group
            )
            if pool.autoscaling is not None:
                if pool.cluster not in kubernetes:
                    kubernetes[pool.cluster] = self._kubernetes_provider(pool.cluster, team.region)
                after = self._namespace(org, team, pool.cluster, pool.autoscaling.namespace, kubernetes[pool.cluster])
                ServingAutoscaler(
                    self,
                    f"autoscaler-{pool.name}",
                    autoscaling=pool.autoscaling,
                    labels=pool_labels,
                    provider=kubernetes[pool.cluster],
                    after=after,
                )
                if team.schedule is not None:
                    ServingSchedule(
                        self,
                        f"serving-schedule-{pool.name}",
                        pool=pool,
                        schedule=team.schedule,
                        labels=pool_labels,
                        provider=kubernetes[pool.cluster],
                        team=team.team,
                        kubectl_image=org.clusters[pool.cluster].kubectl_image,
                        after=after,
                    )

        for managed in team.managed_models:
            ManagedModelAccess(self, f"managed-{managed.name}", model=managed, context=for_model(managed.model_id))

        budget = TeamBudget(
            self, "budget", budget=team.budget, recipients=team.alert_recipients, training_instance_ids=instance_ids, context=context,
            anomaly_alerts=org.anomalies.create_monitors,
        )
        if org.anomalies.create_monitors:
            TeamAnomalyMonitor(self, "anomalies", team=team.team, threshold_usd=org.anomalies.alert_threshold_usd, topic_arn=budget.topic_arn,
                               topic_policy=budget.topic_policy, tags=context.tags)
        if team.capacity_function:
            OffHoursSchedule(
                self,
                "offhours",
                team=team,
                budget_topic_arn=budget.topic_arn,
                node_groups=node_groups,
                training_instance_ids=instance_ids,
                context=context,
            )

    def _namespace(self, org: OrgPolicy, team: TeamManifest, cluster: str, name: str, provider: KubernetesProvider) -> list[NamespaceV1]:
        """The namespace the team's objects there wait for: created here with create_namespaces, else none (it must exist)."""
        if not org.clusters[cluster].create_namespaces:
            return []
        key = (cluster, name)
        if key not in self._namespaces:
            self._namespaces[key] = TeamNamespace(
                self, f"namespace-{cluster}-{name}", name=name, labels=labels.team_labels(team), provider=provider
            ).namespace
        return [self._namespaces[key]]

    def _kubernetes_provider(self, cluster: str, region: str) -> KubernetesProvider:
        """A Kubernetes provider for one shared cluster, authenticated per request by `aws eks get-token`.

        Not `data.aws_eks_cluster_auth`: its token is read once, at plan time, and expires after
        15 minutes, so a slow apply or an apply that waits for approval fails half-way
        (https://registry.terraform.io/providers/hashicorp/aws/latest/docs/data-sources/eks_cluster_auth,
        https://registry.terraform.io/providers/hashicorp/kubernetes/latest/docs#exec-plugins).
        The exec plugin fetches a fresh token whenever the provider needs one; the machine that
        applies needs the AWS CLI, as `cdktf deploy` users already have.
        """
        eks = DataAwsEksCluster(self, f"eks-{cluster}", name=cluster)
        return KubernetesProvider(
            self,
            f"kubernetes-{cluster}",
            alias=cluster.replace("-", "_"),
            host=eks.endpoint,
            cluster_ca_certificate=Fn.base64decode(eks.certificate_authority.get(0).data),
            exec=[
                KubernetesProviderExec(
                    api_version=EKS_TOKEN_API_VERSION,
                    command="aws",
                    args=["eks", "get-token", "--cluster-name", cluster, "--region", region, "--output", "json"],
                )
            ],
        )


# The client authentication API version `aws eks get-token` prints (ExecCredential):
# https://docs.aws.amazon.com/cli/latest/reference/eks/get-token.html
EKS_TOKEN_API_VERSION = "client.authentication.k8s.io/v1beta1"
