"""GPU training / fine-tuning instances: one training entry of a manifest, `count` EC2 instances."""

from __future__ import annotations

from typing import Mapping

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.instance import (
    Instance,
    InstanceInstanceMarketOptions,
    InstanceInstanceMarketOptionsSpotOptions,
    InstanceMetadataOptions,
    InstanceRootBlockDevice,
)
from constructs import Construct

from generators.model import Network, TeamManifest, TrainingJob


class GpuTrainingInstance(Construct):
    """`job.count` instances of `job.instance_type`, locked down by default.

    IMDSv2 only, encrypted gp3 root volume, detailed monitoring, EBS-optimized, no public IP,
    in the org's subnet and security groups. Spot instances are persistent requests that
    *stop* on interruption, so the off-hours function can stop and start them like on-demand
    ones (a one-time spot instance cannot be stopped:
    https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/how-spot-instances-work.html).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        job: TrainingJob,
        team: TeamManifest,
        network: Network,
        ami_id: str,
        instance_profile: str,
        tags: Mapping[str, str],
    ) -> None:
        super().__init__(scope, id)
        market = None
        if job.market == "spot":
            market = InstanceInstanceMarketOptions(
                market_type="spot",
                spot_options=InstanceInstanceMarketOptionsSpotOptions(
                    spot_instance_type="persistent", instance_interruption_behavior="stop"
                ),
            )
        self.instances: list[Instance] = []
        for index in range(job.count):
            name = f"{team.team}-{job.name}-{index}"
            instance = Instance(
                self,
                str(index),
                ami=ami_id,
                instance_type=job.instance_type,
                subnet_id=network.subnet_id,
                vpc_security_group_ids=list(network.security_group_ids),
                iam_instance_profile=instance_profile,
                associate_public_ip_address=False,
                monitoring=True,
                ebs_optimized=True,
                metadata_options=InstanceMetadataOptions(
                    http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1
                ),
                root_block_device=InstanceRootBlockDevice(
                    encrypted=True,
                    volume_type="gp3",
                    volume_size=job.root_volume_gb,
                    delete_on_termination=True,
                    # Provider default_tags do not reach volumes; tag the root volume itself.
                    tags={**tags, "Name": name},
                ),
                instance_market_options=market,
                tags={**tags, "Name": name},
                # A new Deep Learning AMI is published often; picking it up must not replace a
                # running training box. New instances get the current AMI.
                lifecycle=TerraformResourceLifecycle(ignore_changes=["ami"]),
            )
            self.instances.append(instance)
        self.instance_ids: list[str] = [instance.id for instance in self.instances]
