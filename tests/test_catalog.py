"""The accelerated-instance catalog covers the families the issues name, with facts that match
the cited tables (written out here from the sources, not derived from the catalog)."""

import pytest

from generators import catalog
from policies import gfo_facts

REQUIRED_FAMILIES = {
    "g4dn", "g5", "g6", "g6e", "g7e", "p4d", "p4de", "p5", "p5e", "p5en", "p6-b200", "p6-b300",
    "inf2", "trn1", "trn1n", "trn2",
}  # fmt: skip


def test_catalog_covers_every_required_family_and_each_is_accelerated():
    assert REQUIRED_FAMILIES <= set(catalog.FAMILIES)
    assert all(gfo_facts.is_accelerated_instance_type(name) for name in catalog.INSTANCE_TYPES)


# Per-device memory in MiB as DescribeInstanceTypes reports it, copied from the GpuInfo column of
# SkyPilot's AWS catalog (commit 00148f2a, catalogs/v8/aws/vms.csv) for the NVIDIA models, and
# from the Neuron architecture pages (32 GiB per Inferentia2 and Trainium chip, 96 GiB per
# Trainium2) for Neuron.
MIB_PER_DEVICE = {
    "NVIDIA T4": 16384, "NVIDIA A10G": 22888, "NVIDIA L4": 22888, "NVIDIA L40S": 45776,
    "NVIDIA RTX PRO 6000 Blackwell Server": 98304, "NVIDIA A100 40GB": 40960, "NVIDIA A100 80GB": 81920,
    "NVIDIA H100": 81920, "NVIDIA H200": 144384, "NVIDIA B200": 183359, "NVIDIA B300": 275040,
    "AWS Inferentia2": 32768, "AWS Trainium": 32768, "AWS Trainium2": 98304,
}  # fmt: skip
# NeuronCores per chip: Inferentia2 and Trainium 2 (NeuronCore-v2), Trainium2 8 (NeuronCore-v3).
CORES_PER_CHIP = {"AWS Inferentia2": 2, "AWS Trainium": 2, "AWS Trainium2": 8}


def test_every_entry_has_positive_facts_and_its_models_memory_per_device():
    for name, item in catalog.INSTANCE_TYPES.items():
        assert item.devices >= 1 and item.vcpus >= 4 and item.memory_gib >= 16, name
        assert item.accelerator_memory_mib == MIB_PER_DEVICE[item.accelerator_model], name
        per_device = CORES_PER_CHIP.get(item.accelerator_model, 1)
        assert item.accelerators == item.devices * per_device, name
        assert (item.kind is catalog.NEURON) == (item.accelerator_model in CORES_PER_CHIP), name


@pytest.mark.parametrize(
    ("name", "devices", "accelerators", "vcpus", "memory_gib", "accelerator_memory_gib"),
    [
        ("g5.12xlarge", 4, 4, 48, 192, 4 * 22888 / 1024),
        ("g6e.xlarge", 1, 1, 4, 32, 45776 / 1024),
        ("g7e.12xlarge", 2, 2, 48, 512, 2 * 96),
        ("p4de.24xlarge", 8, 8, 96, 1152, 640),
        ("p6-b300.48xlarge", 8, 8, 192, 4096, 8 * 275040 / 1024),
        # Neuron trn1 table: Trn1.32xlarge 16 Trainium devices, 128 vCPUs, 512 GiB host, 512 GiB device memory.
        ("trn1.32xlarge", 16, 32, 128, 512, 512),
        ("inf2.48xlarge", 12, 24, 192, 768, 384),
        ("trn2.48xlarge", 16, 128, 192, 2048, 1536),
    ],
)  # fmt: skip
def test_known_facts_from_the_cited_tables(name, devices, accelerators, vcpus, memory_gib, accelerator_memory_gib):
    item = catalog.lookup(name)
    assert (item.devices, item.accelerators, item.vcpus, item.memory_gib) == (devices, accelerators, vcpus, memory_gib)
    assert item.accelerator_memory_gib == pytest.approx(accelerator_memory_gib)


def test_the_api_memory_figure_is_below_the_marketed_one_where_aws_rounds_up():
    """The decision in catalog.py: the EC2 API figure, 7% under "24 GB" (A10G, L4) and "48 GB" (L40S)."""
    for name, marketed_gb in (("g5.xlarge", 24), ("g6.xlarge", 24), ("g6e.xlarge", 48)):
        shortfall = 1 - catalog.lookup(name).accelerator_memory_gib / marketed_gb
        assert 0.06 < shortfall < 0.08, name


def test_accelerator_kinds_carry_their_kubernetes_resource_and_eks_ami_type():
    assert catalog.lookup("g6.xlarge").kind.k8s_resource == "nvidia.com/gpu"
    assert catalog.lookup("inf2.xlarge").kind.k8s_resource == "aws.amazon.com/neuroncore"
    assert catalog.lookup("inf2.xlarge").kind.eks_ami_type == "AL2023_x86_64_NEURON"


@pytest.mark.parametrize(("name", "quota"), [("g4dn.xlarge", "G"), ("gr6.4xlarge", "G"), ("p5.48xlarge", "P"),
                                             ("inf2.xlarge", "Inf"), ("trn1n.32xlarge", "Trn")])
def test_quota_class_follows_the_family_letters(name, quota):
    assert catalog.quota_class(name) == quota


def test_nearest_suggests_real_names_for_typos():
    assert catalog.nearest("g5.xlarg")[0] == "g5.xlarge"
    assert "g6e.xlarge" in catalog.nearest("g6e.xlarg")
    assert catalog.lookup("m5.large") is None
