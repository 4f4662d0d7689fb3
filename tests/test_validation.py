"""Every validation rule, each broken once, with the message an ML team would read."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from generators.errors import ManifestError
from generators.manifest.loading import load_manifest_set
from tests.manifest_helpers import example, write_manifests


def set_path(doc: dict, path: str, value) -> None:
    *parents, last = path.split(".")
    for part in parents:
        doc = doc[int(part)] if part.isdigit() else doc[part]
    if last.isdigit():
        doc[int(last)] = value
    else:
        doc[last] = value


def team_rule(team: str, path: str, value) -> Callable[[dict, dict], None]:
    def mutate(teams: dict, org: dict) -> None:
        set_path(teams[team], path, value)

    return mutate


def org_rule(path: str, value) -> Callable[[dict, dict], None]:
    def mutate(teams: dict, org: dict) -> None:
        set_path(org, path, value)

    return mutate


def run_rule(tmp_path, mutate) -> list[str]:
    teams = {name: example(name) for name in ("alpha", "bravo", "charlie")}
    org = example("org")
    mutate(teams, org)
    write_manifests(tmp_path, teams, org)
    with pytest.raises(ManifestError) as caught:
        load_manifest_set([str(tmp_path)])
    return [str(p) for p in caught.value.problems]


def add_entry(team: str, section: str, index: int, **changes):
    def mutate(teams, org):
        entry = dict(teams[team][section][index], **changes)
        teams[team][section].append(entry)

    return mutate


def add_entries(team: str, section: str, index: int, **counts: int):
    def mutate(teams, org):
        for name, count in counts.items():
            teams[team][section].append(dict(teams[team][section][index], name=name, count=count))

    return mutate


def neuron_allowed(team: str, dotted: str, value: Any):
    """Allow the Neuron families in org.yaml, then set `dotted` in `team`."""
    inner = team_rule(team, dotted, value)

    def mutate(teams, org):
        org["allowed_instance_types"] += ["inf2.*", "trn1.*"]
        inner(teams, org)

    return mutate


RULES = [
    ("team name upper case and symbols", team_rule("alpha", "team", "Alpha_1"), "alpha.yaml", "team: got text 'Alpha_1'; expected lower-case letters"),
    ("team name reserved", team_rule("alpha", "team", "governance"), "alpha.yaml", "'governance' is reserved"),
    ("team file name differs", team_rule("alpha", "team", "alpha-two"), "alpha.yaml", "must be in a file named alpha-two.yaml"),
    ("region not allowed", team_rule("alpha", "region", "us-east-2"), "alpha.yaml", "region: region 'us-east-2' is not allowed; allowed: us-east-1, us-west-2, eu-west-1 (did you mean"),
    ("environment", team_rule("alpha", "environment", "production"), "alpha.yaml", "environment: got text 'production'; allowed: dev, staging, prod (did you mean 'prod'?)"),
    ("owner e-mail", team_rule("alpha", "owner", "alpha team"), "alpha.yaml", "owner: got text 'alpha team'; expected an e-mail address"),
    ("tag redefines a field tag", team_rule("alpha", "tags.Team", "other"), "alpha.yaml", "tags.Team: tag 'Team' is a required tag that comes from the 'team' field"),
    ("tag redefines in other case", team_rule("alpha", "tags.owner", "x"), "alpha.yaml", "tags.owner: tag 'owner' is a required tag that comes from the 'owner' field"),
    ("tag with aws: prefix", team_rule("alpha", "tags.aws:team", "x"), "alpha.yaml", "tags.aws:team: tag keys may not start with 'aws:'"),
    ("tag key too long", team_rule("alpha", "tags." + "K" * 129, "x"), "alpha.yaml", "tag key is 129 characters; AWS allows at most 128"),
    ("tag value too long", team_rule("alpha", "tags.Extra", "v" * 257), "alpha.yaml", "tags.Extra: tag value is 257 characters; AWS allows at most 256"),
    ("tag value characters", team_rule("alpha", "tags.Extra", "a;b"), "alpha.yaml", "tags.Extra: tag value has characters AWS does not allow"),
    ("tag value not text", team_rule("alpha", "tags.Extra", 5), "alpha.yaml", "tags.Extra: got number 5; expected text"),
    ("required tag supplied by nothing", org_rule("required_tags", ["Team", "Project", "Owner", "Environment", "CostCenter", "ModelID", "DataOwner"]), "bravo.yaml", "tags: required tag 'DataOwner' is not supplied by any field; add it under tags"),
    ("timezone", team_rule("alpha", "schedule.timezone", "Europe/Berln"), "alpha.yaml", "schedule.timezone: 'Europe/Berln' is not an IANA time zone; did you mean 'Europe/Berlin'?"),
    ("timezone abbreviation gets no look-alike", team_rule("alpha", "schedule.timezone", "JST"), "alpha.yaml", "schedule.timezone: 'JST' is not an IANA time zone; use an Area/City name such as Europe/Berlin or Asia/Tokyo"),
    ("timezone offset keeps its offset", team_rule("alpha", "schedule.timezone", "UTC+9"), "alpha.yaml", "'UTC+9' is not an IANA time zone; a fixed offset is Etc/GMT-9 (no daylight saving time)"),
    ("no weekdays", team_rule("alpha", "schedule.weekdays", []), "alpha.yaml", "schedule.weekdays: is an empty list; give at least 1 item"),
    ("HH:MM", team_rule("alpha", "schedule.start", "8:00"), "alpha.yaml", "schedule.start: got text '8:00'; expected a 24-hour time \"HH:MM\""),
    ("HH:MM hour 24", team_rule("alpha", "schedule.stop", "24:00"), "alpha.yaml", "schedule.stop: got text '24:00'"),
    ("start before stop", team_rule("alpha", "schedule.start", "20:00"), "alpha.yaml", "schedule: start (20:00) must be earlier than stop (19:00)"),
    ("weekday name", team_rule("alpha", "schedule.weekdays", ["mon", "tues"]), "alpha.yaml", "schedule.weekdays[1]: got text 'tues'; allowed: mon, tue, wed, thu, fri, sat, sun (did you mean 'tue'?)"),
    ("hours beyond the schedule", team_rule("alpha", "training.1.hours_per_month", 300), "alpha.yaml", "training[1].hours_per_month: 300 hours is more than the schedule allows in any month ("),
    ("utilization zero", team_rule("bravo", "inference.0.utilization_percent", 0), "bravo.yaml", "inference[0].utilization_percent: got number 0; must be greater than or equal to 1"),
    ("org cost gate", org_rule("cost_gate", "max"), "org.yaml", "cost_gate: got text 'max'; allowed: expected, high"),
    ("schedule on prod", team_rule("alpha", "environment", "prod"), "alpha.yaml", "schedule: a prod manifest may not have a schedule: off-hours never stops prod resources"),
    ("node volume under the EKS AMI's", team_rule("bravo", "inference.0.node_volume_gb", 10), "bravo.yaml", "inference[0].node_volume_gb: got number 10; must be greater than or equal to 20"),
    ("training root under the DLAMI snapshot", team_rule("alpha", "training.0.root_volume_gb", 60), "alpha.yaml", "training[0].root_volume_gb: 60 GiB is smaller than the 75 GiB root snapshot of the Deep Learning AMI"),
    ("cronjob name too long", team_rule("charlie", "inference.0.name", "s" * 40), "charlie.yaml", "inference[0].name: makes the Kubernetes CronJob name"),
    ("weekday twice", team_rule("alpha", "schedule.weekdays", ["mon", "mon"]), "alpha.yaml", "weekdays listed twice: mon"),
    ("threshold twice", team_rule("alpha", "budget.alerts_percent", [50, 80, 50.0]), "alpha.yaml", "budget.alerts_percent: thresholds listed twice: 50"),
    ("pool type twice", team_rule("bravo", "inference.0.instance_types", ["g5.xlarge", "g5.xlarge"]), "bravo.yaml", "inference[0].instance_types: instance types listed twice: g5.xlarge"),
    ("budget zero", team_rule("alpha", "budget.monthly_usd", 0), "alpha.yaml", "budget.monthly_usd: got number 0; must be greater than 0"),
    ("budget over org cap", team_rule("alpha", "budget.monthly_usd", 100001), "alpha.yaml", "budget.monthly_usd: 100001 USD is over the org cap of 100000 USD"),
    ("more than ten notifications", team_rule("alpha", "budget.alerts_percent", list(range(10, 110, 10))), "alpha.yaml", "budget.alerts_percent: 11 notifications (alerts plus forecast); AWS Budgets allows at most 10"),
    ("more than ten recipients", team_rule("alpha", "budget.notify", [f"p{i}@example.com" for i in range(11)]), "alpha.yaml", "budget.notify: 11 e-mail addresses; AWS Budgets allows at most 10"),
    ("recipient twice", team_rule("alpha", "budget.notify", ["a@example.com", "a@example.com"]), "alpha.yaml", "budget.notify: listed twice: a@example.com"),
    ("deny-new-gpu without roles", team_rule("alpha", "budget.on_exceed", "deny-new-gpu"), "alpha.yaml", "budget: action_role_names is required when on_exceed is deny-new-gpu"),
    ("stop-training without training", team_rule("bravo", "budget.on_exceed", "stop-training"), "bravo.yaml", "budget.on_exceed: stop-training needs at least one training entry"),
    ("stop-training over the SSM action limit", add_entries("alpha", "training", 0, more=64, most=64), "alpha.yaml", "budget.on_exceed: stop-training would stop 131 training instances; an AWS Budgets action stops at most 100"),
    ("unknown instance type", team_rule("alpha", "training.0.instance_type", "g5.xlarg"), "alpha.yaml", "training[0].instance_type: 'g5.xlarg' is not a known accelerated (GPU or Neuron) instance type; did you mean g5.xlarge"),
    ("not a GPU type", team_rule("alpha", "training.0.instance_type", "m5.large"), "alpha.yaml", "'m5.large' is not a known accelerated (GPU or Neuron) instance type"),
    ("neuron training", neuron_allowed("alpha", "training.0.instance_type", "trn1.2xlarge"), "alpha.yaml", "training[0].instance_type: 'trn1.2xlarge' is an AWS Neuron type; training instances launch the NVIDIA Deep Learning AMI"),
    ("pool mixes nvidia and neuron", neuron_allowed("bravo", "inference.0.instance_types", ["g5.xlarge", "inf2.xlarge"]), "bravo.yaml", "inference[0].instance_types: mixes NVIDIA and AWS Neuron types (g5.xlarge, inf2.xlarge)"),
    ("instance type not allowed", team_rule("alpha", "training.0.instance_type", "g4dn.xlarge"), "alpha.yaml", "training[0].instance_type: 'g4dn.xlarge' is not allowed by org policy (allowed: g5.*, g6.*, g6e.*, p4d.*, p5.*)"),
    ("pool instance type not allowed", team_rule("bravo", "inference.0.instance_types", ["g5.xlarge", "p5e.48xlarge"]), "bravo.yaml", "inference[0].instance_types[1]: 'p5e.48xlarge' is not allowed by org policy"),
    ("prod spot inference", team_rule("bravo", "inference.0.market", "spot"), "bravo.yaml", "inference[0].market: spot inference is not allowed for prod teams"),
    ("unknown cluster", team_rule("bravo", "inference.0.cluster", "genai-shard"), "bravo.yaml", "inference[0].cluster: cluster 'genai-shard' is not in org.yaml clusters (known: genai-shared, genai-west) (did you mean 'genai-shared'?)"),
    ("cluster in another region", team_rule("bravo", "inference.0.cluster", "genai-west"), "bravo.yaml", "cluster 'genai-west' is in us-west-2, but this manifest's region is us-east-1"),
    ("min desired max", team_rule("bravo", "inference.0.desired_nodes", 9), "bravo.yaml", "inference[0]: min_nodes <= desired_nodes <= max_nodes must hold, got 2 <= 9 <= 8"),
    ("max nodes zero", team_rule("bravo", "inference.0.max_nodes", 0), "bravo.yaml", "inference[0].max_nodes: got number 0; must be greater than or equal to 1"),
    ("replicas", team_rule("bravo", "inference.0.autoscaling.min_replicas", 20), "bravo.yaml", "inference[0].autoscaling: min_replicas (20) must be <= max_replicas (16)"),
    ("duplicate entry names", add_entry("alpha", "training", 0), "alpha.yaml", "training[2].name: name 'finetune' is already used by training[0]"),
    ("unknown field", team_rule("bravo", "inference.0.autoscalling", {}), "bravo.yaml", "inference[0].autoscalling: unknown field 'autoscalling'; did you mean 'autoscaling'?"),
    ("version", team_rule("alpha", "version", 2), "alpha.yaml", "version: got number 2; allowed: 1"),
    ("org pattern matches nothing", org_rule("allowed_instance_types", ["g5.*", "m5.*"]), "org.yaml", "allowed_instance_types[1]: pattern 'm5.*' matches no known accelerated instance type"),
    ("org region code", org_rule("allowed_regions", ["us-east-1", "us-west-2", "eu-west-1", "Mars"]), "org.yaml", "allowed_regions[3]: 'Mars' is not an AWS region code"),
    ("org required tag twice", org_rule("required_tags", ["Team", "Team", "Project", "Owner", "Environment", "CostCenter", "ModelID"]), "org.yaml", "required_tags[1]: tag 'Team' is listed twice"),
    ("org s3 state without bucket", org_rule("state", {"backend": "s3"}), "org.yaml", "state: backend s3 needs both bucket and region"),
    ("org cluster region not allowed", org_rule("clusters.genai-west.region", "ap-south-1"), "org.yaml", "clusters.genai-west.region: cluster region 'ap-south-1' is not in allowed_regions"),
]


@pytest.mark.parametrize("mutate,file,expected", [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_rule_reports_file_field_and_reason(tmp_path, mutate, file, expected):
    problems = run_rule(tmp_path, mutate)
    matching = [p for p in problems if file in p.split(":")[0] and expected in p]
    assert matching, f"expected a problem in {file} containing {expected!r}, got:\n" + "\n".join(problems)


def test_prod_spot_training_refused_when_org_forbids_it(tmp_path):
    def mutate(teams, org):
        org["prod"]["allow_spot_training"] = False
        teams["alpha"]["environment"] = "prod"

    problems = run_rule(tmp_path, mutate)
    assert any("training[0].market: spot training is not allowed for prod teams" in p for p in problems)


def test_training_needs_a_network_in_its_region(tmp_path):
    problems = run_rule(tmp_path, lambda teams, org: org["networks"].pop("us-east-1"))
    assert any("alpha.yaml" in p and "training[0]: org.yaml has no network for region us-east-1" in p for p in problems)


def test_duplicate_team_across_files_names_both_files(tmp_path):
    teams = {"alpha": example("alpha"), "bravo": example("alpha")}
    write_manifests(tmp_path, teams)
    with pytest.raises(ManifestError) as caught:
        load_manifest_set([str(tmp_path)])
    duplicate = [str(p) for p in caught.value.problems if "already defined" in p.message]
    # Reported once, at the second file's team field, naming the first file and its line.
    assert duplicate == [f"{tmp_path}/teams/bravo.yaml:2:7: team: team 'alpha' is already defined in "
                         f"{tmp_path}/teams/alpha.yaml:2; team names must be unique"]


def test_problems_carry_line_and_column_of_the_field(tmp_path):
    problems = run_rule(tmp_path, team_rule("bravo", "inference.0.cluster", "genai-shard"))
    (problem,) = [p for p in problems if "cluster" in p]
    path, line, column, _ = problem.split(":", 3)
    assert path.endswith("bravo.yaml") and int(line) > 1 and int(column) > 1


def test_names_derived_for_aws_must_fit_aws_limits(tmp_path):
    long_team = "t" * 30

    def mutate(teams, org):
        bravo = teams.pop("bravo")
        bravo["team"] = long_team
        bravo["inference"][0]["name"] = "p" * 40
        teams[long_team] = bravo

    problems = run_rule(tmp_path, mutate)
    expected = f"inference[0].name: makes the EKS nodegroupName '{long_team}-{'p' * 40}' (71 characters); AWS allows at most 63"
    assert any(expected in p for p in problems), problems


def test_a_tab_in_the_indentation_says_so(tmp_path):
    teams = {name: example(name) for name in ("alpha", "bravo")}
    write_manifests(tmp_path, teams)
    bravo = tmp_path / "teams" / "bravo.yaml"
    bravo.write_text(bravo.read_text().replace("\n  on_exceed:", "\n\ton_exceed:"))
    with pytest.raises(ManifestError) as caught:
        load_manifest_set([str(tmp_path)])
    (problem,) = caught.value.problems
    assert problem.message == "a tab character: YAML indents with spaces only; replace the tab with spaces"
    assert problem.path.endswith("bravo.yaml") and problem.column == 1


def test_a_cpu_target_above_100_percent_is_valid_as_in_kubernetes(tmp_path):
    bravo = example("bravo")
    bravo["inference"][0]["autoscaling"]["target_cpu_percent"] = 150
    write_manifests(tmp_path, {"bravo": bravo})
    assert load_manifest_set([str(tmp_path)]).team("bravo").inference[0].autoscaling.target_cpu_percent == 150


def test_the_org_recommend_settings_default_and_their_time_zone_is_checked(tmp_path):
    from generators.errors import ManifestError
    from generators.manifest.loading import load_manifest_set
    from tests.manifest_helpers import example, write_manifests

    loaded = load_manifest_set([str(write_manifests(tmp_path / "a", {"alpha": example("alpha")}))])
    assert (loaded.org.recommend.target_gpu_busy_percent, loaded.org.recommend.min_monthly_saving_usd, loaded.org.recommend.timezone) == (70, 0, "UTC")
    org = example("org")
    org["recommend"] = {"timezone": "UTC+2", "target_gpu_busy_percent": 150}
    with pytest.raises(ManifestError) as caught:
        load_manifest_set([str(write_manifests(tmp_path / "b", {"alpha": example("alpha")}, org))])
    assert [p.field for p in caught.value.problems] == ["recommend.target_gpu_busy_percent"]
    org["recommend"] = {"timezone": "UTC+2"}
    with pytest.raises(ManifestError) as caught:
        load_manifest_set([str(write_manifests(tmp_path / "c", {"alpha": example("alpha")}, org))])
    [problem] = caught.value.problems
    assert problem.field == "recommend.timezone" and "Etc/GMT-2" in problem.message
