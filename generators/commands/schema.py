"""`genai-finops schema`: the JSON Schema of the manifests, for editors' YAML language servers."""

from __future__ import annotations

import argparse
import json
import sys

NAME = "schema"
HELP = "print the JSON Schema of the team manifest (or --org: of org.yaml)"
DESCRIPTION = """\
Print the JSON Schema generated from the manifest model, the same model validate uses.
Point your editor's YAML language server at it for completion and inline errors."""
EPILOG = """\
examples:
  genai-finops schema > schemas/team.schema.json
  genai-finops schema --org > schemas/org.schema.json
  genai-finops schema --format markdown > docs/manifest.md
  then start a manifest with:  # yaml-language-server: $schema=../../schemas/team.schema.json"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--org", action="store_true", help="the schema of org.yaml instead of a team manifest")
    parser.add_argument("--format", choices=["json", "markdown"], default="json",
                        help="json (default): JSON Schema; markdown: the manifest reference, docs/manifest.md (team and org)")


def schema_of(org: bool) -> dict:
    from generators.model import OrgPolicy, TeamManifest

    model = OrgPolicy if org else TeamManifest
    schema = model.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://genai-finops.dev/schemas/{'org' if org else 'team'}-v1.json"
    return schema


def run(args: argparse.Namespace) -> int:
    if args.format == "markdown":
        from generators.manifest.reference import render

        sys.stdout.write(render())
        return 0
    json.dump(schema_of(args.org), sys.stdout, indent=2, sort_keys=True)
    print()
    return 0
