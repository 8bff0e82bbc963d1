"""Read YAML into plain data while remembering where every key and value came from.

PyYAML's composer gives nodes with marks; we build the data ourselves so that every key path
(`("buckets", "photos", "cors", 0)`) maps to the line and column a user can jump to, duplicate keys
are reported instead of silently overwritten, and syntax errors point at their line.
"""

from __future__ import annotations

import re
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
# The deepest key path a real config has is about ten levels (an override of a lifecycle transition);
# a document nested deeper than this is refused at the line where it goes too deep, before PyYAML's
# recursive composer (or anything after it) runs out of stack.
MAX_DEPTH = 50

# The line breaks PyYAML counts (its marks are in these lines), so our own lines agree with its.
_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")


class _TooLarge(Exception):
    def __init__(self, line: int, column: int) -> None:
        self.line, self.column = line, column


class _TooDeep(Exception):
    def __init__(self, line: int, column: int, path: KeyPath = ()) -> None:
        self.line, self.column, self.path = line, column, path


def line_column(text: str, position: int) -> tuple[int, int]:
    """1-based line and column of character `position` in `text`, counting lines as PyYAML does."""
    line, start = 1, 0
    for match in _LINE_BREAK.finditer(text, 0, position):
        line, start = line + 1, match.end()
    return line, position - start + 1


class _DepthLimitedLoader(yaml.SafeLoader):
    """SafeLoader whose (recursive) composer refuses nesting deeper than MAX_DEPTH."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH + 1:  # the root is depth 1, so MAX_DEPTH levels below it
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise _TooDeep(mark.line + 1, mark.column + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


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
        if self._values > MAX_VALUES or len(path) > MAX_DEPTH:
            at = self.locations.get(path) or Location(path, node.start_mark.line + 1, node.start_mark.column + 1)
            if self._values > MAX_VALUES:
                raise _TooLarge(at.line, at.column)
            raise _TooDeep(at.line, at.column, path)
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
        root = yaml.compose(text, Loader=_DepthLimitedLoader)
    except _TooDeep as exc:
        raise ConfigError([_too_deep(file, exc)]) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, such as NUL
        line, column = line_column(text, exc.position) if isinstance(exc.position, int) else (0, 0)
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        what = "a NUL character (U+0000)" if code == 0 else f"the control character U+{code:04X}"
        raise ConfigError(
            [
                Problem(
                    file,
                    line,
                    column,
                    "",
                    f"the file contains {what}, which YAML does not allow",
                    "delete it (an editor that shows invisible characters helps); a config file is plain UTF-8 text",
                )
            ]
        ) from None
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
    except _TooLarge as exc:
        raise ConfigError(
            [
                Problem(
                    file,
                    exc.line,
                    exc.column,
                    "",
                    f"the file expands to more than {MAX_VALUES} values through YAML aliases",
                    "write the configuration out without nested aliases",
                )
            ]
        ) from None
    except _TooDeep as exc:
        raise ConfigError([_too_deep(file, exc)]) from None
    if builder.problems:
        raise ConfigError(builder.problems)
    return Document(file, data, builder.locations)


def _too_deep(file: str, exc: _TooDeep) -> Problem:
    return Problem(
        file,
        exc.line,
        exc.column,
        format_path(exc.path),
        f"values are nested more than {MAX_DEPTH} levels deep here",
        "a cargohold config is about ten levels deep at most: look for unclosed brackets, "
        "runaway indentation or aliases that nest each other",
    )


def _not_utf8(file: str, data: bytes, exc: UnicodeDecodeError) -> Problem:
    """Where the first byte that is not UTF-8 is, as a line and column of the text before it."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Problem(file, 1, 1, "", "cannot read the file: it is UTF-16, not UTF-8", "save it as UTF-8")
    before = data[: exc.start].decode("utf-8", errors="replace")
    line, column = line_column(before, len(before))
    return Problem(
        file,
        line,
        column,
        "",
        f"cannot read the file: byte 0x{data[exc.start]:02x} here is not UTF-8",
        "save the file as UTF-8 (it may have been written as Latin-1 or Windows-1252), or remove the character",
    )


def load(path: Path) -> Document:
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
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
    except UnicodeDecodeError as exc:
        raise ConfigError([_not_utf8(str(path), data, exc)]) from None
    except OSError as exc:
        raise ConfigError([Problem(str(path), 0, 0, "", f"cannot read the file: {exc}", None)]) from None
    return parse(text, file=str(path))
