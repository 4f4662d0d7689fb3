"""Accelerated instance types the blueprint knows: accelerator model and count, accelerator
memory, vCPUs, memory, and what Kubernetes and EKS call each kind of accelerator.

Which types count as accelerated is policies/gfo_facts.py's one definition; every type here
matches it (tests/test_facts.py). Two kinds of accelerator:
- NVIDIA GPUs (g4dn ... g7e, p4d ... p6-b300): the accelerator count is the GPU count.
- AWS Neuron (inf2, trn1, trn1n, trn2): the NeuronCore is the accelerator Kubernetes schedules
  (`aws.amazon.com/neuroncore`), so `accelerators` counts NeuronCores, and `devices` the
  Inferentia/Trainium chips that carry them.

Sources (read 2026-11-24 and 2026-11-27):
- Amazon EC2 accelerated computing specifications (accelerator counts, vCPUs, memory):
  https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html
- AWS Batch "Run a GPU job" table: https://docs.aws.amazon.com/batch/latest/userguide/gpu-jobs.html
- P5 single-GPU size (p5.4xlarge), 2025-08: https://aws.amazon.com/ec2/instance-types/p5/
- g7e, p6-b200, p6-b300, inf2, trn1, trn1n, trn2 sizes: instances.vantage.sh data as published in
  https://github.com/tsaol/aws-gpu/tree/77fcd9fe1d0652fd07b830e5ed030d61da87923e/data (2026-01-21).
- Per-accelerator memory as the EC2 API reports it (DescribeInstanceTypes GpuInfo.Gpus[].MemoryInfo
  .SizeInMiB), as recorded in SkyPilot's AWS catalog, column GpuInfo:
  https://github.com/skypilot-org/skypilot-catalog/blob/00148f2af3672e2229b4f7bf8157d5a3f36e3c35/catalogs/v8/aws/vms.csv
- NeuronCores and device memory per chip (Inferentia2 and Trainium: 2 NeuronCore-v2 and 32 GiB;
  Trainium2: 8 NeuronCore-v3 and 96 GiB): https://awsdocs-neuron.readthedocs-hosted.com/en/latest/general/arch/index.html
  (trainium.html, trainium2.html, inferentia2.html).

Accelerator memory holds what the EC2 API reports, not AWS's marketed figure. The two differ
for A10G and L4 (22,888 MiB = 22.4 GiB against "24 GB") and L40S (45,776 MiB = 44.7 GiB against
"48 GB"): the API figure is what the driver exposes and a model must fit in, so it is the one
to size with. `accelerator_memory_gib` is the instance total in GiB (MiB x count / 1024).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class AcceleratorKind:
    name: Literal["nvidia", "neuron"]
    # The extended resource the device plugin advertises and pods request.
    k8s_resource: str
    # EKS managed node group AMI type with this accelerator's driver:
    # https://docs.aws.amazon.com/eks/latest/APIReference/API_Nodegroup.html (amiType);
    # https://docs.aws.amazon.com/eks/latest/userguide/ml-eks-optimized-ami.html
    eks_ami_type: str


# NVIDIA device plugin: https://github.com/NVIDIA/k8s-device-plugin (nvidia.com/gpu).
NVIDIA = AcceleratorKind("nvidia", "nvidia.com/gpu", "AL2023_x86_64_NVIDIA")
# Neuron device plugin: aws.amazon.com/neuroncore (and aws.amazon.com/neuron per device):
# https://awsdocs-neuron.readthedocs-hosted.com/en/latest/containers/kubernetes-getting-started.html
NEURON = AcceleratorKind("neuron", "aws.amazon.com/neuroncore", "AL2023_x86_64_NEURON")


@dataclass(frozen=True)
class AcceleratedInstanceType:
    name: str
    kind: AcceleratorKind
    accelerator_model: str
    accelerators: int  # GPUs, or NeuronCores
    devices: int  # GPUs, or Neuron chips
    accelerator_memory_mib: int  # per device, as the EC2 API reports it
    vcpus: int
    memory_gib: int

    @property
    def family(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def accelerator_memory_gib(self) -> float:
        return self.devices * self.accelerator_memory_mib / 1024


def _gpus(family: str, model: str, mib: int, sizes: list[tuple[str, int, int, int]]) -> list[AcceleratedInstanceType]:
    """(size, GPUs, vCPUs, memory GiB) rows of one NVIDIA family."""
    return [AcceleratedInstanceType(f"{family}.{size}", NVIDIA, model, gpus, gpus, mib, vcpus, memory)
            for size, gpus, vcpus, memory in sizes]


def _neuron(family: str, model: str, cores_per_chip: int, mib: int,
            sizes: list[tuple[str, int, int, int]]) -> list[AcceleratedInstanceType]:
    """(size, chips, vCPUs, memory GiB) rows of one Neuron family."""
    return [AcceleratedInstanceType(f"{family}.{size}", NEURON, model, chips * cores_per_chip, chips, mib, vcpus, memory)
            for size, chips, vcpus, memory in sizes]


_ROWS: list[AcceleratedInstanceType] = [
    *_gpus("g4dn", "NVIDIA T4", 16384, [
        ("xlarge", 1, 4, 16), ("2xlarge", 1, 8, 32), ("4xlarge", 1, 16, 64), ("8xlarge", 1, 32, 128),
        ("16xlarge", 1, 64, 256), ("12xlarge", 4, 48, 192), ("metal", 8, 96, 384),
    ]),
    *_gpus("g5", "NVIDIA A10G", 22888, [
        ("xlarge", 1, 4, 16), ("2xlarge", 1, 8, 32), ("4xlarge", 1, 16, 64), ("8xlarge", 1, 32, 128),
        ("16xlarge", 1, 64, 256), ("12xlarge", 4, 48, 192), ("24xlarge", 4, 96, 384), ("48xlarge", 8, 192, 768),
    ]),
    *_gpus("g6", "NVIDIA L4", 22888, [
        ("xlarge", 1, 4, 16), ("2xlarge", 1, 8, 32), ("4xlarge", 1, 16, 64), ("8xlarge", 1, 32, 128),
        ("16xlarge", 1, 64, 256), ("12xlarge", 4, 48, 192), ("24xlarge", 4, 96, 384), ("48xlarge", 8, 192, 768),
    ]),
    *_gpus("g6e", "NVIDIA L40S", 45776, [
        ("xlarge", 1, 4, 32), ("2xlarge", 1, 8, 64), ("4xlarge", 1, 16, 128), ("8xlarge", 1, 32, 256),
        ("16xlarge", 1, 64, 512), ("12xlarge", 4, 48, 384), ("24xlarge", 4, 96, 768), ("48xlarge", 8, 192, 1536),
    ]),
    *_gpus("g7e", "NVIDIA RTX PRO 6000 Blackwell Server", 98304, [
        ("2xlarge", 1, 8, 64), ("4xlarge", 1, 16, 128), ("8xlarge", 1, 32, 256), ("12xlarge", 2, 48, 512),
        ("24xlarge", 4, 96, 1024), ("48xlarge", 8, 192, 2048),
    ]),
    *_gpus("p4d", "NVIDIA A100 40GB", 40960, [("24xlarge", 8, 96, 1152)]),
    *_gpus("p4de", "NVIDIA A100 80GB", 81920, [("24xlarge", 8, 96, 1152)]),
    *_gpus("p5", "NVIDIA H100", 81920, [("4xlarge", 1, 16, 256), ("48xlarge", 8, 192, 2048)]),
    *_gpus("p5e", "NVIDIA H200", 144384, [("48xlarge", 8, 192, 2048)]),
    *_gpus("p5en", "NVIDIA H200", 144384, [("48xlarge", 8, 192, 2048)]),
    *_gpus("p6-b200", "NVIDIA B200", 183359, [("48xlarge", 8, 192, 2048)]),
    *_gpus("p6-b300", "NVIDIA B300", 275040, [("48xlarge", 8, 192, 4096)]),
    *_neuron("inf2", "AWS Inferentia2", 2, 32768, [
        ("xlarge", 1, 4, 16), ("8xlarge", 1, 32, 128), ("24xlarge", 6, 96, 384), ("48xlarge", 12, 192, 768),
    ]),
    *_neuron("trn1", "AWS Trainium", 2, 32768, [("2xlarge", 1, 8, 32), ("32xlarge", 16, 128, 512)]),
    *_neuron("trn1n", "AWS Trainium", 2, 32768, [("32xlarge", 16, 128, 512)]),
    *_neuron("trn2", "AWS Trainium2", 8, 98304, [("48xlarge", 16, 192, 2048)]),
]

INSTANCE_TYPES: dict[str, AcceleratedInstanceType] = {row.name: row for row in _ROWS}
FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(row.family for row in _ROWS))


def quota_class(name: str) -> str:
    """The EC2 vCPU quota an instance type counts against: "G" (G and VT), "P", "Inf" or "Trn".

    EC2's accelerated quotas are per family letter(s)
    (https://docs.aws.amazon.com/ec2/latest/instancetypes/ec2-instance-quotas.html).
    """
    for prefix, quota in (("inf", "Inf"), ("trn", "Trn"), ("g", "G"), ("p", "P")):
        if name.startswith(prefix):
            return quota
    raise ValueError(f"{name} is not a G, P, Inf or Trn instance type")


def lookup(name: str) -> AcceleratedInstanceType | None:
    return INSTANCE_TYPES.get(name)


def nearest(name: str, candidates: list[str] | None = None, limit: int = 3) -> list[str]:
    """The closest known instance type names, for `did you mean ...?`."""
    pool = candidates if candidates is not None else list(INSTANCE_TYPES)
    return difflib.get_close_matches(name.lower(), pool, n=limit, cutoff=0.5)
