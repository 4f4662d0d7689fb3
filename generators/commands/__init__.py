"""One module per CLI subcommand. Each defines:

    NAME: str                      the subcommand (`validate`, `cost`, ...)
    HELP: str                      one line for `genai-finops --help`
    def configure(parser) -> None  add its arguments (an argparse.ArgumentParser)
    def run(args) -> int           do the work, return the exit code

`generators.cli` discovers the modules in this package, so adding a command is adding a file.
Command modules must import cheaply: no cdktf/jsii/provider import at module level, and heavy
imports (boto3, the stacks) inside run().
"""
