"""Object keys: normalise the paths a database stores, render the key template, validate keys."""

from __future__ import annotations

import posixpath
import string
from typing import Any

PATH_FIELDS = frozenset({"path", "dir", "parent", "filename", "stem", "ext"})
MAX_KEY_BYTES = 1024


class TemplateError(ValueError):
    """A key template could not be rendered for a row."""


def template_fields(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]


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
    values: dict[str, Any] = {**{str(k): v for k, v in columns.items()}, **path_fields(relpath)}
    try:
        key = template.format_map(values)
    except KeyError as exc:
        raise TemplateError(
            f"the key template needs {{{exc.args[0]}}}, which is neither a path part nor a column"
        ) from None
    except (ValueError, IndexError, AttributeError) as exc:
        raise TemplateError(f"the key template cannot be rendered: {exc}") from None
    # "a//b" from an empty {dir}: collapse, and never start with "/".
    while "//" in key:
        key = key.replace("//", "/")
    return key.lstrip("/")


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
