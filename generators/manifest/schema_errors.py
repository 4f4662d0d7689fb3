"""Schema errors in words people read: pydantic's errors on a manifest, the org policy, the
price catalog or the suppressions file, each as a Problem at the field's file:line:col with what
is wrong and what is allowed (patterns explained, close names suggested, YAML kinds named)."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any, cast

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from generators.errors import ManifestError, Problem
from generators.yaml_source import FieldPath, SourceDocument

# Patterns are exact, but people read these better than a regex.
_PATTERN_HELP = {
    "team": "lower-case letters, digits and hyphens, 3 to 30 characters, starting with a letter and not ending with a hyphen",
    "name": "lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen, at most 40 characters",
    "owner": "an e-mail address such as ml-team@example.com",
    "notify": "an e-mail address such as ml-team@example.com",
    "finops_email": "an e-mail address such as finops@example.com",
    "start": 'a 24-hour time "HH:MM", e.g. "08:00"',
    "stop": 'a 24-hour time "HH:MM", e.g. "19:00"',
    "namespace": "a Kubernetes name: lower-case letters, digits and hyphens, at most 63 characters",
    "deployment": "a Kubernetes name: lower-case letters, digits and hyphens, at most 63 characters",
    "node_role_arn": "an IAM role ARN such as arn:aws:iam::123456789012:role/nodes",
    "subnet_ids": "a subnet id such as subnet-0a1b2c3d4e5f60001",
    "subnet_id": "a subnet id such as subnet-0a1b2c3d4e5f60001",
    "security_group_ids": "a security group id such as sg-0a1b2c3d4e5f60001",
    "bucket": "an S3 bucket name: 3-63 lower-case letters, digits, dots and hyphens",
    "action_role_names": "an IAM role name (letters, digits and + = , . @ _ -, at most 64 characters)",
}




def _unwrap(annotation: Any) -> Any:
    """The model class inside Optional[...], list[...], dict[str, ...] or Annotated[...]."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            models = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = models[0]
        elif origin in (list, tuple):
            annotation = typing.get_args(annotation)[0]
        elif origin is dict:
            annotation = typing.get_args(annotation)[1]
        else:
            return annotation


def _model_at(model: type[BaseModel], loc: FieldPath) -> type[BaseModel] | None:
    """The model class that owns the mapping at `loc` (indices and dict keys are skipped)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        info = cast("type[BaseModel]", current).model_fields.get(part)
        if info is None:
            continue
        current = _unwrap(info.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _yaml_kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"number {value!r}"
    if isinstance(value, str):
        return f"text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"{type(value).__name__} {value!s}"


def _describe(error: ErrorDetails, model: type[BaseModel], loc: FieldPath) -> str:
    kind = error["type"]
    value = error.get("input")
    name = next((p for p in reversed(loc) if isinstance(p, str)), "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        owner = _model_at(model, loc[:-1])
        allowed = [info.alias or field for field, info in owner.model_fields.items()] if owner else []
        hint = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
        text = f"unknown field '{name}'"
        if hint:
            text += f"; did you mean '{hint[0]}'?"
        return text + (f" Allowed fields: {', '.join(allowed)}" if allowed else "")
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        choices = [c.strip().strip("'") for c in expected.replace(" or ", ", ").split(",") if c.strip()]
        hint = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.5) if isinstance(value, str) else []
        text = f"got {_yaml_kind(value)}; allowed: {', '.join(choices)}"
        return text + (f" (did you mean '{hint[0]}'?)" if hint else "")
    if kind == "string_pattern_mismatch":
        described = _PATTERN_HELP.get(name) or _PATTERN_HELP.get(str(loc[-2]) if len(loc) > 1 else "", f"text matching {ctx.get('pattern')}")
        return f"got {_yaml_kind(value)}; expected {described}"
    if kind in ("string_type", "int_type", "float_type", "bool_type", "list_type", "dict_type", "model_type", "model_attributes_type"):
        expected = {
            "string_type": "text",
            "int_type": "a whole number",
            "float_type": "a number",
            "bool_type": "true or false",
            "list_type": "a list",
            "dict_type": "a mapping",
            "model_type": "a mapping of fields",
            "model_attributes_type": "a mapping of fields",
        }[kind]
        text = f"got {_yaml_kind(value)}; expected {expected}"
        # YAML 1.1 reads an unquoted 19:00 as the base-60 number 1140.
        if name in ("start", "stop") and isinstance(value, int):
            text += ' (unquoted times are read as base-60 numbers in YAML: write "HH:MM" in quotes)'
        return text
    if kind == "int_from_float":
        return f"got {_yaml_kind(value)}; expected a whole number"
    if kind in ("too_short", "too_long"):
        limit = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        size = len(value) if value is not None and hasattr(value, "__len__") else None
        if isinstance(value, (list, tuple)):
            if kind == "too_short" and not value:
                return f"is an empty list; give at least {limit} item{'s' if limit != 1 else ''}"
            return f"has {size} items; {'at least' if kind == 'too_short' else 'at most'} {limit} allowed"
        return error["msg"].replace("List", "list").replace("Value", "value") + f"; got {_yaml_kind(value)}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return f"got {_yaml_kind(value)}; {error['msg'].replace('Input should be', 'must be')}"
    if kind == "string_too_long":
        return f"{error['msg'].replace('String should', 'must')}; got {len(value)} characters" if isinstance(value, str) else error["msg"]
    return f"{error['msg']}; got {_yaml_kind(value)}"


def schema_messages(error: ValidationError, model: type[BaseModel]) -> list[tuple[FieldPath, str, bool]]:
    """(field path, message, whether it is about the key) for each pydantic error, in the words
    manifests use."""
    return [(tuple(item["loc"]), _describe(item, model, tuple(item["loc"])), item["type"] == "extra_forbidden")
            for item in error.errors(include_url=False)]


def schema_problems(document: SourceDocument, error: ValidationError, model: type[BaseModel]) -> list[Problem]:
    return [document.problem(loc, message, key=key) for loc, message, key in schema_messages(error, model)]


def parse_model(document: SourceDocument, model: type[BaseModel]) -> Any:
    try:
        return model.model_validate(document.data)
    except ValidationError as error:
        raise ManifestError(schema_problems(document, error, model)) from None
