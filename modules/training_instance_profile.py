"""The instance profile of a team's GPU training instances: Session Manager access and nothing else."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.iam_instance_profile import IamInstanceProfile
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from generators import naming
from modules.context import TeamContext
from modules.iam_documents import policy_document

# The instances have no public IP and no SSH key: people reach them through Session Manager,
# which needs exactly this AWS managed policy on the instance role
# (https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-instance-permissions.html).
# Training code that reads data from S3 gets its own rights from the team, not from us.
# The ARN's partition comes from data.aws_partition (aws, aws-cn, aws-us-gov, ...).
SSM_CORE_POLICY = "AmazonSSMManagedInstanceCore"


class TrainingInstanceProfile(Construct):
    """The role and instance profile of a team's training instances: EC2 trust and
    AmazonSSMManagedInstanceCore (Session Manager instead of SSH).

    Args:
        context: the team, region and tags (modules/context.py).

    Attributes: `name`, the instance profile's.
    """

    def __init__(self, scope: Construct, id: str, *, context: TeamContext) -> None:
        super().__init__(scope, id)
        trust = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        role = IamRole(
            self,
            "role",
            name=naming.training_role(context.team),
            description=f"GPU training instances of team {context.team} (genai-finops)",
            assume_role_policy=policy_document(trust),
            tags=dict(context.tags),
        )
        partition = DataAwsPartition(self, "partition").partition
        IamRolePolicyAttachment(self, "ssm-core", role=role.name, policy_arn=f"arn:{partition}:iam::aws:policy/{SSM_CORE_POLICY}")
        profile = IamInstanceProfile(self, "profile", name=naming.training_role(context.team), role=role.name, tags=dict(context.tags))
        self.name: str = profile.name
