"""An autoscaled EKS managed GPU node group on a shared cluster, tagged down to each instance."""

from __future__ import annotations

from typing import Mapping

from cdktf import TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.autoscaling_group_tag import AutoscalingGroupTagA, AutoscalingGroupTagTag
from cdktf_cdktf_provider_aws.eks_node_group import (
    EksNodeGroup,
    EksNodeGroupLaunchTemplate,
    EksNodeGroupScalingConfig,
    EksNodeGroupTaint,
)
from cdktf_cdktf_provider_aws.launch_template import (
    LaunchTemplate,
    LaunchTemplateBlockDeviceMappings,
    LaunchTemplateBlockDeviceMappingsEbs,
    LaunchTemplateMetadataOptions,
    LaunchTemplateMonitoring,
    LaunchTemplateTagSpecifications,
)
from constructs import Construct

from generators import catalog, naming
from generators.model import Cluster, InferencePool
from lambdas.offhours.contract import MAX_NODES_TAG, MIN_NODES_TAG
from modules.context import TeamContext

# AL2 GPU AMIs reached end of support in November 2025; AL2023 NVIDIA and AL2023 Neuron are the
# supported accelerator AMI types for managed node groups; each pool's is its accelerator kind's
# (generators/catalog.py, AcceleratorKind.eks_ami_type).
# Root device of the EKS-optimized AL2023 AMIs.
ROOT_DEVICE = "/dev/xvda"


def accelerator_taint(kind: catalog.AcceleratorKind) -> EksNodeGroupTaint:
    """Pods that do not ask for the accelerator must not land on (and keep alive) its nodes."""
    return EksNodeGroupTaint(key=kind.k8s_resource, value="true", effect="NO_SCHEDULE")


# Launch-template tag specifications are the only way the node group's instances, volumes and
# network interfaces get tags: node group tags are not propagated to them
# (https://docs.aws.amazon.com/eks/latest/userguide/launch-templates.html, "Tagging").
TAGGED_RESOURCE_TYPES = ("instance", "volume", "network-interface")
# IMDSv2 with a hop limit of 1: processes on the node (kubelet, hostNetwork daemons such as the
# VPC CNI) reach IMDS, pods in their own network namespace do not, so a pod cannot borrow the
# node role. Pods get AWS credentials from IRSA or EKS Pod Identity instead, as the EKS best
# practices guide recommends ("Restrict access to the instance profile assigned to the worker
# node": https://docs.aws.amazon.com/eks/latest/best-practices/identity-and-access-management.html).
IMDS_HOP_LIMIT = 1
# cluster-autoscaler builds a node template from these tags to scale a group up from zero
# (https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/cloudprovider/aws/README.md,
# "Scaling a node group to 0"); for managed node groups it also reads labels and taints from
# EKS DescribeNodegroup, so these are the fallback that works with every CA version.
CA_PREFIX = "k8s.io/cluster-autoscaler"


def autoscaler_tags(cluster: str, node_labels: Mapping[str, str], kind: catalog.AcceleratorKind, accelerators: int) -> dict[str, str]:
    tags = {f"{CA_PREFIX}/enabled": "true", f"{CA_PREFIX}/{cluster}": "owned"}
    tags.update(node_template_tags(node_labels, kind, accelerators))
    return tags


def node_template_tags(node_labels: Mapping[str, str], kind: catalog.AcceleratorKind, accelerators: int) -> dict[str, str]:
    """What cluster-autoscaler must know of a node it has not started yet: labels, taint and
    accelerators (nvidia.com/gpu, or aws.amazon.com/neuroncore for Neuron pools)."""
    tags = {f"{CA_PREFIX}/node-template/label/{key}": value for key, value in node_labels.items()}
    tags[f"{CA_PREFIX}/node-template/taint/{kind.k8s_resource}"] = "true:NoSchedule"
    tags[f"{CA_PREFIX}/node-template/resources/{kind.k8s_resource}"] = str(accelerators)
    return tags


def tag_construct_id(key: str) -> str:
    """A construct id for one tag key: '/' separates construct paths, so it cannot appear in an id."""
    return "asg-tag-" + key.removeprefix(f"{CA_PREFIX}/node-template/").replace("/", "--")


