"""The private bucket genai-finops creates for AWS services to deliver into (AWS Config, Data Exports).

Not a construct of its own: the resources are created in the caller's scope under the ids the
callers always used, so existing state keeps its addresses. Each caller adds its own bucket
policy, with the statements its delivering service documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import S3BucketOwnershipControls, S3BucketOwnershipControlsRule
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import S3BucketVersioningA, S3BucketVersioningVersioningConfiguration
from constructs import Construct

from modules.iam_documents import policy_document

# Old object versions only protect against overwrites by mistake; the delivering services
# write new keys or rewrite an open period. 90 days is the platform team's choice, not an AWS figure.
NONCURRENT_VERSION_DAYS = 90
# Parts of failed multipart uploads are billed until removed.
ABORT_MULTIPART_DAYS = 7


@dataclass(frozen=True)
class PrivateBucket:
    bucket: S3Bucket
    # A bucket policy written while this is being written fails with OperationAborted
    # (https://github.com/hashicorp/terraform-provider-aws/issues/7628): make it depend on this.
    public_access: S3BucketPublicAccessBlock


def private_bucket(scope: Construct, *, name: str, tags: Mapping[str, str], kms_key_arn: str | None = None) -> PrivateBucket:
    """A versioned bucket with ACLs off, every public access blocked, default encryption (with
    `kms_key_arn` and an S3 Bucket Key, else SSE-S3) and a lifecycle that tidies old versions."""
    bucket = S3Bucket(scope, "bucket", bucket=name, tags=dict(tags))
    # ACLs off: a service that still sends bucket-owner-full-control is accepted by BucketOwnerEnforced
    # (https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html).
    S3BucketOwnershipControls(
        scope, "ownership", bucket=bucket.id, rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced")
    )
    public_access = S3BucketPublicAccessBlock(
        scope,
        "public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
    )
    S3BucketVersioningA(
        scope, "versioning", bucket=bucket.id, versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled")
    )
    if kms_key_arn is not None:
        rule = S3BucketServerSideEncryptionConfigurationRuleA(
            apply_server_side_encryption_by_default=S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                sse_algorithm="aws:kms", kms_master_key_id=kms_key_arn
            ),
            # One data key per bucket instead of one KMS request per object
            # (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html).
            bucket_key_enabled=True,
        )
    else:
        rule = S3BucketServerSideEncryptionConfigurationRuleA(
            apply_server_side_encryption_by_default=S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                sse_algorithm="AES256"
            )
        )
    S3BucketServerSideEncryptionConfigurationA(scope, "encryption", bucket=bucket.id, rule=[rule])
    S3BucketLifecycleConfiguration(
        scope,
        "lifecycle",
        bucket=bucket.id,
        rule=[
            S3BucketLifecycleConfigurationRule(
                id="tidy-versions-and-uploads",
                status="Enabled",
                filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                noncurrent_version_expiration=[
                    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(noncurrent_days=NONCURRENT_VERSION_DAYS)
                ],
                abort_incomplete_multipart_upload=[
                    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=ABORT_MULTIPART_DAYS)
                ],
            )
        ],
    )
    return PrivateBucket(bucket, public_access)


def bucket_policy(scope: Construct, delivery: PrivateBucket, *statements: dict) -> S3BucketPolicy:
    """The bucket's policy: the delivering service's `statements`, and plain HTTP refused, as the
    AWS Config rule s3-bucket-ssl-requests-only checks
    (https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-ssl-requests-only.html)."""
    bucket = delivery.bucket
    return S3BucketPolicy(
        scope,
        "policy",
        bucket=bucket.id,
        policy=policy_document(
            *statements,
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket.arn, f"{bucket.arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ),
        depends_on=[delivery.public_access],
    )
