"""An AWS Config recorder, its IAM role and a private, encrypted, versioned bucket for its delivery channel.

Most organisations already record with AWS Config (one recorder per account and region is all
AWS allows), so this is created only when the org policy asks for it.
"""

from __future__ import annotations

from typing import Mapping

from cdktf import ITerraformDependable, TerraformProvider
from cdktf_cdktf_provider_aws.config_configuration_recorder import (
    ConfigConfigurationRecorder,
    ConfigConfigurationRecorderRecordingGroup,
    ConfigConfigurationRecorderRecordingGroupRecordingStrategy,
)
from cdktf_cdktf_provider_aws.config_configuration_recorder_status import ConfigConfigurationRecorderStatus
from cdktf_cdktf_provider_aws.config_delivery_channel import ConfigDeliveryChannel
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from generators import naming
from generators.model import OrgPolicy
from modules.iam_documents import account_administers_key, policy_document
from modules.private_bucket import bucket_policy, private_bucket
from modules.required_tags_rule import compliance_resource_types

CONFIG_SERVICE = "config.amazonaws.com"
# The AWS managed policy that lets Config describe every resource type it records; AWS keeps
# it current as Config adds types
# (https://docs.aws.amazon.com/config/latest/developerguide/iamrole-permissions.html#iam-role-policies-describe-apis).
CONFIG_MANAGED_POLICY = "service-role/AWS_ConfigRole"
# Our own role rather than the service-linked role AWSServiceRoleForConfig: the service-linked
# role may already exist in the account (creating it again fails), and it cannot write to S3
# or use KMS, so Config would fall back to delivering as the service principal
# (https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-policy.html).

# A deleted key makes every delivered object unreadable; 30 is the longest waiting period KMS
# allows (https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html).
KEY_DELETION_WINDOW_DAYS = 30


