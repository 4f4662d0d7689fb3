"""Preflight of managed models: what `cdktf deploy` needs of Bedrock and IAM in the account.

- A foundation model ID must be sold on demand in the team's region: GetFoundationModel answers
  its `inferenceTypesSupported`, and a model offered only through a cross-region profile
  (INFERENCE_PROFILE) cannot be the source of an in-region application profile
  (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GetFoundationModel.html,
  FoundationModelDetails). A system profile ID must exist in the region: GetInferenceProfile.
- Each `invoke_role_names` role must exist: the policy attachment fails on apply otherwise.
"""

from __future__ import annotations

from typing import Any, Callable

from generators.plan.bedrock_prices import split_model
from generators.provision.preflight_needs import RegionNeeds
from generators.provision.preflight_report import Missing, Status, Unverified

CHECK = "managed-model"
ACTIONS = ("bedrock:GetFoundationModel", "bedrock:GetInferenceProfile")
NOT_FOUND = ("ResourceNotFoundException", "ValidationException")


def check(needs: RegionNeeds, call: Callable[..., Any], add: Callable[[str, str, str, Status, str], None]) -> None:
    """`call(service, region, operation, missing=(...), **params)` and `add(check, region, subject,
    status, detail)` are preflight's own (generators/provision/preflight.py)."""
    region = needs.region
    roles: dict[str, str] = {}
    for team in needs.teams:
        for model in team.managed_models:
            subject = f"{model.foundation_model} for {team.team}/managed_models/{model.name}"
            for role in model.invoke_role_names:
                roles.setdefault(role, f"{team.team}/managed_models/{model.name}")
            status: Status
            try:
                status, detail = _source(call, region, model.foundation_model)
            except Unverified as error:
                status, detail = "unverified", str(error)
            add(CHECK, region, subject, status, detail)
    for role, who in sorted(roles.items()):
        try:
            call("iam", region, "get_role", missing=("NoSuchEntity",), RoleName=role)
            add(CHECK, region, f"invoke role {role} for {who}", "pass", "exists")
        except Missing:
            add(CHECK, region, f"invoke role {role} for {who}", "fail", f"role {role} does not exist: the invoke policy cannot be "
                "attached to it; create the role first or remove it from invoke_role_names")
        except Unverified as error:
            add(CHECK, region, f"invoke role {role} for {who}", "unverified", str(error))


def _source(call: Callable[..., Any], region: str, model: str) -> tuple[Status, str]:
    geography, _ = split_model(model)
    if geography is not None:
        try:
            profile = call("bedrock", region, "get_inference_profile", missing=NOT_FOUND, inferenceProfileIdentifier=model)
        except Missing:
            return "fail", f"no system-defined inference profile {model} in {region}: use one of the region's geography or a model ID"
        state = profile.get("status", "")
        return ("pass", f"system profile {state}") if state == "ACTIVE" else ("fail", f"system profile is {state or 'not active'}")
    try:
        details = call("bedrock", region, "get_foundation_model", missing=NOT_FOUND, modelIdentifier=model)["modelDetails"]
    except Missing:
        return "fail", f"Bedrock has no foundation model {model} in {region}"
    supported = details.get("inferenceTypesSupported") or []
    if "ON_DEMAND" in supported:
        return "pass", "sold on demand in the region"
    return "fail", (f"not sold on demand in {region} (only {', '.join(supported) or 'no inference type'}): name its cross-region "
                    "profile (us., eu. or global. before the model ID) as foundation_model")
