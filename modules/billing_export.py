"""The FOCUS 1.2 billing export showback reads: AWS Data Exports, its bucket, an Athena workgroup.

Created when `org.governance.create_billing_export` is on (payer account only: Data Exports
covers the accounts the caller pays for). The export writes hourly "FOCUS 1.2 with AWS columns"
rows (table FOCUS_1_2_AWS, https://docs.aws.amazon.com/cur/latest/userguide/table-dictionary-focus-1-2-aws.html)
as Parquet under `s3://<billing.export_bucket>/<billing.export_prefix>/`; the workgroup keeps
Athena's results beside it, encrypted. Cataloguing the export as a table (a Glue crawler over
the prefix) is left to the account: `billing.athena_table` names it.
"""

from __future__ import annotations

from typing import Mapping

from cdktf import TerraformProvider, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.athena_workgroup import (
    AthenaWorkgroup,
    AthenaWorkgroupConfiguration,
    AthenaWorkgroupConfigurationResultConfiguration,
    AthenaWorkgroupConfigurationResultConfigurationEncryptionConfiguration,
)
from cdktf_cdktf_provider_aws.bcmdataexports_export import (
    BcmdataexportsExport,
    BcmdataexportsExportExport,
    BcmdataexportsExportExportDataQuery,
    BcmdataexportsExportExportDestinationConfigurations,
    BcmdataexportsExportExportDestinationConfigurationsS3Destination,
    BcmdataexportsExportExportDestinationConfigurationsS3DestinationS3OutputConfigurations,
    BcmdataexportsExportExportRefreshCadence,
)
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from constructs import Construct

from generators.model import Billing
from generators.see import focus_spec
from modules.private_bucket import bucket_policy, private_bucket

FOCUS_TABLE = "FOCUS_1_2_AWS"
# The attribute the lifecycle below keeps Terraform from replacing the export over.
TABLE_CONFIGURATIONS_PATH = "export[0].data_query[0].table_configurations"
# Every mandatory FOCUS 1.2 column, so the export is a FOCUS dataset other tools can read, and
# the optional ones showback uses (generators/see/focus_spec.py is their one home).
FOCUS_COLUMNS = focus_spec.EXPORT_COLUMNS
# Hourly rows: off-schedule spend needs them (generators/see/showback.py).
TIME_GRANULARITY = "HOURLY"
# Every table configuration AWS documents for FOCUS_1_2_AWS, each set explicitly, so what AWS
# answers for the table is what we sent: the table dictionary lists TIME_GRANULARITY (HOURLY,
# DAILY, MONTHLY) as FOCUS 1.2's only configuration
# (https://docs.aws.amazon.com/cur/latest/userguide/table-dictionary-focus-1-2-aws.html, read
# 2026-12-02). The keys AWS was seen adding unasked (BILLING_VIEW_ARN,
# INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY) are COST_AND_USAGE_REPORT's, which we do not query.
TABLE_CONFIGURATIONS = {FOCUS_TABLE: {"TIME_GRANULARITY": TIME_GRANULARITY}}
# The two service principals that write exports, and what they check on the bucket, with the
# confused-deputy conditions AWS documents for them
# (https://docs.aws.amazon.com/cur/latest/userguide/dataexports-s3-bucket.html).
WRITERS = ("billingreports.amazonaws.com", "bcm-data-exports.amazonaws.com")
# Data Exports is served from us-east-1 (https://docs.aws.amazon.com/general/latest/gr/billing.html),
# which is also where the export's ARN lives.
EXPORTS_REGION = "us-east-1"
ATHENA_RESULTS_PREFIX = "athena-results"
# A runaway query over years of hourly rows is stopped at 1 TB scanned (about $5 at Athena's
# $5 per TB: https://aws.amazon.com/athena/pricing/); showback reads one month.
BYTES_SCANNED_CUTOFF = 1_000_000_000_000


