"""What the manifests launch per region, for preflight's checks of that region: vCPUs per EC2
quota class and market, and where each instance type must be offered."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from generators import catalog
from generators.model import ManifestSet, TeamManifest

# Service Quotas codes of EC2's vCPU limits for the accelerated families genai-finops launches
# (catalog.quota_class): On-Demand, https://docs.aws.amazon.com/ec2/latest/instancetypes/ec2-instance-quotas.html;
# Spot, https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/using-spot-limits.html. AWS's pages
# give the names; the Inf and Trn codes are as ListServiceQuotas reports them in published
# account dumps (read 2026-11-27: "Running On-Demand Trn instances | L-2C3B7624", "All Trn Spot
# Instance Requests | L-6B0D517C"), and preflight reads each by code, so a wrong one shows as
# "unverified", never as a pass.
QUOTAS: dict[tuple[str, str], tuple[str, str]] = {
    ("G", "on-demand"): ("L-DB2E81BA", "Running On-Demand G and VT instances"),
    ("P", "on-demand"): ("L-417A185B", "Running On-Demand P instances"),
    ("G", "spot"): ("L-3819A6DF", "All G and VT Spot Instance Requests"),
    ("P", "spot"): ("L-7212CCBC", "All P Spot Instance Requests"),
    ("Inf", "on-demand"): ("L-1945791B", "Running On-Demand Inf instances"),
    ("Trn", "on-demand"): ("L-2C3B7624", "Running On-Demand Trn instances"),
    ("Inf", "spot"): ("L-B5D1601B", "All Inf Spot Instance Requests"),
    ("Trn", "spot"): ("L-6B0D517C", "All Trn Spot Instance Requests"),
}




@dataclass
class RegionNeeds:
    """What the manifests launch in one region, for the checks of that region."""

    region: str
    teams: list[TeamManifest] = field(default_factory=list)
    # (quota class, market) -> vCPUs that can run at once: training counts plus pools at max_nodes
    vcpus: dict[tuple[str, str], int] = field(default_factory=dict)
    # instance type -> subnets where it must be offered in at least one AZ, with who needs it
    placements: list[tuple[str, tuple[str, ...], str]] = field(default_factory=list)

    def add_vcpus(self, instance_type: str, market: str, count: int) -> None:
        key = (catalog.quota_class(instance_type), market)
        self.vcpus[key] = self.vcpus.get(key, 0) + count * catalog.INSTANCE_TYPES[instance_type].vcpus


def needs_by_region(manifests: ManifestSet, only: Iterable[str] | None = None) -> dict[str, RegionNeeds]:
    wanted = set(only) if only else None
    org = manifests.org
    needs: dict[str, RegionNeeds] = {}
    for loaded in manifests.teams:
        team = loaded.manifest
        if wanted is not None and team.team not in wanted:
            continue
        region = needs.setdefault(team.region, RegionNeeds(team.region))
        region.teams.append(team)
        for job in team.training:
            region.add_vcpus(job.instance_type, job.market, job.count)
            region.placements.append((job.instance_type, (org.networks[team.region].subnet_id,), f"{team.team}/training/{job.name}"))
        for pool in team.inference:
            # Any of the types may run, so the dearest in vCPUs counts at max_nodes.
            largest = max(pool.instance_types, key=lambda name: catalog.INSTANCE_TYPES[name].vcpus)
            region.add_vcpus(largest, pool.market, pool.max_nodes)
            for instance_type in pool.instance_types:
                region.placements.append((instance_type, tuple(org.clusters[pool.cluster].subnet_ids), f"{team.team}/inference/{pool.name}"))
    return dict(sorted(needs.items()))
