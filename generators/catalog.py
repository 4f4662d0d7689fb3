"""GPU instance types the blueprint knows: GPU count and model, GPU memory, vCPUs, memory.

Sources (read 2026-11-24):
- Amazon EC2 instance types, accelerated computing specifications:
  https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html
- AWS Batch user guide, "Run a GPU job" table of GPU instance types (GPUs, GPU memory, vCPUs,
  memory): https://docs.aws.amazon.com/batch/latest/userguide/gpu-jobs.html
- P5 single-GPU size (p5.4xlarge, 1 x H100, 16 vCPU, 256 GiB), announced 2025-08:
  https://aws.amazon.com/ec2/instance-types/p5/
`gpu_memory_gib` is the instance total (per-GPU memory times GPU count).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class GpuInstanceType:
    name: str
    gpus: int
    gpu_model: str
    gpu_memory_gib: int
    vcpus: int
    memory_gib: int

    @property
    def family(self) -> str:
        return self.name.split(".", 1)[0]


def _family(family: str, model: str, per_gpu_gib: int, sizes: list[tuple[str, int, int, int]]) -> list[GpuInstanceType]:
    return [
        GpuInstanceType(f"{family}.{size}", gpus, model, gpus * per_gpu_gib, vcpus, memory)
        for size, gpus, vcpus, memory in sizes
    ]


# (size, GPUs, vCPUs, memory GiB)
_ROWS: list[GpuInstanceType] = [
    *_family("g4dn", "NVIDIA T4", 16, [
        ("xlarge", 1, 4, 16), ("2xlarge", 1, 8, 32), ("4xlarge", 1, 16, 64), ("8xlarge", 1, 32, 128),
        ("16xlarge", 1, 64, 256), ("12xlarge", 4, 48, 192), ("metal", 8, 96, 384),
    ]),
    *_family("g5", "NVIDIA A10G", 24, [
        ("xlarge", 1, 4, 16), ("2xlarge", 1, 8, 32), ("4xlarge", 1, 16, 64), ("8xlarge", 1, 32, 128),
        ("16xlarge", 1, 64, 256), ("12xlarge", 4, 48, 192), ("24xlarge", 4, 96, 384), ("48xlarge", 8, 192, 768),
    ]),
    *_family("g6", "NVIDIA L4", 24, [
        ("xlarge", 1, 4, 16), ("2xlarge", 1, 8, 32), ("4xlarge", 1, 16, 64), ("8xlarge", 1, 32, 128),
        ("16xlarge", 1, 64, 256), ("12xlarge", 4, 48, 192), ("24xlarge", 4, 96, 384), ("48xlarge", 8, 192, 768),
    ]),
    *_family("g6e", "NVIDIA L40S", 48, [
        ("xlarge", 1, 4, 32), ("2xlarge", 1, 8, 64), ("4xlarge", 1, 16, 128), ("8xlarge", 1, 32, 256),
        ("16xlarge", 1, 64, 512), ("12xlarge", 4, 48, 384), ("24xlarge", 4, 96, 768), ("48xlarge", 8, 192, 1536),
    ]),
    *_family("p4d", "NVIDIA A100 40GB", 40, [("24xlarge", 8, 96, 1152)]),
    *_family("p4de", "NVIDIA A100 80GB", 80, [("24xlarge", 8, 96, 1152)]),
    *_family("p5", "NVIDIA H100", 80, [("4xlarge", 1, 16, 256), ("48xlarge", 8, 192, 2048)]),
    *_family("p5e", "NVIDIA H200", 141, [("48xlarge", 8, 192, 2048)]),
    *_family("p5en", "NVIDIA H200", 141, [("48xlarge", 8, 192, 2048)]),
]

GPU_INSTANCE_TYPES: dict[str, GpuInstanceType] = {row.name: row for row in _ROWS}
FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(row.family for row in _ROWS))


def quota_class(name: str) -> str:
    """The EC2 vCPU quota an instance type counts against: "G" (G and VT) or "P".

    EC2's GPU quotas are per instance family letter
    (https://docs.aws.amazon.com/ec2/latest/instancetypes/ec2-instance-quotas.html); every family
    here is a G or a P family.
    """
    letter = name[:1].upper()
    if letter not in ("G", "P"):
        raise ValueError(f"{name} is not a G or P instance type")
    return letter


def lookup(name: str) -> GpuInstanceType | None:
    return GPU_INSTANCE_TYPES.get(name)


def nearest(name: str, candidates: list[str] | None = None, limit: int = 3) -> list[str]:
    """The closest known GPU instance type names, for `did you mean ...?`."""
    pool = candidates if candidates is not None else list(GPU_INSTANCE_TYPES)
    return difflib.get_close_matches(name.lower(), pool, n=limit, cutoff=0.5)