class BillingExport(Construct):
    """The export, its bucket (private, versioned, encrypted, TLS only) and the Athena workgroup.

    Args:
        billing: the org policy's validated `billing` (bucket, prefix, Athena workgroup and table).
        tags: the governance stack's tags, on the bucket, the export and the workgroup.
        exports_provider: a provider in us-east-1, where the Data Exports API is served
            (EXPORTS_REGION, cited above);
            default None: the stack's default provider is already there.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        billing: Billing,
        tags: Mapping[str, str],
        exports_provider: TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id)
        account = DataAwsCallerIdentity(self, "account").account_id
        partition = DataAwsPartition(self, "partition").partition
        # SSE-S3: the export services write with the bucket's default encryption; a customer
        # managed key would need a key policy for them that we have not verified (suppressed,
        # with this reason, in policies/suppressions.yaml).
        delivery = private_bucket(self, name=billing.export_bucket, tags=tags)
        bucket = delivery.bucket
        policy = bucket_policy(
            self,
            delivery,
            {
                "Sid": "EnableAWSDataExportsToWriteToS3AndCheckPolicy",
                "Effect": "Allow",
                "Principal": {"Service": list(WRITERS)},
                "Action": ["s3:PutObject", "s3:GetBucketPolicy"],
                "Resource": [f"{bucket.arn}/*", bucket.arn],
                "Condition": {
                    "StringLike": {
                        "aws:SourceArn": [
                            f"arn:{partition}:cur:{EXPORTS_REGION}:{account}:definition/*",
                            f"arn:{partition}:bcm-data-exports:{EXPORTS_REGION}:{account}:export/*",
                        ]
                    },
                    "StringEquals": {"aws:SourceAccount": account},
                },
            },
        )
        self.export = BcmdataexportsExport(
            self,
            "export",
            provider=exports_provider,
            export=[
                BcmdataexportsExportExport(
                    name="genai-finops-focus",
                    description="Hourly FOCUS 1.2 rows for genai-finops showback",
                    data_query=[
                        BcmdataexportsExportExportDataQuery(
                            query_statement=f"SELECT {', '.join(FOCUS_COLUMNS)} FROM {FOCUS_TABLE}",
                            table_configurations=TABLE_CONFIGURATIONS,
                        )
                    ],
                    destination_configurations=[
                        BcmdataexportsExportExportDestinationConfigurations(
                            s3_destination=[
                                BcmdataexportsExportExportDestinationConfigurationsS3Destination(
                                    s3_bucket=bucket.bucket,
                                    s3_prefix=billing.export_prefix,
                                    s3_region=bucket.region,
                                    s3_output_configurations=[
                                        BcmdataexportsExportExportDestinationConfigurationsS3DestinationS3OutputConfigurations(
                                            compression="PARQUET", format="PARQUET", output_type="CUSTOM", overwrite="OVERWRITE_REPORT"
                                        )
                                    ],
                                )
                            ]
                        )
                    ],
                    refresh_cadence=[BcmdataexportsExportExportRefreshCadence(frequency="SYNCHRONOUS")],
                )
            ],
            tags=dict(tags),
            # The export checks at creation that it may write to the bucket.
            depends_on=[policy],
            # AWS adds keys to a table's configuration that were not set (BILLING_VIEW_ARN,
            # INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY: terraform-provider-aws #43978, #42761,
            # #48807), and a provider upgrade that reads them back plans to replace the export,
            # since the attribute forces replacement (#46402). The configuration is ours and set
            # once; later drift in it must never replace the export (and restart its history).
            lifecycle=TerraformResourceLifecycle(ignore_changes=[TABLE_CONFIGURATIONS_PATH]),
        )
        self.workgroup = None
        if billing.athena_workgroup:
            self.workgroup = AthenaWorkgroup(
                self,
                "workgroup",
                name=billing.athena_workgroup,
                description="genai-finops showback --engine athena",
                configuration=AthenaWorkgroupConfiguration(
                    enforce_workgroup_configuration=True,
                    publish_cloudwatch_metrics_enabled=True,
                    bytes_scanned_cutoff_per_query=BYTES_SCANNED_CUTOFF,
                    result_configuration=AthenaWorkgroupConfigurationResultConfiguration(
                        output_location=f"s3://{billing.export_bucket}/{ATHENA_RESULTS_PREFIX}/",
                        encryption_configuration=AthenaWorkgroupConfigurationResultConfigurationEncryptionConfiguration(
                            encryption_option="SSE_S3"
                        ),
                    ),
                ),
                tags=dict(tags),
            )
