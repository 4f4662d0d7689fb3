"""`scan`'s outputs from its results: a table for people, JSON, SARIF 2.1.0 and JUnit XML."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from generators.scan.results import Result, Stack, counts

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def render_cli(results: list[Result], stacks: list[Stack], version: str, unused: list, colour: bool = False) -> str:
    red, green, yellow, reset = ("\033[31m", "\033[32m", "\033[33m", "\033[0m") if colour else ("", "", "", "")
    width = max(len("total"), *(len(s.name) for s in stacks))
    lines = [f"{'stack':<{width}}  {'passed':>6}  {'failed':>6}  {'suppressed':>10}"]
    for name in [s.name for s in stacks] + [None]:
        tally = counts(results, name)
        failed = f"{tally['failed']:>6}"
        lines.append(
            f"{name or 'total':<{width}}  {tally['passed']:>6}  {red + failed + reset if tally['failed'] else failed}  {tally['suppressed']:>10}"
        )
    failures = [r for r in results if r.status == "failed"]
    for result in failures:
        lines += [
            "",
            f"{red}FAILED{reset} {result.check_id} {result.check_name}",
            f"  resource: {result.address}" + (f"  (construct {result.construct_path})" if result.construct_path else ""),
            f"  stack:    {result.stack}",
            f"  file:     {result.file}:{result.lines[0]}-{result.lines[1]}",
        ]
        lines += [f"  details:  {detail}" for detail in result.details]
    total = counts(results)
    summary = f"{total['failed']} failed, {total['passed']} passed, {total['suppressed']} suppressed (checkov {version})"
    lines += ["", f"{red}{summary}{reset}" if failures else f"{green}{summary}{reset}"]
    if unused:
        lines.append(f"{yellow}{len(unused)} unused suppression{'s' if len(unused) != 1 else ''} (see warnings above){reset}")
    return "\n".join(lines) + "\n"


def render_json(results: list[Result], stacks: list[Stack], version: str, unused: list, colour: bool = False) -> str:
    payload = {
        "checkov_version": version,
        "summary": counts(results),
        "stacks": {stack.name: {"file": stack.display, **counts(results, stack.name)} for stack in stacks},
        "results": [
            {**{k: v for k, v in asdict(r).items() if k != "lines"}, "address": r.address, "lines": list(r.lines)} for r in results
        ],
        "unused_suppressions": [
            {"check": s.check, "resource": s.resource or None, "construct": s.construct or None, "line": s.line, "reason": s.reason} for s in unused
        ],
    }
    return json.dumps(payload, indent=2) + "\n"


def render_sarif(results: list[Result], stacks: list[Stack], version: str, unused: list, colour: bool = False) -> str:
    """SARIF 2.1.0 for GitHub code scanning: failures are errors; suppressed ones carry an external suppression."""
    reported = [r for r in results if r.status != "passed"]
    rule_ids = sorted({r.check_id for r in reported})
    names = {r.check_id: r for r in reported}
    rules = []
    for rule_id in rule_ids:
        rule: dict[str, Any] = {"id": rule_id, "shortDescription": {"text": names[rule_id].check_name or rule_id}}
        if names[rule_id].guideline:
            rule["helpUri"] = names[rule_id].guideline
        rules.append(rule)
    sarif_results = []
    for result in reported:
        entry: dict[str, Any] = {
            "ruleId": result.check_id,
            "ruleIndex": rule_ids.index(result.check_id),
            "level": "error",
            "message": {"text": f"{result.check_name}: {result.address}" + "".join(f"; {d}" for d in result.details)},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": Path(result.file).as_posix()},
                        "region": {"startLine": result.lines[0], "endLine": result.lines[1]},
                    },
                    "logicalLocations": [{"fullyQualifiedName": result.address, "kind": "resource"}],
                }
            ],
        }
        if result.status == "suppressed":
            entry["suppressions"] = [{"kind": "external", "justification": result.reason}]
        sarif_results.append(entry)
    sarif = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "genai-finops scan",
                        "informationUri": "https://www.checkov.io/",
                        "version": version,
                        "rules": rules,
                    }
                },
                "results": sarif_results,
            }
        ],
    }
    return json.dumps(sarif, indent=2) + "\n"


def render_junitxml(results: list[Result], stacks: list[Stack], version: str, unused: list, colour: bool = False) -> str:
    import xml.etree.ElementTree as ET

    total = counts(results)
    root = ET.Element(
        "testsuites",
        name="genai-finops scan",
        tests=str(len(results)),
        failures=str(total["failed"]),
        skipped=str(total["suppressed"]),
    )
    for stack in stacks:
        own = [r for r in results if r.stack == stack.name]
        tally = counts(results, stack.name)
        suite = ET.SubElement(
            root, "testsuite", name=stack.name, tests=str(len(own)), failures=str(tally["failed"]), skipped=str(tally["suppressed"]), file=stack.display
        )
        for result in own:
            case = ET.SubElement(
                suite, "testcase", classname=f"{stack.name}.{result.check_id}", name=f"{result.check_id} {result.address}", file=result.file
            )
            if result.status == "failed":
                failure = ET.SubElement(case, "failure", message=result.check_name, type=result.check_id)
                failure.text = "\n".join([f"{result.file}:{result.lines[0]}-{result.lines[1]}", *result.details])
            elif result.status == "suppressed":
                ET.SubElement(case, "skipped", message=f"suppressed: {result.reason}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


RENDERERS = {"cli": render_cli, "json": render_json, "sarif": render_sarif, "junitxml": render_junitxml}
