"""GPU training / fine-tuning instances: one training entry of a manifest, `count` EC2 instances."""

from __future__ import annotations

from cdktf import DataResource, LocalExecProvisioner, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.instance import (
    Instance,
    InstanceInstanceMarketOptions,
    InstanceInstanceMarketOptionsSpotOptions,
    InstanceMetadataOptions,
    InstanceRootBlockDevice,
)
from constructs import Construct

from generators import naming
from generators.model import Network, TrainingJob
from modules.context import TeamContext

# A persistent Spot request "remains active until the ValidUntil date and time is reached"; left
# out, it is "7 days from the current date" (RunInstances SpotMarketOptions.ValidUntil:
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_SpotMarketOptions.html). Once the
# request has expired, an instance that off-hours or a budget action stopped cannot be started
# again, so a week after the first apply spot training would silently stop working.
# A fixed date rather than "now + N": a date computed at synth time would change on every synth
# and replace the instances on every apply. When it comes near, move it (and note that the new
# date replaces each spot training instance: plan the apply between runs); tests/test_deployability.py
# fails once fewer than 180 days are left, so the move happens months ahead.
SPOT_REQUEST_VALID_UNTIL = "2028-12-31T00:00:00Z"

# When Terraform replaces or destroys a persistent spot instance, the provider may leave its
# request open, and EC2 then launches an untracked GPU instance, billed until ValidUntil
# (terraform-provider-aws #38142; the fix, #41206, is not confirmed shipped). So each spot
# instance has a guard (terraform_data) that depends on it: it is destroyed first, and its
# destroy-time provisioner cancels the request
# (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CancelSpotInstanceRequests.html),
# a request already gone being no error. It runs the AWS CLI the applying machine already needs
# (README, Deploying), with the apply's credentials, which need ec2:CancelSpotInstanceRequests.
# An instance the provider read no request id for (none to cancel) is no error either.
CANCEL_SPOT_REQUEST = (
    '[ -z "${self.output.request}" ] || { '
    'out=$(aws ec2 cancel-spot-instance-requests --region "${self.output.region}" '
    '--spot-instance-request-ids "${self.output.request}" 2>&1) || '
    'case "$out" in *InvalidSpotInstanceRequestID.NotFound*) ;; *) echo "$out" >&2; exit 1 ;; esac; }'
)


class GpuTrainingInstance(Construct):
    """`job.count` instances of `job.instance_type`, locked down by default.

    IMDSv2 only, encrypted gp3 root volume, detailed monitoring, EBS-optimized, no public IP,
    in the org's subnet and security groups. Spot instances are persistent requests that
    *stop* on interruption, so the off-hours function can stop and start them like on-demand
    ones (a one-time spot instance cannot be stopped:
    https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/how-spot-instances-work.html).

    Args:
        job: the team manifest's validated training job (type, count, market, root volume).
        network: the org's network for the team's region (one subnet, its security groups).
        ami_id: the image to launch (modules/deep_learning_ami.py); later AMI changes are ignored.
        instance_profile: the instance profile name (modules/training_instance_profile.py).
        context: the team, region and tags (modules/context.py).

    Attributes: `instances`, `instance_ids`.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        job: TrainingJob,
        network: Network,
        ami_id: str,
        instance_profile: str,
        context: TeamContext,
    ) -> None:
        super().__init__(scope, id)
        market = None
        if job.market == "spot":
            market = InstanceInstanceMarketOptions(
                market_type="spot",
                spot_options=InstanceInstanceMarketOptionsSpotOptions(
                    spot_instance_type="persistent",
                    instance_interruption_behavior="stop",
                    valid_until=SPOT_REQUEST_VALID_UNTIL,
                ),
            )
        self.instances: list[Instance] = []
        for index in range(job.count):
            name = naming.training_instance(context.team, job.name, index)
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
                    tags={**context.tags, "Name": name},
                ),
                instance_market_options=market,
                tags={**context.tags, "Name": name},
                # A new Deep Learning AMI is published often; picking it up must not replace a
                # running training box. New instances get the current AMI.
                lifecycle=TerraformResourceLifecycle(ignore_changes=["ami"]),
            )
            self.instances.append(instance)
            if market is not None:
                DataResource(
                    self,
                    f"{index}-spot-request-guard",
                    input={"request": instance.spot_instance_request_id, "region": context.region},
                    # A replaced instance replaces its guard, which cancels the old request first.
                    triggers_replace={"instance": instance.id},
                    provisioners=[LocalExecProvisioner(type="local-exec", when="destroy", command=CANCEL_SPOT_REQUEST)],
                )
        self.instance_ids: list[str] = [instance.id for instance in self.instances]