class InferenceNodePool(Construct):
    """`pool` as an EKS managed node group plus the launch template that tags what it launches.

    Args:
        pool: the team manifest's validated inference pool (types, market, bounds, volume).
        cluster: the org's cluster the pool joins (node role, subnets).
        node_labels: the pool's Kubernetes node labels (generators/labels.py).
        offhours_managed: whether the team's off-hours function scales this pool (then Terraform
            ignores all of scaling_config after creation; else only desired_size).
        context: the team, region and tags (modules/context.py).

    Attributes: `node_group`, `node_group_name`, `launch_template`.
    """

    @staticmethod
    def _ignored_scaling(offhours_managed: bool) -> str:
        """What of the scaling Terraform leaves alone after creation.

        The cluster-autoscaler owns the desired size, so Terraform never sets it back. When the
        team's off-hours function manages the pool (a schedule, or a deny-new-gpu budget), it
        owns min and max too: an apply at night must not bring nodes back, nor an apply lift a
        budget cap. A changed min_nodes/max_nodes then reaches the pool through the node group's
        bound tags, which the apply changes and the function applies (modules/offhours_schedule.py).
        """
        return "scaling_config" if offhours_managed else "scaling_config[0].desired_size"

    @staticmethod
    def _bound_tags(pool: InferencePool, offhours_managed: bool) -> dict[str, str]:
        if not offhours_managed:
            return {}
        return {MIN_NODES_TAG: str(pool.min_nodes), MAX_NODES_TAG: str(pool.max_nodes)}

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        pool: InferencePool,
        cluster: Cluster,
        node_labels: Mapping[str, str],
        offhours_managed: bool,
        context: TeamContext,
    ) -> None:
        super().__init__(scope, id)
        name = naming.node_group(context.team, pool.name)
        tags = context.tags
        instance_tags = {**tags, "Name": name}
        self.launch_template = LaunchTemplate(
            self,
            "launch-template",
            name=naming.launch_template(context.team, pool.name),
            description=f"GPU nodes of {name} (genai-finops)",
            update_default_version=True,
            metadata_options=LaunchTemplateMetadataOptions(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=IMDS_HOP_LIMIT
            ),
            monitoring=LaunchTemplateMonitoring(enabled=True),
            ebs_optimized="true",
            block_device_mappings=[
                LaunchTemplateBlockDeviceMappings(
                    device_name=ROOT_DEVICE,
                    ebs=LaunchTemplateBlockDeviceMappingsEbs(
                        encrypted="true", volume_type="gp3", volume_size=pool.node_volume_gb, delete_on_termination="true"
                    ),
                )
            ],
            tag_specifications=[
                LaunchTemplateTagSpecifications(resource_type=kind, tags=dict(instance_tags)) for kind in TAGGED_RESOURCE_TYPES
            ],
            tags=dict(tags),
        )
        # A pool mixing types is templated with the smallest accelerator count, so the autoscaler
        # never promises a pending pod more GPUs (or NeuronCores) than a new node may have.
        # Validation keeps a pool to one accelerator kind.
        types = [catalog.INSTANCE_TYPES[t] for t in pool.instance_types]
        kind = types[0].kind
        accelerators = min(t.accelerators for t in types)
        self.node_group = EksNodeGroup(
            self,
            "node-group",
            cluster_name=pool.cluster,
            node_group_name=name,
            node_role_arn=cluster.node_role_arn,
            subnet_ids=list(cluster.subnet_ids),
            instance_types=list(pool.instance_types),
            capacity_type="SPOT" if pool.market == "spot" else "ON_DEMAND",
            ami_type=kind.eks_ami_type,
            scaling_config=EksNodeGroupScalingConfig(
                min_size=pool.min_nodes, max_size=pool.max_nodes, desired_size=pool.desired_nodes
            ),
            labels=dict(node_labels),
            taint=[accelerator_taint(kind)],
            launch_template=EksNodeGroupLaunchTemplate(
                id=self.launch_template.id, version=Token.as_string(self.launch_template.latest_version)
            ),
            tags={**tags, **autoscaler_tags(pool.cluster, node_labels, kind, accelerators), **self._bound_tags(pool, offhours_managed)},
            lifecycle=TerraformResourceLifecycle(ignore_changes=[self._ignored_scaling(offhours_managed)]),
        )
        self.node_group_name: str = name
        # EKS does not copy node group tags to the Auto Scaling group it creates
        # (https://github.com/aws/containers-roadmap/issues/608,
        # https://github.com/eksctl-io/eksctl/issues/1571), and cluster-autoscaler reads the
        # node-template tags from the ASG: without them a pool at zero nodes never scales up for
        # a pod that needs its GPU label, taint toleration or accelerator resource. So each is put on
        # the ASG itself. Not propagated at launch: instances get their tags from the launch template.
        asg_name = self.node_group.resources.get(0).autoscaling_groups.get(0).name
        for key, value in node_template_tags(node_labels, kind, accelerators).items():
            AutoscalingGroupTagA(
                self,
                tag_construct_id(key),
                autoscaling_group_name=asg_name,
                tag=AutoscalingGroupTagTag(key=key, value=value, propagate_at_launch=False),
            )
