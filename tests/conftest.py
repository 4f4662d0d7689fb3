"""Session-wide fixtures: the jsii start-up (~20 s) is paid once per test session.

`synthesized_examples` runs the real `stacks.synthesis.synthesize` (real cdktf, real
providers, nothing mocked) over the shipped manifests once; tests assert on the Terraform JSON
it wrote. Tests that need another manifest set call `synthesize` themselves: the jsii runtime
is already up by then, so each extra synth costs about a second.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CHECKPOINT_DISABLE", "1")


@dataclass(frozen=True)
class Synthesized:
    out_dir: Path
    stacks: dict[str, dict]
    manifests: Any = None  # the ManifestSet synthesized (typed loosely: conftest imports no generators at load)

    def resources(self, stack: str, kind: str) -> dict[str, dict]:
        return self.stacks[stack].get("resource", {}).get(kind, {})

    def one(self, stack: str, kind: str) -> dict:
        found = self.resources(stack, kind)
        assert len(found) == 1, f"expected one {kind} in {stack}, found {sorted(found)}"
        return next(iter(found.values()))


def load_output(out_dir: Path) -> dict[str, dict]:
    return {path.parent.name: json.loads(path.read_text()) for path in sorted(out_dir.glob("stacks/*/cdk.tf.json"))}


@pytest.fixture(scope="module")
def moto():
    """A moto server on 127.0.0.1, one per test module (tests/moto_server.py)."""
    from tests.moto_server import module_server

    yield from module_server()


@pytest.fixture(scope="session")
def synthesized_examples(tmp_path_factory) -> Synthesized:
    from generators.manifest.loading import load_manifest_set
    from stacks.synthesis import synthesize

    out = tmp_path_factory.mktemp("synth") / "cdktf.out"
    manifests = load_manifest_set(["manifests"])
    result = synthesize(manifests, out)
    return Synthesized(result.out_dir, load_output(result.out_dir), manifests)


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """Every run's kept daily sums (generators/see/daily_cache.py) go to a folder of this session,
    never the user's ~/.cache; the CLI subprocesses inherit it."""
    from generators.environment import CACHE_DIR_ENV

    os.environ[CACHE_DIR_ENV] = str(tmp_path_factory.mktemp("cache"))
    yield Path(os.environ[CACHE_DIR_ENV])
