"""The GPU catalog covers the families the issue names, with consistent facts."""

from generators import catalog

REQUIRED_FAMILIES = {"g4dn", "g5", "g6", "g6e", "p4d", "p4de", "p5", "p5e", "p5en"}


def test_catalog_covers_every_required_family():
    assert REQUIRED_FAMILIES <= set(catalog.FAMILIES)


# Memory per GPU by model, from NVIDIA's data sheets as AWS lists them on
# https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html ("GPU memory"): written out here,
# not derived from the catalog, so a wrong per-GPU figure or GPU count in the catalog shows.
GIB_PER_GPU = {
    "NVIDIA T4": 16, "NVIDIA A10G": 24, "NVIDIA L4": 24, "NVIDIA L40S": 48,
    "NVIDIA A100 40GB": 40, "NVIDIA A100 80GB": 80, "NVIDIA H100": 80, "NVIDIA H200": 141,
}  # fmt: skip


def test_every_entry_has_positive_gpu_facts_and_its_models_memory_per_gpu():
    for name, item in catalog.GPU_INSTANCE_TYPES.items():
        assert item.gpus >= 1 and item.vcpus >= 4 and item.memory_gib >= 16, name
        assert item.gpu_memory_gib == item.gpus * GIB_PER_GPU[item.gpu_model], name


def test_known_facts_from_the_cited_tables():
    assert catalog.lookup("g5.12xlarge").gpus == 4
    assert catalog.lookup("g6e.xlarge").gpu_memory_gib == 48
    assert catalog.lookup("p4de.24xlarge").gpu_memory_gib == 640
    assert catalog.lookup("p5.48xlarge").gpu_model == "NVIDIA H100"


def test_nearest_suggests_real_names_for_typos():
    assert catalog.nearest("g5.xlarg")[0] == "g5.xlarge"
    assert "g6e.xlarge" in catalog.nearest("g6e.xlarg")
    assert catalog.lookup("m5.large") is None
