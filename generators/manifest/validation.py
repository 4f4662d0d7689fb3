"""Rules that need the org policy, several fields, or several files.

The pydantic models already checked each field on its own. Here: org allow-lists, AWS limits
(tags, resource names, budget notifications), IANA time zones, and cross-file rules (unique
team names). Every rule returns Problems located in the file and field that must change.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, Sequence

from generators import amis, catalog, kubernetes, labels, naming, tags
from generators.errors import Problem, did_you_mean, format_path
from generators.manifest.schedule_rules import check_schedule, check_timezone
from generators.model import InferencePool, ManagedModel, OrgPolicy, TeamManifest, TrainingJob, repeated
from generators.yaml_source import SourceDocument
from policies import gfo_facts as facts

# https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_Notification.html:
# "A budget can have up to ten notifications."
MAX_BUDGET_NOTIFICATIONS = 10
# https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_NotificationWithSubscribers.html:
# "A notification can have one SNS subscriber and up to 10 email subscribers".
MAX_EMAIL_SUBSCRIBERS = 10
# https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_SsmActionDefinition.html:
# InstanceIds, "Array Members: Minimum number of 1 item. Maximum number of 100 items."
MAX_SSM_ACTION_INSTANCES = 100
# Cost Anomaly Detection: "up to 500 custom monitors per account" (a secondary source, a provider
# module's reference checked against the service on 2026-08-25: read 2026-12-02; AWS's own quota
# page could not be read from here). One monitor per team (modules/anomaly_monitor.py).
MAX_CUSTOM_ANOMALY_MONITORS = 500
# The manifest field each field-supplied tag comes from, by lower-cased tag key (tags.field_tags).
TAG_FIELDS = {"team": "team", "project": "project", "owner": "owner", "environment": "environment", "costcenter": "cost_center"}
# Region codes such as us-east-1, eu-west-1, us-gov-west-1 (policies/gfo_facts.py cites the source).
REGION_PATTERN = re.compile(facts.REGION_PATTERN)


def validate_set(org_doc: SourceDocument, org: OrgPolicy, teams: list[tuple[SourceDocument, TeamManifest]]) -> list[Problem]:
    problems = validate_org(org_doc, org)
    seen: dict[str, SourceDocument] = {}
    claimed: dict[tuple[str, str, str], tuple[SourceDocument, tuple]] = {}  # (cluster, namespace, deployment) -> first claim
    owners: dict[tuple[str, str], tuple[str, SourceDocument, tuple]] = {}  # created (cluster, namespace) -> its team
    for document, manifest in teams:
        problems.extend(validate_team(document, manifest, org))
        for index, pool in enumerate(manifest.inference):
            if pool.autoscaling is None:
                continue
            key = (pool.cluster, pool.autoscaling.namespace, pool.autoscaling.deployment)
            field = ("inference", index, "autoscaling", "deployment")
            if key in claimed:
                first_doc, first_field = claimed[key]
                line, _ = first_doc.locate(first_field)
                problems.append(document.problem(field, (
                    f"Deployment '{key[2]}' in namespace '{key[1]}' of cluster '{key[0]}' is already autoscaled by {first_doc.path}:{line}; "
                    "two HPAs (and two schedules) on one Deployment fight each other: one pool per Deployment")))
            else:
                claimed[key] = (document, field)
        problems.extend(_created_namespaces(document, manifest, org, owners))
        first = seen.get(manifest.team)
        if first is not None:
            line, _ = first.locate(("team",))
            problems.append(
                document.problem(("team",), f"team '{manifest.team}' is already defined in {first.path}:{line}; team names must be unique")
            )
        else:
            seen[manifest.team] = document
    if org.anomalies.create_monitors and len(teams) > MAX_CUSTOM_ANOMALY_MONITORS:
        problems.append(org_doc.problem(("anomalies", "create_monitors"), (
            f"{len(teams)} teams would need {len(teams)} Cost Anomaly Detection monitors (one per team); an account holds at most "
            f"{MAX_CUSTOM_ANOMALY_MONITORS} custom monitors: set create_monitors false, or split the teams over accounts "
            "(showback --last 2 finds anomalies for any number of teams)")))
    return problems


def _created_namespaces(
    document: SourceDocument, manifest: TeamManifest, org: OrgPolicy, owners: dict[tuple[str, str], tuple[str, SourceDocument, tuple]]
) -> list[Problem]:
    """On a cluster with create_namespaces, each namespace is one team stack's: two stacks
    creating it would collide (the second apply: "already exists"), and one stack's destroy would
    delete the other's objects with it. Kubernetes' own namespaces are never created."""
    problems = []
    for index, pool in enumerate(manifest.inference):
        if pool.autoscaling is None or pool.cluster not in org.clusters or not org.clusters[pool.cluster].create_namespaces:
            continue
        namespace = pool.autoscaling.namespace
        field = ("inference", index, "autoscaling", "namespace")
        if namespace in kubernetes.INITIAL_NAMESPACES:
            problems.append(document.problem(field, (
                f"namespace '{namespace}' is one Kubernetes creates itself, and clusters.{pool.cluster}.create_namespaces is true: "
                "the stack would try to create (and on destroy delete) it; use a namespace of the team's own")))
            continue
        owner = owners.setdefault((pool.cluster, namespace), (manifest.team, document, field))
        if owner[0] != manifest.team:
            line, _ = owner[1].locate(owner[2])
            problems.append(document.problem(field, (
                f"namespace '{namespace}' of cluster '{pool.cluster}' is created by team '{owner[0]}' ({owner[1].path}:{line}), "
                f"and clusters.{pool.cluster}.create_namespaces is true: a created namespace belongs to one team's stack; "
                "use another namespace, or set create_namespaces to false and create shared namespaces beforehand")))
    return problems


# --------------------------------------------------------------------------- org policy


def validate_org(doc: SourceDocument, org: OrgPolicy) -> list[Problem]:
    problems: list[Problem] = []
    for index, key in enumerate(org.required_tags):
        reason = tags.key_problem(key)
        if reason:
            problems.append(doc.problem(("required_tags", index), reason))
        if org.required_tags.index(key) != index:
            problems.append(doc.problem(("required_tags", index), f"tag '{key}' is listed twice"))
    problems += check_timezone(doc, ("recommend", "timezone"), org.recommend.timezone)
    for index, region in enumerate(org.allowed_regions):
        if not REGION_PATTERN.match(region):
            problems.append(doc.problem(("allowed_regions", index), f"'{region}' is not an AWS region code such as us-east-1"))
    for index, pattern in enumerate(org.allowed_instance_types):
        if not any(facts.glob_match(pattern, name) for name in catalog.INSTANCE_TYPES):
            problems.append(
                doc.problem(
                    ("allowed_instance_types", index),
                    f"pattern '{pattern}' matches no known accelerated instance type; known families: {', '.join(catalog.FAMILIES)}",
                )
            )
    for name, cluster in org.clusters.items():
        if cluster.region not in org.allowed_regions:
            problems.append(
                doc.problem(("clusters", name, "region"), f"cluster region '{cluster.region}' is not in allowed_regions ({', '.join(org.allowed_regions)})")
            )
    for region in org.networks:
        if region not in org.allowed_regions:
            problems.append(doc.problem(("networks", region), f"network region '{region}' is not in allowed_regions ({', '.join(org.allowed_regions)})"))
    if org.governance.create_billing_export and org.billing is None:
        problems.append(
            doc.problem(("governance", "create_billing_export"), "the export needs a bucket: add billing.export_bucket (and export_prefix) to org.yaml")
        )
    if org.state.region is not None and not REGION_PATTERN.match(org.state.region):
        problems.append(doc.problem(("state", "region"), f"'{org.state.region}' is not an AWS region code such as us-east-1"))
    return problems


# --------------------------------------------------------------------------- team manifest


def validate_team(doc: SourceDocument, manifest: TeamManifest, org: OrgPolicy) -> list[Problem]:
    problems: list[Problem] = []
    problems += _identity(doc, manifest)
    problems += _region(doc, manifest, org)
    problems += _tags(doc, manifest, org)
    problems += check_schedule(doc, manifest)
    problems += _budget(doc, manifest, org)
    problems += _entries(doc, manifest, org)
    problems += _names(doc, manifest)
    problems += _node_labels(doc, manifest)
    return problems


def _identity(doc: SourceDocument, manifest: TeamManifest) -> list[Problem]:
    problems = []
    if manifest.team in naming.RESERVED_TEAM_NAMES:
        problems.append(doc.problem(("team",), f"'{manifest.team}' is reserved for the org-wide stack; choose another team name"))
    stem = Path(doc.path).stem
    if stem != manifest.team:
        problems.append(doc.problem(("team",), f"team '{manifest.team}' must be in a file named {manifest.team}.yaml (this file is {Path(doc.path).name})"))
    return problems


def _region(doc: SourceDocument, manifest: TeamManifest, org: OrgPolicy) -> list[Problem]:
    if manifest.region in org.allowed_regions:
        return []
    return [doc.problem(("region",), f"region '{manifest.region}' is not allowed; allowed: "
        f"{', '.join(org.allowed_regions)}{did_you_mean(manifest.region, org.allowed_regions)}")]


def _tags(doc: SourceDocument, manifest: TeamManifest, org: OrgPolicy) -> list[Problem]:
    problems = []
    from_fields = {key.lower(): key for key in tags.field_tags(manifest)}
    for key, value in manifest.tags.items():
        field = ("tags", key)
        reason = tags.key_problem(key)
        if reason:
            problems.append(doc.problem(field, reason, key=True))
        if key.lower() in from_fields:
            source = TAG_FIELDS[key.lower()]
            problems.append(doc.problem(field, f"tag '{key}' is a required tag that comes from the '{source}' field; remove it from tags", key=True))
        reason = tags.value_problem(value)
        if reason:
            problems.append(doc.problem(field, reason))
    for key in tags.missing_required(manifest, org):
        problems.append(doc.problem(("tags",), f"required tag '{key}' is not supplied by any field; add it under tags (org.yaml "
            f"requires {', '.join(org.required_tags)})"))
    resource_tags = tags.model_tags(manifest, "x")
    if len(resource_tags) > tags.MAX_TAGS_PER_RESOURCE:
        problems.append(doc.problem(("tags",), f"resources would carry {len(resource_tags)} tags; AWS allows at most {tags.MAX_TAGS_PER_RESOURCE}"))
    for index, job in enumerate(manifest.training):
        reason = tags.value_problem(job.model_id)
        if reason:
            problems.append(doc.problem(("training", index, "model_id"), f"becomes the ModelID tag: {reason}"))
    entries: tuple[tuple[str, Sequence[TrainingJob | InferencePool | ManagedModel]], ...] = (
        ("inference", manifest.inference), ("managed_models", manifest.managed_models))
    for section, items in entries:
        for index, item in enumerate(items):
            reason = tags.value_problem(item.model_id)
            if reason:
                problems.append(doc.problem((section, index, "model_id"), f"becomes the ModelID tag: {reason}"))
    problems += _bedrock_tags(doc, manifest)
    for name, value in (("project", manifest.project), ("cost_center", manifest.cost_center)):
        reason = tags.value_problem(value)
        if reason:
            problems.append(doc.problem((name,), f"becomes a tag value: {reason}"))
    return problems


def _bedrock_tags(doc: SourceDocument, manifest: TeamManifest) -> list[Problem]:
    """A managed model's inference profile carries every tag; Bedrock's tag alphabet is ASCII only."""
    if not manifest.managed_models:
        return []
    problems = []
    for key, value in tags.model_tags(manifest, "x").items():
        if key == tags.MODEL_ID_TAG:
            continue
        field = ("tags", key) if key in manifest.tags else (TAG_FIELDS[key.lower()],) if key.lower() in TAG_FIELDS else ("tags",)
        for text, is_key in ((key, True), (value, False)):
            general = tags.key_problem(text) if is_key else tags.value_problem(text)
            reason = tags.bedrock_problem(text) if general is None else None  # a value AWS refuses everywhere is said once
            if reason:
                problems.append(doc.problem(field, f"{'tag key' if is_key else 'tag value'} {text!r}: {reason}", key=is_key and field[0] == "tags"))
    for index, managed in enumerate(manifest.managed_models):
        reason = tags.bedrock_problem(managed.model_id) if tags.value_problem(managed.model_id) is None else None  # else said once, by _tags
        if reason:
            problems.append(doc.problem(("managed_models", index, "model_id"), f"becomes the ModelID tag: {reason}"))
    return problems


def _budget(doc: SourceDocument, manifest: TeamManifest, org: OrgPolicy) -> list[Problem]:
    budget = manifest.budget
    problems = []
    if budget.monthly_usd > org.max_team_monthly_usd:
        problems.append(
            doc.problem(("budget", "monthly_usd"), f"{budget.monthly_usd:g} USD is over the org cap of {org.max_team_monthly_usd:g} "
                "USD (max_team_monthly_usd in org.yaml)")
        )
    notifications = len(budget.alerts_percent) + (1 if budget.forecast_alert_percent is not None else 0)
    if notifications > MAX_BUDGET_NOTIFICATIONS:
        problems.append(
            doc.problem(("budget", "alerts_percent"), f"{notifications} notifications (alerts plus forecast); AWS Budgets allows at "
                f"most {MAX_BUDGET_NOTIFICATIONS} per budget")
        )
    recipients = manifest.alert_recipients
    if len(recipients) > MAX_EMAIL_SUBSCRIBERS:
        problems.append(doc.problem(("budget", "notify"), f"{len(recipients)} e-mail addresses; AWS Budgets allows at most "
            f"{MAX_EMAIL_SUBSCRIBERS} per notification"))
    twice = repeated(recipients)
    if twice:
        problems.append(doc.problem(("budget", "notify"), f"listed twice: {twice}"))
    if budget.on_exceed == "stop-training" and not manifest.training and "training" not in doc.incomplete:
        problems.append(doc.problem(("budget", "on_exceed"), "stop-training needs at least one training entry to stop; use notify or deny-new-gpu"))
    stoppable = sum(job.count for job in manifest.training)
    if budget.on_exceed == "stop-training" and stoppable > MAX_SSM_ACTION_INSTANCES:
        problems.append(
            doc.problem(("budget", "on_exceed"), f"stop-training would stop {stoppable} training instances; an AWS Budgets action "
                f"stops at most {MAX_SSM_ACTION_INSTANCES}: use deny-new-gpu or fewer instances")
        )
    return problems


def _spot_allowed(doc: SourceDocument, manifest: TeamManifest, org: OrgPolicy, section: Literal["training", "inference"], index: int,
                  market: str) -> list[Problem]:
    if market != "spot" or org.allows_spot(manifest.environment, section):
        return []
    return [doc.problem((section, index, "market"),
                        f"spot {section} is not allowed for prod teams (org.yaml prod.allow_spot_{section} is false); use on-demand")]


def _instance_type(doc: SourceDocument, field: tuple, name: str, org: OrgPolicy) -> list[Problem]:
    if catalog.lookup(name) is None:
        hints = catalog.nearest(name)
        suffix = f"; did you mean {' or '.join(hints)}?" if hints else f"; known families: {', '.join(catalog.FAMILIES)}"
        return [doc.problem(field, f"'{name}' is not a known accelerated (GPU or Neuron) instance type{suffix}")]
    if not org.allows_instance_type(name):
        allowed = [t for t in catalog.INSTANCE_TYPES if org.allows_instance_type(t)]
        hints = catalog.nearest(name, allowed)
        suffix = f"; did you mean {' or '.join(hints)}?" if hints else ""
        return [doc.problem(field, f"'{name}' is not allowed by org policy (allowed: {', '.join(org.allowed_instance_types)}){suffix}")]
    return []


def _entries(doc: SourceDocument, manifest: TeamManifest, org: OrgPolicy) -> list[Problem]:
    problems: list[Problem] = []
    names: dict[str, tuple] = {}
    sections: tuple[tuple[str, Sequence[TrainingJob | InferencePool | ManagedModel]], ...] = (
        ("training", manifest.training), ("inference", manifest.inference), ("managed_models", manifest.managed_models))
    for section, entries in sections:
        for index, entry in enumerate(entries):
            field = (section, index, "name")
            if entry.name in names:
                other = format_path(names[entry.name][:2])
                problems.append(doc.problem(field, f"name '{entry.name}' is already used by {other}; names must be unique within the manifest"))
            else:
                names[entry.name] = field
    for index, job in enumerate(manifest.training):
        problems += _instance_type(doc, ("training", index, "instance_type"), job.instance_type, org)
        known = catalog.lookup(job.instance_type)
        if known is not None and known.kind is not catalog.NVIDIA:
            # Training instances boot the NVIDIA Deep Learning AMI (generators/amis.py); a Neuron
            # instance needs the Neuron DLAMI, which genai-finops does not provision yet.
            problems.append(doc.problem(
                ("training", index, "instance_type"),
                f"'{job.instance_type}' is an AWS Neuron type; training instances launch the NVIDIA Deep Learning AMI, "
                f"so Neuron training is not provisioned yet: use an NVIDIA GPU type here (Neuron types work in inference pools)",
            ))
        if job.root_volume_gb < amis.DLAMI_ROOT_SNAPSHOT_GB:
            problems.append(
                doc.problem(
                    ("training", index, "root_volume_gb"),
                    f"{job.root_volume_gb} GiB is smaller than the {amis.DLAMI_ROOT_SNAPSHOT_GB} GiB root snapshot of the Deep Learning AMI "
                    f"the instances boot from, and EC2 refuses to launch it; use at least {amis.DLAMI_ROOT_SNAPSHOT_GB}",
                )
            )
        problems += _spot_allowed(doc, manifest, org, "training", index, job.market)
        if manifest.region not in org.networks:
            problems.append(
                doc.problem(("training", index), f"org.yaml has no network for region {manifest.region}; training instances need "
                    f"networks.{manifest.region} (known: {', '.join(org.networks) or 'none'})")
            )
    for index, pool in enumerate(manifest.inference):
        for type_index, name in enumerate(pool.instance_types):
            problems += _instance_type(doc, ("inference", index, "instance_types", type_index), name, org)
        kinds = {known.kind.name for name in pool.instance_types if (known := catalog.lookup(name)) is not None}
        if len(kinds) > 1:
            # One node group has one AMI type, one accelerator driver and one device-plugin resource.
            problems.append(doc.problem(
                ("inference", index, "instance_types"),
                f"mixes NVIDIA and AWS Neuron types ({', '.join(pool.instance_types)}); a node group runs one AMI type, "
                f"so a pool's types must all be NVIDIA GPUs or all Neuron: split it into two pools",
            ))
        problems += _spot_allowed(doc, manifest, org, "inference", index, pool.market)
        cluster = org.clusters.get(pool.cluster)
        if cluster is None:
            clusters = sorted(org.clusters)
            problems.append(
                doc.problem(("inference", index, "cluster"), f"cluster '{pool.cluster}' is not in org.yaml clusters (known: "
                    f"{', '.join(clusters) or 'none'}){did_you_mean(pool.cluster, clusters)}")
            )
        elif cluster.region != manifest.region:
            problems.append(
                doc.problem(("inference", index, "cluster"), f"cluster '{pool.cluster}' is in {cluster.region}, but this manifest's "
                    f"region is {manifest.region}")
            )
    return problems


def _names(doc: SourceDocument, manifest: TeamManifest) -> list[Problem]:
    problems = []
    for name in naming.derived_names(manifest):
        reason = naming.name_problem(name)
        if reason:
            problems.append(doc.problem(name.field, reason))
    return problems


def _node_labels(doc: SourceDocument, manifest: TeamManifest) -> list[Problem]:
    """Inference pools label their nodes for Kubecost/OpenCost; the values must be valid labels."""
    problems = []
    for index, pool in enumerate(manifest.inference):
        for field, message in labels.label_problems(manifest, index, pool):
            problems.append(doc.problem(field, message))
    return problems
