"""Object keys: normalise the paths a database stores, render the key template, validate keys.

A key template is compiled once per job (`compile_template`) and rendered per row. Fields are path
parts (PATH_FIELDS) or row columns, optionally piped through filters: `{filename|clean}`,
`{path|ascii|slug}`; a conversion and format spec may follow the filters (`{user_id|upper:>8}`).
"""

from __future__ import annotations

import functools
import posixpath
import re
import string
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from cargohold_core.config.diagnostics import did_you_mean
from cargohold_core.errors import CargoholdError

PATH_FIELDS = frozenset({"path", "dir", "parent", "filename", "stem", "ext"})
MAX_KEY_BYTES = 1024


class TemplateError(ValueError):
    """A key template cannot be compiled, or cannot be rendered for a row. `hint` says what to write."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class TemplateFieldError(CargoholdError):
    """The key template names a field that is neither a path part nor a column of any row read."""

    exit_code = 1


# ---------------------------------------------------------------- filters

# Letters NFKD does not decompose, spelt out so that `ascii` keeps them readable.
_LATIN = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D",
     "ð": "d", "Ð": "D", "ł": "l", "Ł": "L", "þ": "th", "Þ": "Th", "ı": "i"}
)  # fmt: skip
_CONTROL = re.compile("[\x00-\x1f\x7f]")
_NOT_SLUG = re.compile(r"[^a-z0-9._-]+")
_DASHES = re.compile(r"-*\.-*|-{2,}")


def _clean(value: str) -> str:
    """Control characters (below 32, and 127) become "_": S3 tools choke on them."""
    return _CONTROL.sub("_", value)


def _nfc(value: str) -> str:
    """Unicode NFC: composed characters, as macOS-written names often are not."""
    return unicodedata.normalize("NFC", value)


def _nfkc(value: str) -> str:
    """Unicode NFKC: NFC, and compatibility forms folded too ("ﬁ" -> "fi", "①" -> "1")."""
    return unicodedata.normalize("NFKC", value)


def _ascii(value: str) -> str:
    """ASCII only: accents dropped ("ünïcødé" -> "unicode"); other non-ASCII characters removed."""
    return unicodedata.normalize("NFKD", value).translate(_LATIN).encode("ascii", "ignore").decode("ascii")


def _slug_segment(segment: str) -> str:
    text = _NOT_SLUG.sub("-", _ascii(segment).lower())
    text = _DASHES.sub(lambda m: "." if "." in m.group() else "-", text).strip("-")
    return "_" if text in ("", ".", "..") else text  # never an empty, "." or ".." segment


def _slug(value: str) -> str:
    """Per "/" segment: lower-case ASCII, other runs -> "-", trimmed; "_" for what would be empty."""
    return "/".join(_slug_segment(segment) for segment in value.split("/")) if value else ""


def _lower(value: str) -> str:
    """Lower case."""
    return value.lower()


def _upper(value: str) -> str:
    """Upper case."""
    return value.upper()


def _strip(value: str) -> str:
    """Leading and trailing whitespace removed."""
    return value.strip()


FILTERS: dict[str, Callable[[str], str]] = {
    "clean": _clean,
    "nfc": _nfc,
    "nfkc": _nfkc,
    "ascii": _ascii,
    "slug": _slug,
    "lower": _lower,
    "upper": _upper,
    "strip": _strip,
}
_FILTER_HINT = "filters: " + ", ".join(FILTERS) + " (e.g. {filename|clean}, {path|ascii|slug})"


# ---------------------------------------------------------------- templates

_FORMATTER = string.Formatter()
_FIELD_ROOT = re.compile(r"[.\[]")  # "created_at.year" and "tags[0]" read the column before the "." or "["


@dataclass(frozen=True)
class _Field:
    name: str  # as written before the filters, e.g. "user_id" or "created_at.year"
    root: str  # the path part or column it reads
    filters: tuple[Callable[[str], str], ...]
    conversion: str | None
    spec: str


@dataclass(frozen=True)
class KeyTemplate:
    """A compiled key template: `render` it per row."""

    source: str
    parts: tuple[str | _Field, ...]

    @property
    def fields(self) -> tuple[str, ...]:
        """The path parts and columns the template reads, in order, each once."""
        return tuple(dict.fromkeys(p.root for p in self.parts if isinstance(p, _Field)))

    def render(self, *, relpath: str, columns: dict[str, Any]) -> str:
        values: dict[str, Any] = {**{str(k): v for k, v in columns.items()}, **path_fields(relpath)}
        key = "".join(p if isinstance(p, str) else _render_field(p, values) for p in self.parts)
        # "a//b" from an empty {dir}: collapse, and never start with "/".
        while "//" in key:
            key = key.replace("//", "/")
        return key.lstrip("/")


def template_fields(template: str) -> list[str]:
    """The path parts and columns `template` reads (TemplateError when it does not compile)."""
    return list(compile_template(template).fields)


@functools.lru_cache(maxsize=64)
def compile_template(template: str) -> KeyTemplate:
    """Parse a key template once; TemplateError (with a hint) when it is malformed or names an unknown filter."""
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError as exc:
        raise TemplateError(
            f"the key template cannot be parsed: {exc}",
            hint="write fields as {name} or {name|filter}, and {{ or }} for a literal brace",
        ) from None
    parts: list[str | _Field] = []
    for literal, name, spec, conversion in parsed:
        if literal:
            parts.append(literal)
        if name is not None:
            parts.append(_compile_field(name, spec=spec or "", conversion=conversion))
    return KeyTemplate(template, tuple(parts))


def _compile_field(text: str, *, spec: str, conversion: str | None) -> _Field:
    name, *filter_names = (piece.strip() for piece in text.split("|"))
    root = _FIELD_ROOT.split(name, maxsplit=1)[0]
    if not root or root.isdigit():
        raise TemplateError(
            f"the key template field {{{text}}} has no name",
            hint="name a path part (" + ", ".join(sorted(PATH_FIELDS)) + ") or a column, e.g. {user_id}",
        )
    if "{" in spec:
        raise TemplateError(f"the key template field {{{text}}} has a field inside its format spec")
    if conversion not in (None, "r", "s", "a"):
        raise TemplateError(f"the key template field {{{text}}} has an unknown conversion !{conversion}")
    return _Field(name, root, tuple(_filter(f, field=text) for f in filter_names), conversion, spec)


def _filter(name: str, *, field: str) -> Callable[[str], str]:
    if name in FILTERS:
        return FILTERS[name]
    guess = did_you_mean(name, FILTERS)
    message = f"unknown filter '{name}' in {{{field}}}" + (f"; did you mean '{guess}'?" if guess else "")
    raise TemplateError(message, hint=_FILTER_HINT)


def _render_field(field: _Field, values: dict[str, Any]) -> str:
    try:
        value, _ = _FORMATTER.get_field(field.name, (), values)
    except KeyError:
        raise TemplateError(
            f"the key template needs {{{field.root}}}, which is neither a path part nor a column"
        ) from None
    except (ValueError, IndexError, AttributeError, TypeError) as exc:
        raise TemplateError(f"the key template cannot be rendered: {{{field.name}}}: {exc}") from None
    if value is None:  # a NULL column: "None" in a key is never what was meant
        raise TemplateError(f"the key template needs {{{field.root}}}, which is empty (NULL) in this row")
    if field.filters:
        value = functools.reduce(lambda text, f: f(text), field.filters, str(value))
    try:
        return str(_FORMATTER.format_field(_FORMATTER.convert_field(value, field.conversion), field.spec))
    except (ValueError, TypeError) as exc:
        raise TemplateError(f"the key template cannot be rendered: {{{field.name}}}: {exc}") from None


def check_fields(template: KeyTemplate, *, columns: Iterable[str], table: str) -> None:
    """TemplateFieldError when the template reads a field that is neither a path part nor one of `columns`
    (the columns seen in the rows read): then no row could be migrated, so nothing should be."""
    known = set(columns)
    unknown = [f for f in template.fields if f not in PATH_FIELDS and f not in known]
    if not unknown:
        return
    choices = sorted(PATH_FIELDS | known)
    guesses = [f"{{{g}}}" for g in (did_you_mean(f, choices) for f in unknown) if g]
    shown = sorted(known)
    listed = ", ".join(shown[:40]) + (f", ... ({len(shown)} in all)" if len(shown) > 40 else "")
    names = ", ".join(f"{{{f}}}" for f in unknown)
    which = "a field {} that is" if len(unknown) == 1 else "fields {} that are"
    raise TemplateFieldError(
        f"the key template {template.source!r} uses {which.format(names)} neither a path part nor a column"
        f" of table {table} (its rows have: {listed or 'no columns'})"
        + (f"; did you mean {' / '.join(guesses)}?" if guesses else ""),
        hint="fix target.key_template; path parts: " + ", ".join(f"{{{p}}}" for p in sorted(PATH_FIELDS)),
    )


def relative_path(
    stored: str, *, source_dir: str, relative_to: str | None = None, path_base: str | None = None
) -> str | None:
    """The file a stored path names, relative to the source directory; None when it is outside it.

    - a relative value ("a.jpg", "./uploads/a.jpg", "a\\b.jpg") starts from `relative_to` (the folder the
      application resolved its paths from; default: the source directory itself);
    - an absolute value is taken as it is, or, when it starts with `path_base` (where the files lived
      when the rows were written, e.g. "/var/www/app/uploads"), as that prefix replaced by the source.
    """
    value = stored.strip().replace("\\", "/")
    if not value:
        return None
    source = posixpath.normpath(source_dir)
    if value.startswith("/"):
        base = path_base.rstrip("/") + "/" if path_base else None
        absolute = source + "/" + value[len(base) :] if base and value.startswith(base) else value
    else:
        absolute = posixpath.join(posixpath.normpath(relative_to or source_dir), value)
    absolute = posixpath.normpath(absolute)
    if not absolute.startswith(source + "/"):
        return None
    return absolute[len(source) + 1 :]


def path_fields(relpath: str) -> dict[str, str]:
    directory, filename = posixpath.split(relpath)
    stem, dot, ext = filename.rpartition(".")
    if not dot or not stem:  # "README" or ".env": no extension
        stem, ext = filename, ""
    return {
        "path": relpath,
        "dir": directory,
        "parent": posixpath.basename(directory),
        "filename": filename,
        "stem": stem,
        "ext": ext,
    }


def render_key(template: str, *, relpath: str, columns: dict[str, Any]) -> str:
    """Render `template` for one file and row (compiled once and cached)."""
    return compile_template(template).render(relpath=relpath, columns=columns)


def key_problems(key: str) -> list[str]:
    """Why S3 (or the tools around it) would not take this key; empty when it is fine."""
    problems = []
    size = len(key.encode("utf-8"))
    if not key:
        problems.append("the key is empty")
    if size > MAX_KEY_BYTES:
        problems.append(f"the key is {size} bytes long; S3 allows {MAX_KEY_BYTES}")
    if any(ord(c) < 32 or ord(c) == 127 for c in key):
        problems.append("the key contains control characters")
    if any(part in (".", "..") for part in key.split("/")):
        problems.append("the key has a '.' or '..' segment (SDKs normalise it away)")
    return problems
