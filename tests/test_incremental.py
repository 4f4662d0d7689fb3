"""Incremental synth and scan (issue 17): a stack whose inputs did not change is reused, and the
result is exactly what a full run from scratch writes."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from generators.manifest.loading import load_manifest_set
from generators.provision import synth_cache
from generators.provision.app_builder import plan_app
from generators.scan import checkov_adapter
from stacks.synthesis import synthesize

ROOT = Path(__file__).resolve().parents[1]
CHECKOV = os.environ.get("GENAI_FINOPS_CHECKOV") or str(ROOT / ".venv" / "tools" / "checkov" / "bin" / "checkov")


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def change_alpha_budget(manifests: Path) -> None:
    path = manifests / "teams" / "alpha.yaml"
    text = path.read_text(encoding="utf-8")
    assert "monthly_usd: 5000" in text
    path.write_text(text.replace("monthly_usd: 5000", "monthly_usd: 5100"), encoding="utf-8")


@pytest.fixture(scope="module")
def incremental(tmp_path_factory):
    """Examples synthesized once; then alpha.yaml changed and synthesized again reusing the
    rest, and from scratch into a sibling directory for comparison."""
    root = tmp_path_factory.mktemp("incremental")
    manifests = root / "manifests"
    shutil.copytree(ROOT / "manifests", manifests)
    first = synthesize(load_manifest_set([str(manifests)]), root / "a" / "cdktf.out")
    before = tree(first.out_dir)
    starts = []
    again = synthesize(load_manifest_set([str(manifests)]), root / "a" / "cdktf.out", starting=lambda: starts.append(1))
    unchanged_run = (again, starts, before, tree(again.out_dir))
    change_alpha_budget(manifests)
    incremental = synthesize(load_manifest_set([str(manifests)]), root / "a" / "cdktf.out")
    full = synthesize(load_manifest_set([str(manifests)]), root / "b" / "cdktf.out", reuse=False)
    return root, manifests, unchanged_run, incremental, full


def test_an_unchanged_synth_reuses_every_stack_without_starting_cdktf(incremental):
    _root, _manifests, (again, starts, before, after), _inc, _full = incremental
    assert set(again.reused) == {"governance", "alpha", "bravo", "charlie"}
    assert starts == [], "cdktf (jsii) must not start when nothing changed"
    assert after == before


def test_one_changed_manifest_rebuilds_its_stack_and_governance_and_equals_a_full_run(incremental):
    _root, _manifests, _unchanged, inc, full = incremental
    # governance reads only the teams' regions, which a budget change leaves alone.
    assert set(inc.reused) == {"governance", "bravo", "charlie"}
    assert full.reused == ()
    a, b = tree(inc.out_dir), tree(full.out_dir)
    assert sorted(a) == sorted(b)
    different = [name for name in a if a[name] != b[name]]
    assert different == [], f"incremental output differs from a full run in {different}"
    alpha = json.loads(a["stacks/alpha/cdk.tf.json"])
    assert 5100 in [float(b["limit_amount"]) for b in alpha["resource"]["aws_budgets_budget"].values()], "the change is in"


def test_a_stack_edited_after_synth_is_built_again(incremental, tmp_path):
    root, manifests, *_ = incremental
    out = tmp_path / "cdktf.out"
    shutil.copytree(root / "a" / "cdktf.out", out)
    stack = out / "stacks" / "bravo" / "cdk.tf.json"
    stack.write_text(stack.read_text(encoding="utf-8").replace('"us-east-1"', '"us-east-2"', 1), encoding="utf-8")
    loaded = load_manifest_set([str(manifests)])
    digests = synth_cache.stack_digests(loaded, plan_app(loaded, None, out))
    assert "bravo" not in synth_cache.unchanged_stacks(out, digests, "stacks")


@pytest.mark.parametrize("record", ["missing", "not json", '{"format": 0, "stacks": {}}'])
def test_any_doubt_about_the_record_rebuilds_everything(incremental, tmp_path, record):
    root, manifests, *_ = incremental
    out = tmp_path / "cdktf.out"
    shutil.copytree(root / "a" / "cdktf.out", out)
    inputs = out / synth_cache.INPUTS_FILE
    if record == "missing":
        inputs.unlink()
    else:
        inputs.write_text(record, encoding="utf-8")
    loaded = load_manifest_set([str(manifests)])
    digests = synth_cache.stack_digests(loaded, plan_app(loaded, None, out))
    assert synth_cache.unchanged_stacks(out, digests, "stacks") == []


def test_a_team_in_a_new_region_rebuilds_governance(incremental, tmp_path):
    """governance puts Config rules in every team region: a team moving region must rebuild it."""
    _root, manifests, *_ = incremental
    copy = tmp_path / "manifests"
    shutil.copytree(manifests, copy)
    loaded = load_manifest_set([str(copy)])
    before = synth_cache.stack_digests(loaded, plan_app(loaded, None, tmp_path / "out"))
    path = copy / "teams" / "alpha.yaml"
    text = path.read_text(encoding="utf-8")
    assert "region: us-east-1" in text
    path.write_text(text.replace("region: us-east-1", "region: us-west-2"), encoding="utf-8")
    loaded = load_manifest_set([str(copy)])
    after = synth_cache.stack_digests(loaded, plan_app(loaded, None, tmp_path / "out"))
    assert {name for name in before if before[name] != after[name]} == {"alpha"}, "us-west-2 already had a team"
    (copy / "teams" / "charlie.yaml").unlink()  # now alpha is the only team there, bravo keeps us-east-1
    loaded = load_manifest_set([str(copy)])
    alone = synth_cache.stack_digests(loaded, plan_app(loaded, None, tmp_path / "out"))
    path.write_text(text, encoding="utf-8")
    loaded = load_manifest_set([str(copy)])
    back = synth_cache.stack_digests(loaded, plan_app(loaded, None, tmp_path / "out"))
    assert alone["governance"] != back["governance"], "us-west-2 left the governance regions"
    assert alone["bravo"] == back["bravo"]


def test_a_code_change_changes_every_digest(tmp_path):
    for directory in synth_cache.CODE_DIRS:
        (tmp_path / directory).mkdir()
    (tmp_path / "modules" / "x.py").write_text("A = 1\n", encoding="utf-8")
    before = synth_cache.code_digest(tmp_path)
    (tmp_path / "modules" / "x.py").write_text("A = 2\n", encoding="utf-8")
    assert synth_cache.code_digest(tmp_path) != before


@pytest.mark.slow
def test_a_cached_scan_reports_exactly_what_a_full_scan_reports(incremental, tmp_path):
    from generators.scan.results import load_stacks, results_from_report

    _root, _manifests, _unchanged, inc, full = incremental
    policy = {"required_tags": ["Team"], "allowed_instance_types": ["g5.*", "g6.*", "g6e.*"]}
    cache = tmp_path / "cache"
    stacks = load_stacks(full.out_dir)
    # Prime the cache, then break charlie's tags: only charlie may go through checkov again.
    checkov_adapter.run_checkov(CHECKOV, stacks, policy, cache=cache)
    target = full.out_dir / "stacks" / "charlie" / "cdk.tf.json"
    document = json.loads(target.read_text(encoding="utf-8"))
    instance = next(iter(document["resource"]["aws_instance"].values()))
    del instance["tags"]["Team"]
    target.write_text(synth_cache.cdktf_json(document), encoding="utf-8")
    stacks = load_stacks(full.out_dir)

    cached = checkov_adapter.run_checkov(CHECKOV, stacks, policy, cache=cache)
    fresh = checkov_adapter.run_checkov(CHECKOV, stacks, policy)

    assert cached["reused"] == ["alpha", "bravo", "governance"]
    key = lambda r: (r.stack, r.status, r.check_id, r.resource, r.lines, tuple(r.details))  # noqa: E731
    assert sorted(map(key, results_from_report(cached, stacks))) == sorted(map(key, results_from_report(fresh, stacks)))
    assert any(r.status == "failed" and r.stack == "charlie" for r in results_from_report(cached, stacks)), "the edit is seen"


def test_the_synth_cache_is_keyed_by_what_it_reads_not_the_working_directory(tmp_path, monkeypatch):
    """An S3 backend: the same manifests and output, reached from two directories, give the same
    digests. A local backend: the digest holds the state file's path from the stack's directory,
    which is what the stack's JSON holds, and changes exactly when that path does."""
    from tests.manifest_helpers import example, write_manifests

    org = example("org")
    org["state"] = {"backend": "s3", "bucket": "acme-genai-tfstate", "region": "us-east-1"}
    root = write_manifests(tmp_path / "m", {"alpha": example("alpha")}, org)
    out = tmp_path / "project" / "cdktf.out"
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "project").mkdir()

    def digests(cwd: Path, manifests: Path) -> dict[str, str]:
        monkeypatch.chdir(cwd)
        loaded = load_manifest_set([str(manifests)])
        return synth_cache.stack_digests(loaded, plan_app(loaded, out_dir=out))

    assert digests(tmp_path / "project", root) == digests(tmp_path / "elsewhere", root)
    local = write_manifests(tmp_path / "local", {"alpha": example("alpha")})
    from_project, from_elsewhere = digests(tmp_path / "project", local), digests(tmp_path / "elsewhere", local)
    assert from_project != from_elsewhere  # state/<stack>.tfstate is under the working directory: another file
    assert from_project == digests(tmp_path / "project", local)
