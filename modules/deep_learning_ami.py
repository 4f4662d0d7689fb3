"""The AMI of GPU training instances: the AWS Deep Learning Base AMI, looked up, never hard-coded."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_ssm_parameter import DataAwsSsmParameter
from constructs import Construct

# AWS publishes the current DLAMI id per region as a public SSM parameter,
# /aws/service/deeplearning/ami/$architecture/$ami_type/latest/ami-id, where ami_type is the
# DLAMI name without "deep", "learning" and "ami":
# https://docs.aws.amazon.com/dlami/latest/devguide/find-dlami-id.html
# "Deep Learning Base OSS Nvidia Driver GPU AMI (Amazon Linux 2023)" carries the NVIDIA driver,
# CUDA and EFA for every family in generators/catalog.py (g4dn through p5en):
# https://docs.aws.amazon.com/dlami/latest/devguide/appendix-ami-release-notes.html
DLAMI_PARAMETER = "/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-amazon-linux-2023/latest/ami-id"


class DeepLearningAmi(Construct):
    """The region's current Deep Learning Base AMI id (`ami_id`), read at plan time."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        parameter = DataAwsSsmParameter(self, "parameter", name=DLAMI_PARAMETER)
        self.ami_id: str = parameter.insecure_value
