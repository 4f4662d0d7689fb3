"""The AMI of GPU training instances: the AWS Deep Learning Base AMI, looked up, never hard-coded."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_ssm_parameter import DataAwsSsmParameter
from constructs import Construct

from generators.amis import DLAMI_PARAMETER


class DeepLearningAmi(Construct):
    """The region's current Deep Learning Base AMI id (`ami_id`), read at plan time from AWS's
    public SSM parameter (generators/amis.py cites it). No arguments: the stack's provider
    decides the region."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        parameter = DataAwsSsmParameter(self, "parameter", name=DLAMI_PARAMETER)
        self.ami_id: str = parameter.insecure_value
