"""CLI subcommands that build stacks (jsii): `generators.cli` discovers them beside
`generators.commands`, with the same module contract (see generators/commands/__init__.py).
They live here so that generators/ never imports stacks/: the arrow runs stacks -> generators.
Like every command module they import cheaply; the jsii start-up happens inside run().
"""
