"""`genai-finops`: validate, price, synthesize and scan GPU/LLM team manifests.

Subcommands are discovered from `generators.commands`; each is one module. Exit codes:
0 success, 1 the input or a policy failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from types import ModuleType

from generators import commands
from generators.errors import ManifestError, ToolError, UsageError

EPILOG = """\
examples:
  genai-finops validate                      check manifests/ (org.yaml + teams/*.yaml)
  genai-finops cost --format markdown        monthly estimate, for a PR comment
  genai-finops synth --out cdktf.out         write Terraform JSON for every stack
  genai-finops scan --out cdktf.out          checkov over the synthesized stacks

exit codes: 0 success, 1 invalid input or a failed policy/budget gate, 2 usage error
"""


def _command_modules() -> list[ModuleType]:
    names = sorted(m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_"))
    return [importlib.import_module(f"{commands.__name__}.{name}") for name in names]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="genai-finops",
        description="FinOps for GPU and LLM workloads on AWS: team manifests in, tagged, budgeted and scanned Terraform out.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
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
    try:
        return int(args.run(args))
    except UsageError as error:
        parser.exit(2, f"genai-finops {args.command}: error: {error}\n")
    except ManifestError as error:
        from generators.commands._common import print_problems

        print_problems(error)
        return 1
    except ToolError as error:
        print(f"genai-finops {args.command}: {error}", file=sys.stderr)
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


if __name__ == "__main__":
    sys.exit(main())
