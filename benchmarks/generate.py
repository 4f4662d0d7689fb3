"""Generate N realistic, valid team manifests for benchmarks.

Teams cycle through the shapes of the shipped examples (dev with schedule and spot training,
prod serving on-demand with an HPA, staging with both) with varied regions, clusters,
instance types, sizes and budgets, so validate, cost, synth and scan see realistic variety.
Deterministic for a given N (seeded), so runs are comparable.
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
ZONES = {"us-east-1": "America/New_York", "us-west-2": "America/Los_Angeles"}
CLUSTERS = {"us-east-1": "genai-shared", "us-west-2": "genai-west"}
TRAINING_TYPES = ["g5.xlarge", "g5.2xlarge", "g6.xlarge", "g6e.2xlarge", "g5.12xlarge", "p4d.24xlarge"]
SERVING_TYPES = [["g5.xlarge", "g5.2xlarge"], ["g6.xlarge"], ["g6e.xlarge", "g6e.2xlarge"], ["g5.2xlarge"]]


def team_manifest(index: int, rng: random.Random) -> dict:
    name = f"team-{index:04d}"
    region = rng.choice(sorted(ZONES))
    shape = index % 3
    environment = ("dev", "prod", "staging")[shape]
    manifest: dict = {
        "version": 1,
        "team": name,
        "owner": f"{name}@example.com",
        "project": f"genai-project-{index % 37}",
        "cost_center": f"CC-{1000 + index % 211}",
        "environment": environment,
        "region": region,
        "tags": {"ModelID": f"model-{index}"},
    }
    if environment != "prod":
        manifest["schedule"] = {
            "timezone": ZONES[region],
            "weekdays": ["mon", "tue", "wed", "thu", "fri"],
            "start": f"{rng.randint(6, 9):02d}:00",
            "stop": f"{rng.randint(17, 21):02d}:00",
        }
    manifest["budget"] = {
        "monthly_usd": rng.choice([5000, 10000, 25000, 60000]),
        "alerts_percent": [50, 80, 100],
        "forecast_alert_percent": 100,
        "on_exceed": "notify" if environment == "prod" else "stop-training",
    }
    if environment != "prod":
        manifest["training"] = [
            {
                "name": f"job-{j}",
                "instance_type": rng.choice(TRAINING_TYPES),
                "count": rng.randint(1, 3),
                "market": rng.choice(["spot", "on-demand"]),
                "model_id": f"model-{index}",
                "root_volume_gb": rng.choice([100, 200, 500]),
            }
            for j in range(rng.randint(1, 2))
        ]
    if environment != "dev":
        minimum = rng.randint(0, 2)
        maximum = minimum + rng.randint(1, 6)
        manifest["inference"] = [
            {
                "name": "serve",
                "cluster": CLUSTERS[region],
                "instance_types": rng.choice(SERVING_TYPES),
                "market": "on-demand" if environment == "prod" else rng.choice(["spot", "on-demand"]),
                "min_nodes": minimum,
                "max_nodes": maximum,
                "desired_nodes": rng.randint(minimum, maximum),
                "model_id": f"model-{index}",
                "autoscaling": {
                    "namespace": name,
                    "deployment": "server",
                    "min_replicas": 1,
                    "max_replicas": 8,
                    "target_cpu_percent": 70,
                    "target_requests_per_second": 50,
                },
                "tokens_per_second_per_node": rng.choice([900, 2400, 4000]),
            }
        ]
    return manifest


def generate(root: Path, count: int, seed: int = 7) -> Path:
    """Write root/org.yaml (the shipped one) and root/teams/team-NNNN.yaml; returns root."""
    rng = random.Random(seed)
    if root.exists():
        shutil.rmtree(root)
    (root / "teams").mkdir(parents=True)
    shutil.copy(REPO / "manifests" / "org.yaml", root / "org.yaml")
    for index in range(count):
        manifest = team_manifest(index, rng)
        (root / "teams" / f"{manifest['team']}.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description="Write N generated team manifests plus the shipped org.yaml.")
    parser.add_argument("out", type=Path)
    parser.add_argument("-n", "--count", type=int, default=100)
    args = parser.parse_args()
    generate(args.out, args.count)
    print(f"wrote {args.count} team manifests to {args.out}")


if __name__ == "__main__":
    main()
