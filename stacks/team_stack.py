"""One team's stack: its GPU training instances, inference pools, budget and off-hours schedule."""

from __future__ import annotations

from pathlib import Path

from cdktf import Fn, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_eks_cluster import DataAwsEksCluster
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from cdktf_cdktf_provider_kubernetes.provider import KubernetesProvider, KubernetesProviderExec
from constructs import Construct

from generators import labels, tags
from generators.app_builder import StackPlan
from generators.model import OrgPolicy
from modules.deep_learning_ami import DeepLearningAmi
from modules.gpu_training_instance import GpuTrainingInstance
from modules.inference_node_pool import InferenceNodePool
from modules.offhours_schedule import OffHoursSchedule
from modules.serving_autoscaler import ServingAutoscaler
from modules.serving_schedule import ServingSchedule
from modules.team_budget import TeamBudget
from modules.training_instance_profile import TrainingInstanceProfile
from stacks.state import configure_state


class TeamStack(TerraformStack):
    def __init__(self, scope: Construct, plan: StackPlan, org: OrgPolicy, stack_dir: Path) -> None:
        super().__init__(scope, plan.name)
        team = plan.team
        assert team is not None, "a TeamStack is planned with its manifest"
        base = tags.base_tags(team, org)
        AwsProvider(self, "aws", region=team.region, default_tags=[AwsProviderDefaultTags(tags=base)])
        configure_state(self, plan.state, stack_dir)

        instance_ids: list[str] = []
        if team.training:
            ami = DeepLearningAmi(self, "deep-learning-ami")
            profile = TrainingInstanceProfile(self, "training-profile", team=team, tags=base)
            for job in team.training:
                training = GpuTrainingInstance(
                    self,
                    f"training-{job.name}",
                    job=job,
                    team=team,
                    network=org.networks[team.region],
                    ami_id=ami.ami_id,
                    instance_profile=profile.name,
                    tags=tags.model_tags(team, org, job.model_id),
                )
                instance_ids.extend(training.instance_ids)

        kubernetes: dict[str, KubernetesProvider] = {}
        node_groups = []
        for pool in team.inference:
            node_groups.append(
                InferenceNodePool(
                    self,
                    f"inference-{pool.name}",
                    pool=pool,
                    team=team,
                    cluster=org.clusters[pool.cluster],
                    tags=tags.model_tags(team, org, pool.model_id),
                ).node_group
            )
            if pool.autoscaling is not None:
                if pool.cluster not in kubernetes:
                    kubernetes[pool.cluster] = self._kubernetes_provider(pool.cluster, team.region)
                pool_labels = labels.node_labels(team, pool)
                ServingAutoscaler(
                    self,
                    f"autoscaler-{pool.name}",
                    autoscaling=pool.autoscaling,
                    labels=pool_labels,
                    provider=kubernetes[pool.cluster],
                )
                if team.schedule is not None:
                    ServingSchedule(
                        self,
                        f"serving-schedule-{pool.name}",
                        pool=pool,
                        schedule=team.schedule,
                        labels=pool_labels,
                        provider=kubernetes[pool.cluster],
                    )

        budget = TeamBudget(self, "budget", manifest=team, tags=base, training_instance_ids=instance_ids)
        if team.capacity_function:
            OffHoursSchedule(self, "offhours", manifest=team, tags=base, budget_topic_arn=budget.topic_arn, node_groups=node_groups)

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