class ConfigRecorder(Construct):
    """Recorder, delivery channel and recorder status in each region of `providers`, when
    org.governance.create_config_recorder; the key, bucket and role once.

    Args:
        org: the validated org policy; `governance.create_config_recorder` decides whether
            anything is created.
        tags: the governance stack's tags, on every taggable resource.
        providers: each region mapped to its provider (None: the stack's default provider, whose
            region gets the bucket). Required, no default.

    Attributes: `recorders`, each region mapped to its configuration recorder (for `depends_on`
    of that region's Config rules); empty when the org policy does not ask for one.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        org: OrgPolicy,
        tags: Mapping[str, str],
        providers: Mapping[str, TerraformProvider | None],
    ) -> None:
        super().__init__(scope, id)
        self.recorders: dict[str, ConfigConfigurationRecorder] = {}
        if not org.governance.create_config_recorder:
            return
        account_id = DataAwsCallerIdentity(self, "account").account_id
        partition = DataAwsPartition(self, "partition").partition
        from_this_account = {"StringEquals": {"AWS:SourceAccount": account_id}}

        key = KmsKey(
            self,
            "key",
            description="genai-finops: encrypts the AWS Config history and snapshots",
            enable_key_rotation=True,
            deletion_window_in_days=KEY_DELETION_WINDOW_DAYS,
            policy=policy_document(
                account_administers_key(partition, account_id),
                # For deliveries Config retries as its service principal when the role fails
                # (https://docs.aws.amazon.com/config/latest/developerguide/s3-kms-key-policy.html).
                {
                    "Sid": "AWSConfigKMSPolicy",
                    "Effect": "Allow",
                    "Principal": {"Service": CONFIG_SERVICE},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": "*",
                    "Condition": from_this_account,
                },
            ),
            tags=dict(tags),
        )

        delivery = private_bucket(self, name=naming.config_bucket(account_id), tags=tags, kms_key_arn=key.arn)
        bucket = delivery.bucket
        delivery_prefix = f"{bucket.arn}/AWSLogs/{account_id}/Config/*"
        delivery_policy = bucket_policy(
            self,
            delivery,
            # The three statements AWS documents for a Config delivery bucket, limited to
            # this account with AWS:SourceAccount as the page recommends
            # (https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-policy.html).
            {
                "Sid": "AWSConfigBucketPermissionsCheck",
                "Effect": "Allow",
                "Principal": {"Service": CONFIG_SERVICE},
                "Action": "s3:GetBucketAcl",
                "Resource": bucket.arn,
                "Condition": from_this_account,
            },
            {
                "Sid": "AWSConfigBucketExistenceCheck",
                "Effect": "Allow",
                "Principal": {"Service": CONFIG_SERVICE},
                "Action": "s3:ListBucket",
                "Resource": bucket.arn,
                "Condition": from_this_account,
            },
            {
                "Sid": "AWSConfigBucketDelivery",
                "Effect": "Allow",
                "Principal": {"Service": CONFIG_SERVICE},
                "Action": "s3:PutObject",
                "Resource": delivery_prefix,
                "Condition": {
                    "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "AWS:SourceAccount": account_id}
                },
            },
        )

        role = IamRole(
            self,
            "role",
            name=naming.config_role(),
            description="AWS Config recorder of genai-finops",
            # https://docs.aws.amazon.com/config/latest/developerguide/iamrole-permissions.html#iam-trust-policy
            assume_role_policy=policy_document(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": CONFIG_SERVICE},
                    "Action": "sts:AssumeRole",
                    "Condition": from_this_account,
                }
            ),
            tags=dict(tags),
        )
        IamRolePolicyAttachment(
            self, "describe-resources", role=role.name, policy_arn=f"arn:{partition}:iam::aws:policy/{CONFIG_MANAGED_POLICY}"
        )
        # What the role needs to deliver to this bucket with this key, and nothing more
        # (https://docs.aws.amazon.com/config/latest/developerguide/iamrole-permissions.html#iam-role-policies-S3-bucket
        # and #iam-role-policies-S3-kms-key).
        delivery_rights = IamRolePolicy(
            self,
            "delivery",
            name="deliver-to-config-bucket",
            role=role.id,
            policy=policy_document(
                {
                    "Effect": "Allow",
                    "Action": ["s3:PutObject", "s3:PutObjectAcl"],
                    "Resource": delivery_prefix,
                    "Condition": {"StringLike": {"s3:x-amz-acl": "bucket-owner-full-control"}},
                },
                {"Effect": "Allow", "Action": "s3:GetBucketAcl", "Resource": bucket.arn},
                {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": key.arn},
            ),
        )

        # One recorder, delivery channel and status per region (one of each per account and
        # region is all AWS allows), all delivering to the one bucket above: "In all the other
        # regions, AWS Config supports cross-Region and cross-account delivery channels"
        # (https://docs.aws.amazon.com/config/latest/APIReference/API_PutDeliveryChannel.html), and
        # s3KmsKeyArn "must belong to the same Region as the destination S3 bucket"
        # (https://docs.aws.amazon.com/config/latest/APIReference/API_DeliveryChannel.html), which
        # the bucket's key does. The role is global (IAM); the bucket policy's prefix covers every region.
        for region, provider in providers.items():
            self.recorders[region] = self._recorder(org, region, provider, role.arn, bucket.bucket, key.arn, [delivery_policy, delivery_rights])

    def _recorder(
        self,
        org: OrgPolicy,
        region: str,
        provider: TerraformProvider | None,
        role_arn: str,
        bucket_name: str,
        key_arn: str,
        delivery_ready: list[ITerraformDependable],
    ) -> ConfigConfigurationRecorder:
        # The first region keeps the construct ids it had before recorders were per region.
        suffix = "" if provider is None else f"-{region}"
        recorder = ConfigConfigurationRecorder(
            self,
            f"recorder{suffix}",
            provider=provider,
            name=naming.config_recorder(),
            role_arn=role_arn,
            # Only what the REQUIRED_TAGS rules evaluate: every recorded configuration item is
            # billed (https://aws.amazon.com/config/pricing/), and the rules need nothing else.
            recording_group=ConfigConfigurationRecorderRecordingGroup(
                all_supported=False,
                include_global_resource_types=False,
                recording_strategy=[
                    ConfigConfigurationRecorderRecordingGroupRecordingStrategy(use_only="INCLUSION_BY_RESOURCE_TYPES")
                ],
                resource_types=compliance_resource_types(org),
            ),
        )
        # A delivery channel needs an existing recorder, and Config checks at creation that it
        # may write to the bucket (NoAvailableConfigurationRecorderException and
        # InsufficientDeliveryPolicyException in
        # https://docs.aws.amazon.com/config/latest/APIReference/API_PutDeliveryChannel.html).
        channel = ConfigDeliveryChannel(
            self,
            f"delivery-channel{suffix}",
            provider=provider,
            name=naming.config_recorder(),
            s3_bucket_name=bucket_name,
            s3_kms_key_arn=key_arn,
            depends_on=[recorder, *delivery_ready],
        )
        # Starting the recorder needs a delivery channel (NoAvailableDeliveryChannelException in
        # https://docs.aws.amazon.com/config/latest/APIReference/API_StartConfigurationRecorder.html).
        ConfigConfigurationRecorderStatus(
            self, f"status{suffix}", provider=provider, name=recorder.name, is_enabled=True, depends_on=[channel]
        )
        return recorder
