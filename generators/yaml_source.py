"""Safe YAML reading that remembers where every value came from.

Manifests are written by people and checked in CI, so the loader is defensive:
- files over 1 MiB, invalid UTF-8, empty files, several documents and non-mapping documents
  are refused with the line and column where that is known;
- duplicate keys are errors (PyYAML silently keeps the last one);
- alias expansion is bounded twice, by the number of alias uses and by the number of nodes
  built, so a "billion laughs" document fails fast in bounded memory (composition itself
  never expands aliases: they are shared nodes);
- only the YAML types of the safe schema are built (no Python object tags);
- nesting is limited to 64 levels, checked on the parser's events before anything recursive runs.
Every value's position is kept by its path (`("training", 0, "count")`), for error messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from generators.errors import ManifestError, Problem, format_path

MAX_FILE_BYTES = 1024 * 1024
# A manifest needs no aliases at all; a few are tolerated for people who like anchors.
MAX_ALIASES = 32
# The largest realistic manifest has a few hundred nodes; this bounds alias expansion.
MAX_NODES = 20_000
# The deepest real manifest has five levels (inference[0].autoscaling.schedule ...).
MAX_DEPTH = 64

FieldPath = tuple[str | int, ...]
_PLAIN_COLLECTION_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


@dataclass
class SourceDocument:
    """A parsed YAML mapping and the (line, column) of each value and mapping key, 1-based."""

    path: str
    data: dict[str, Any]
    positions: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)
    # Top-level keys of which something was dropped to check the rest of a file with schema
    # problems (loading.salvage_team); a rule about the absence of such a part must stay silent.
    incomplete: frozenset[str] = frozenset()

    def locate(self, field_path: FieldPath, *, key: bool = False) -> tuple[int, int]:
        """Where `field_path` is, or where its nearest existing parent is."""
        table = self.key_positions if key else self.positions
        if field_path in table:
            return table[field_path]
        for end in range(len(field_path) - 1, -1, -1):
            prefix = field_path[:end]
            if prefix in self.positions:
                return self.positions[prefix]
        return (1, 1)

    def problem(self, field_path: FieldPath, message: str, *, key: bool = False) -> Problem:
        line, column = self.locate(field_path, key=key)
        return Problem(self.path, line, column, format_path(field_path), message)


# libyaml's parser is about ten times faster than PyYAML's pure-Python one; both compose
# aliases as shared nodes (no expansion), so counting happens in _Builder, where values are built.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _at(mark: yaml.Mark | None) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def read_text(path: Path, display: str) -> str:
    """The file's text, or a ManifestError for size, encoding and I/O problems."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ManifestError([Problem(display, 1, 1, "", f"file is {size:,} bytes; manifests may be at most 1 MiB ({MAX_FILE_BYTES:,} bytes)")])
        raw = path.read_bytes()
    except OSError as exc:
        raise ManifestError([Problem(display, 1, 1, "", f"cannot read file: {exc.strerror or exc}")]) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ManifestError(
            [Problem(display, line, column, "", f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save it as UTF-8")]
        ) from None


def _check_depth(text: str, display: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH before anything is composed: composing and building
    recurse once per level (30,000 nested `[` overflow the C stack, 500 Python's), while the
    parser's events come one at a time with a counter here."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    line, column = _at(event.start_mark)
                    raise ManifestError([Problem(display, line, column, "", f"nested more than {MAX_DEPTH} levels deep; manifests need a few levels")])
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return  # the composer below reports it with its position


def load_yaml(path: Path, display: str | None = None) -> SourceDocument:
    """Parse one YAML file into a SourceDocument whose data is a mapping."""
    display = display or str(path)
    text = read_text(path, display)
    _check_depth(text, display)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        line, column = _at(exc.problem_mark or exc.context_mark)
        reason = exc.problem or exc.context or "invalid YAML"
        lines = text.splitlines()
        if 0 < line <= len(lines) and "\t" in lines[line - 1][: max(column, 1)]:
            # The parser's own words ("found character that cannot start any token") do not
            # say what to do; a tab in the indentation is the usual cause.
            raise ManifestError([Problem(display, line, column, "", "a tab character: YAML indents with spaces only; replace the tab with spaces")]) from None
        raise ManifestError([Problem(display, line, column, "", f"invalid YAML: {reason}")]) from None
    except yaml.YAMLError as exc:
        raise ManifestError([Problem(display, 1, 1, "", f"invalid YAML: {exc}")]) from None
    finally:
        loader.dispose()

    if node is None:
        reference = "the manifest reference: genai-finops schema --format markdown"
        raise ManifestError([Problem(display, 1, 1, "", f"file is empty; expected a YAML mapping ({reference})")])
    if not isinstance(node, yaml.MappingNode):
        line, column = _at(node.start_mark)
        kind = "a list" if isinstance(node, yaml.SequenceNode) else "a single value"
        raise ManifestError([Problem(display, line, column, "", f"file is {kind}; expected a YAML mapping of fields")])

    document = SourceDocument(display, {})
    builder = _Builder(loader, document)
    document.data = builder.build(node, ())
    if builder.problems:
        raise ManifestError(builder.problems)
    return document


class _Builder:
    """Turns composed YAML nodes into plain Python values, recording positions on the way."""

    def __init__(self, loader: yaml.SafeLoader, document: SourceDocument):
        self.loader = loader
        self.document = document
        self.nodes = 0
        self.aliases = 0
        self.seen: set[int] = set()
        self.problems: list[Problem] = []

    def _problem(self, node: yaml.Node, path: FieldPath, message: str) -> None:
        line, column = _at(node.start_mark)
        self.problems.append(Problem(self.document.path, line, column, format_path(path), message))

    def build(self, node: yaml.Node, path: FieldPath) -> Any:
        # The composer hands out the anchored node again for each alias: a node seen twice is an alias use.
        if id(node) in self.seen:
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                line, column = _at(node.start_mark)
                raise ManifestError(
                    [Problem(self.document.path, line, column, "", f"more than {MAX_ALIASES} YAML aliases; manifests do not need "
                        "aliases, write the values out")]
                )
        else:
            self.seen.add(id(node))
        self.nodes += 1
        if self.nodes > MAX_NODES:
            line, column = _at(node.start_mark)
            raise ManifestError(
                [Problem(self.document.path, line, column, "", f"document expands to more than {MAX_NODES:,} values (YAML alias expansion?); refusing it")]
            )
        self.document.positions.setdefault(path, _at(node.start_mark))
        if not isinstance(node, yaml.ScalarNode) and node.tag not in _PLAIN_COLLECTION_TAGS:
            self._problem(node, path, f"unsupported YAML value: tag {node.tag} is not allowed in manifests")
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            self._problem(node, path, f"unsupported YAML value: {problem}")
            return None

    def _mapping(self, node: yaml.MappingNode, path: FieldPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self._problem(key_node, path, "YAML merge keys (<<) are not supported in manifests; write the fields out")
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(key_node, path, "mapping keys must be plain strings")
                continue
            key = self.loader.construct_object(key_node)
            if not isinstance(key, str):
                key = str(key_node.value)
            child = (*path, key)
            if key in result:
                first_line, _ = self.document.key_positions[child]
                self._problem(key_node, child, f"duplicate key '{key}' (first defined on line {first_line}); each field may appear once")
                continue
            self.document.key_positions[child] = _at(key_node.start_mark)
            result[key] = self.build(value_node, child)
        return result
