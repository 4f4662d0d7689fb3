"""`genai-finops`: validate, price, synthesize and scan GPU/LLM team manifests.

Subcommands are discovered from `generators.commands` and, for the ones that build stacks,
`stacks.commands` (named here, never imported by the rest of generators/); each is one module.
Exit codes: 0 success, 1 the input or a policy failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import re
import sys
from types import ModuleType
from typing import Callable, NoReturn

from generators.errors import ManifestError, ToolError, UsageError, did_you_mean

EPILOG = """\
examples:
  genai-finops validate                      check manifests/ (org.yaml + teams/*.yaml)
  genai-finops cost --format markdown        monthly estimate, for a PR comment
  genai-finops synth --out cdktf.out         write Terraform JSON for every stack
  genai-finops scan --out cdktf.out          checkov over the synthesized stacks
  genai-finops --version                     the installed version

exit codes: 0 success, 1 invalid input or a failed policy/budget gate, 2 usage error
"""


COMMAND_PACKAGES = ("generators.commands", "stacks.commands")


def _command_modules() -> list[ModuleType]:
    found = {}
    for package in map(importlib.import_module, COMMAND_PACKAGES):
        for module in pkgutil.iter_modules(package.__path__):
            if not module.name.startswith("_"):
                found[module.name] = f"{package.__name__}.{module.name}"
    return [importlib.import_module(found[name]) for name in sorted(found)]


class Parser(argparse.ArgumentParser):
    """argparse, with "did you mean" for a mistyped option or subcommand (subparsers are made
    with the parent's class, so every subcommand gets it)."""

    def error(self, message: str) -> NoReturn:
        super().error(message + _hint(self, message))


def _hint(parser: argparse.ArgumentParser, message: str) -> str:
    choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
    if choice:
        return did_you_mean(choice.group(1), re.findall(r"'([^']*)'", choice.group(2)))
    unknown = re.search(r"unrecognized arguments: (.*)", message)
    if unknown:
        for token in unknown.group(1).split():
            if token.startswith("--"):
                hint = did_you_mean(token.split("=", 1)[0], _options(parser))
                if hint:
                    return hint
    return ""


def _options(parser: argparse.ArgumentParser) -> set[str]:
    """The parser's option strings and its subcommands' (argparse reports a subcommand's unknown
    option from the top-level parser)."""
    found = set(parser._option_string_actions)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found |= _options(child)
    return found


def version() -> str:
    """The installed distribution's version (`pip install` or `make install`), else "unknown"."""
    from importlib import metadata

    try:
        return metadata.version("genai-finops")
    except metadata.PackageNotFoundError:
        return "unknown (not installed: pip install -e . or make install)"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="genai-finops",
        description="FinOps for GPU and LLM workloads on AWS: team manifests in, tagged, budgeted and scanned Terraform out.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"genai-finops {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in _command_modules():
        child = sub.add_parser(
            module.NAME,
            help=module.HELP,
            description=getattr(module, "DESCRIPTION", module.HELP),
            epilog=getattr(module, "EPILOG", None),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.configure(child)
        child.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)

    def usage(error: UsageError) -> NoReturn:
        parser.exit(2, f"genai-finops {args.command}: error: {_shown(error)}\n")

    def action() -> int:
        from generators.commands._common import apply_settings

        apply_settings(args)
        return int(args.run(args))

    return run_reporting(f"genai-finops {args.command}", action, usage)


def run_reporting(name: str, action: Callable[[], int], usage: Callable[[UsageError], NoReturn] | None = None) -> int:
    """Run `action` and turn every error genai-finops raises into its message and exit code: the
    one place a ManifestError, ToolError or UsageError reaches the user (the CLI and main.py,
    the entry point `cdktf synth` runs, both come through here). 0/1 as the action returns,
    1 for bad manifests or a failed tool, 2 for usage, 130 for Ctrl-C."""
    try:
        return int(action())
    except UsageError as error:
        if usage is not None:
            usage(error)
        print(f"{name}: error: {_shown(error)}", file=sys.stderr)
        return 2
    except ManifestError as error:
        from generators.commands._common import print_problems

        print_problems(error)
        return 1
    except ToolError as error:
        print(f"{name}: {_shown(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (`| head`) closed the pipe: it has what it wanted. Point stdout at
        # /dev/null so the interpreter's final flush cannot fail again, and end quietly
        # (https://docs.python.org/3/library/signal.html#note-on-sigpipe).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _shown(error: Exception) -> str:
    """An error message for a terminal: it may quote outside text (a tag, an S3 key, a
    Prometheus error), so every line has its control and bidi characters made visible and is
    capped; the message's own line breaks stay."""
    from generators.safe_text import message

    return "\n".join(message(line, 2000) for line in str(error).split("\n"))


if __name__ == "__main__":
    sys.exit(main())
