"""Read YAML into plain data while remembering where every key and value came from.

PyYAML's composer gives nodes with marks; we build the data ourselves so that every key path
(`("buckets", "photos", "cors", 0)`) maps to the line and column a user can jump to, duplicate keys
are reported instead of silently overwritten, and syntax errors point at their line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cargohold_core.errors import ConfigError, Problem

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Location:
    """Where a value was written: its own key path in the file, and its 1-based line/column."""

    path: KeyPath
    line: int
    column: int


@dataclass
class Document:
    """Parsed YAML plus a location for every key path (the value's, and the key's for mappings)."""

    file: str
    data: Any
    locations: dict[KeyPath, Location]

    def location(self, path: KeyPath) -> Location:
        """The nearest known location for `path` (walks up to the parent when needed)."""
        probe = path
        while probe:
            found = self.locations.get(probe)
            if found is not None:
                return found
            probe = probe[:-1]
        return self.locations.get((), Location((), 1, 1))

    def problem(self, path: KeyPath, message: str, hint: str | None = None) -> Problem:
        loc = self.location(path)
        # `loc.path` is where the value was written (an override may have supplied it); keep the
        # part of `path` below the nearest located ancestor.
        known = len(loc.path) if path[: len(loc.path)] == loc.path else _located_depth(self, path)
        source = loc.path + path[known:] if known else path
        return Problem(self.file, loc.line, loc.column, format_path(source), message, hint)


def _located_depth(doc: Document, path: KeyPath) -> int:
    for depth in range(len(path), 0, -1):
        if path[:depth] in doc.locations:
            return depth
    return 0


def format_path(path: KeyPath) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


# A config file is small; a document that expands (through YAML aliases) past this many values is
# an "alias bomb", refused rather than built.
MAX_VALUES = 100_000


class _TooLarge(Exception):
    pass


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.locations: dict[KeyPath, Location] = {}
        self.problems: list[Problem] = []
        self._inside: set[int] = set()  # the collection nodes being built: a repeat is a recursive alias
        self._values = 0

    def _mark(self, path: KeyPath, node: yaml.Node) -> None:
        mark = node.start_mark
        self.locations[path] = Location(path, mark.line + 1, mark.column + 1)

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        self._values += 1
        if self._values > MAX_VALUES:
            raise _TooLarge
        if isinstance(node, yaml.ScalarNode):
            try:
                return _construct_scalar(node)
            except yaml.YAMLError as exc:  # e.g. an unknown tag such as !Ref
                self.problems.append(self._problem(node, path, f"cannot read the value {node.value!r}: {exc}", None))
                return None
            except ValueError as exc:  # a timestamp that is no real date, such as 2027-13-31
                hint = "write a real date as YYYY-MM-DD, e.g. 2027-03-31, or quote the value to keep it as text"
                self.problems.append(self._problem(node, path, f"cannot read the value {node.value!r}: {exc}", hint))
                return None
        if id(node) in self._inside:
            where = self.locations.get(path)  # where the alias was written, not its anchor
            self.problems.append(
                Problem(
                    self.file,
                    where.line if where else 0,
                    where.column if where else 0,
                    format_path(path),
                    "this alias refers to a value that contains it (a loop)",
                    "write the value out instead of using the alias",
                )
            )
            return None
        self._inside.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            items = []
            for index, child in enumerate(node.value):
                self._mark((*path, index), child)
                items.append(self.build(child, (*path, index)))
            return items
        finally:
            self._inside.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.problems.append(
                    self._problem(
                        key_node,
                        path,
                        "YAML merge keys (<<) are not supported",
                        "write the keys out, or use an environment's `overrides`",
                    )
                )
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(self._problem(key_node, path, "a key must be a plain string", None))
                continue
            key = str(key_node.value)
            child = (*path, key)
            if key in result:
                first = self.locations[child]
                self.problems.append(
                    self._problem(
                        key_node,
                        (*path, key),
                        f"duplicate key '{key}' (first written at line {first.line})",
                        "keep one of the two; YAML would silently use the last",
                    )
                )
                continue
            self._mark(child, key_node)
            result[key] = self.build(value_node, child)
        return result

    def _problem(self, node: yaml.Node, path: KeyPath, message: str, hint: str | None) -> Problem:
        mark = node.start_mark
        return Problem(self.file, mark.line + 1, mark.column + 1, format_path(path), message, hint)


_SCALAR_LOADER = yaml.SafeLoader("")


def _construct_scalar(node: yaml.ScalarNode) -> Any:
    # SafeLoader's resolver already tagged the node (int, bool, null, ...); construct with it.
    return _SCALAR_LOADER.construct_object(node, deep=True)


def parse(text: str, *, file: str) -> Document:
    """Parse YAML text; raise ConfigError (located) on syntax errors or duplicate keys."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        column = mark.column + 1 if mark else 0
        what = exc.problem or "invalid YAML"
        if exc.context:
            what = f"{exc.context}, {what}"
        raise ConfigError(
            [
                Problem(
                    file,
                    line,
                    column,
                    "",
                    f"YAML syntax error: {what}",
                    "check indentation and quoting on this line and the one before it",
                )
            ]
        ) from None
    except yaml.YAMLError as exc:  # e.g. a reader error: bad bytes
        raise ConfigError([Problem(file, 0, 0, "", f"cannot read YAML: {exc}", None)]) from None
    builder = _Builder(file)
    if root is None:
        return Document(file, None, {(): Location((), 1, 1)})
    builder.locations[()] = Location((), root.start_mark.line + 1, root.start_mark.column + 1)
    try:
        data = builder.build(root, ())
    except _TooLarge:
        raise ConfigError(
            [
                Problem(
                    file,
                    0,
                    0,
                    "",
                    f"the file expands to more than {MAX_VALUES} values through YAML aliases",
                    "write the configuration out without nested aliases",
                )
            ]
        ) from None
    if builder.problems:
        raise ConfigError(builder.problems)
    return Document(file, data, builder.locations)


def load(path: Path) -> Document:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [
                Problem(
                    str(path),
                    0,
                    0,
                    "",
                    "file not found",
                    "pass the right file with --config, or run from the folder holding config.yaml",
                )
            ]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(str(path), 0, 0, "", f"cannot read the file: {exc}", None)]) from None
    return parse(text, file=str(path))
