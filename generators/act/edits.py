"""Changing a manifest in place, the way a person would: only the edited value's characters (or
the inserted lines) change; comments, key order, quoting and every other byte stay as they were.

Positions come from PyYAML's composer (each node's start and end index in the text), so an edit
is a splice of the text, never a dump of the data. Only block-style mappings take new keys (a
flow mapping, `{a: 1}`, is refused: there is no line to put a key on without rewriting it).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import yaml

from generators.yaml_source import FieldPath

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class EditError(ValueError):
    """The edit cannot be made in place (the path is missing, or not the kind of node expected)."""


def _compose(text: str) -> yaml.Node:
    node = yaml.compose(text, Loader=_Loader)
    if not isinstance(node, yaml.MappingNode):
        raise EditError("the document is not a mapping")
    return node


def _child(node: yaml.Node, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        return next((value for key, value in node.value if isinstance(key, yaml.ScalarNode) and key.value == part), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part]
    return None


def node_at(text: str, path: FieldPath) -> yaml.Node | None:
    return _walk(_compose(text), path)


def _walk(root: yaml.Node, path: FieldPath) -> yaml.Node | None:
    node: yaml.Node | None = root
    for part in path:
        if node is None:
            return None
        node = _child(node, part)
    return node


_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9_./-]*$")


def scalar(value: object) -> str:
    """A value as YAML that reads back as itself: a plain word stays plain, any other string is
    double-quoted (times like "08:00" always are), numbers and booleans as YAML writes them, a
    list of scalars in flow style ([mon, tue])."""
    if isinstance(value, list):
        return "[" + ", ".join(scalar(item) for item in value) + "]"
    if isinstance(value, str):
        plain = _PLAIN.match(value) and yaml.safe_load(value) == value
        return value if plain else json.dumps(value)
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, (int, float)):
        return repr(value)
    raise EditError(f"{value!r}: only strings, numbers, booleans and lists of them are written")


@dataclass(frozen=True)
class Edit:
    """Set `path` to `value`: replaced where it exists, added as a new key of its parent mapping
    (a block mapping) where it does not. `value` is a scalar, or a mapping of scalars and lists of
    scalars (e.g. a schedule), written in block style under the key."""

    path: FieldPath
    value: object

    def apply(self, text: str) -> str:
        root = _compose(text)
        node = _walk(root, self.path)
        if node is not None:
            if not isinstance(node, yaml.ScalarNode) or isinstance(self.value, dict):
                raise EditError(f"{_shown(self.path)} is not a single value; it cannot be replaced in place")
            start, end = node.start_mark.index, node.end_mark.index
            return text[:start] + scalar(self.value) + text[end:]
        parent = _walk(root, self.path[:-1])
        key = self.path[-1]
        if not isinstance(parent, yaml.MappingNode) or not isinstance(key, str):
            raise EditError(f"{_shown(self.path[:-1]) or 'the document'} is not a mapping a key can be added to")
        if parent.flow_style:
            raise EditError(f"{_shown(self.path[:-1])} is a flow mapping ({{...}}); write it in block style to let genai-finops add {key}")
        return _insert(text, parent, key, self.value)


def _insert(text: str, parent: yaml.MappingNode, key: str, value: object) -> str:
    """`key: value` as the last entry of the block mapping `parent`, at its keys' indentation."""
    indent = parent.value[0][0].start_mark.column if parent.value else 0
    lines = [f"{' ' * indent}{key}:" + ("" if isinstance(value, dict) else f" {scalar(value)}")]
    if isinstance(value, dict):
        lines += [f"{' ' * (indent + 2)}{name}: {scalar(item)}" for name, item in value.items()]
    # After the mapping's last value: a scalar ends inside its line (insert after that line); a
    # nested block ends at the start of the line after it (insert there).
    last = parent.value[-1][1] if parent.value else parent
    end = last.end_mark.index
    if end == 0 or text[end - 1] == "\n":
        at = end
    else:
        newline = text.find("\n", end)
        if newline == -1:
            text += "\n"
            at = len(text)
        else:
            at = newline + 1
    return text[:at] + "\n".join(lines) + "\n" + text[at:]


def _shown(path: FieldPath) -> str:
    from generators.errors import format_path

    return format_path(path)


def apply_all(text: str, edits: list[Edit]) -> str:
    for edit in edits:
        text = edit.apply(text)
    return text
