"""The machine images genai-finops launches, and the root volume each needs: pure data.

Validation (generators/manifest/validation.py) and the constructs (modules/) read these, so a manifest
whose root volume is smaller than the image's snapshot is refused before anything is applied.
"""

from __future__ import annotations

# AWS publishes the current DLAMI id per region as a public SSM parameter,
# /aws/service/deeplearning/ami/$architecture/$ami_type/latest/ami-id, where ami_type is the
# DLAMI name without "deep", "learning" and "ami":
# https://docs.aws.amazon.com/dlami/latest/devguide/find-dlami-id.html
# "Deep Learning Base OSS Nvidia Driver GPU AMI (Amazon Linux 2023)" carries the NVIDIA driver,
# CUDA and EFA for the NVIDIA families of generators/catalog.py; each release's notes list the
# instance types it supports: https://docs.aws.amazon.com/dlami/latest/devguide/appendix-ami-release-notes.html
# Training is NVIDIA-only (validation refuses a Neuron training type): a Neuron instance needs
# the Neuron DLAMI, whose SSM parameter and root snapshot size genai-finops does not track yet.
DLAMI_PARAMETER = "/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-amazon-linux-2023/latest/ami-id"

# The DLAMI's root snapshot is 75 GiB, and EC2 refuses a root volume smaller than the snapshot
# it is created from ("The volume size must be equal to or larger than the snapshot size":
# https://docs.aws.amazon.com/ebs/latest/userguide/ebs-creating-volume.html). AWS's release
# notes list packages, not the snapshot size; 75 GiB is what DescribeImages reports for the
# 2026 AL2023 builds, as recorded in public Terraform that launches this AMI ("Deep Learning
# Base OSS Nvidia Driver GPU AMI (Amazon Linux 2023) x86_64, 20260925 build ... 75 GiB root
# snapshot"; "GPU AMI requires >=75 GB of EBS Storage"). `genai-finops preflight` reads the
# current image's size from the account.
DLAMI_ROOT_SNAPSHOT_GB = 75

# EKS's default node disk, and the smallest the EKS-optimized AMIs boot from, is 20 GiB
# (https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateNodegroup.html, diskSize).
EKS_NODE_MIN_VOLUME_GB = 20
# CUDA serving images plus model weights do not fit in 20 GiB; the manifest's node_volume_gb
# default (docs/manifest.md).
EKS_NODE_DEFAULT_VOLUME_GB = 100
