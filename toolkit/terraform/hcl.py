"""Write plain values (str, bool, number, list, map) as HCL, e.g. a `-backend-config` file.

Only values, no expressions: strings are quoted and escaped so that nothing a user writes can
turn into HCL syntax or a template interpolation (`${...}`, `%{...}`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def quote(text: str) -> str:
    """An HCL string literal for `text`."""
    out = ['"']
    for index, char in enumerate(text):
        nxt = text[index + 1] if index + 1 < len(text) else ""
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif char in "$%" and nxt == "{":
            out.append(char * 2)  # `$${` / `%%{` are HCL's literal `${` / `%{`
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def value(item: object, *, indent: int = 0) -> str:
    """The HCL expression for one plain value."""
    pad = "  " * (indent + 1)
    if isinstance(item, bool):  # before int: bool is an int in Python
        return "true" if item else "false"
    if isinstance(item, int):
        return str(item)
    if isinstance(item, float):
        if not math.isfinite(item):
            raise ValueError(f"HCL has no literal for {item}")
        return json.dumps(item)
    if isinstance(item, str):
        return quote(item)
    if isinstance(item, Mapping):
        if not item:
            return "{}"
        lines = [f"{pad}{_key(k)} = {value(v, indent=indent + 1)}" for k, v in item.items()]
        return "{\n" + "\n".join(lines) + "\n" + "  " * indent + "}"
    if isinstance(item, Sequence):
        return "[" + ", ".join(value(v, indent=indent) for v in item) + "]"
    raise TypeError(f"cannot write {type(item).__name__} as HCL")


def _key(key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"HCL map keys must be strings, not {type(key).__name__}")
    return key if _IDENTIFIER.match(key) else quote(key)


def attributes(values: Mapping[str, object]) -> str:
    """A body of `name = value` lines, as in a `.tfvars` or `-backend-config` file."""
    lines = []
    for name, item in values.items():
        if not _IDENTIFIER.match(name):
            raise ValueError(f"not a valid HCL attribute name: {name!r}")
        lines.append(f"{name} = {value(item)}")
    return "\n".join(lines) + "\n"
