"""Turn pydantic validation errors into located problems with hints a person can act on."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from cargohold_core.config.yamlsource import Document, KeyPath
from cargohold_core.errors import Problem


def did_you_mean(word: str, choices: typing.Iterable[str]) -> str | None:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return match[0] if match else None


def edit_distance(a: str, b: str) -> int:
    """Edits (insert, delete, replace, swap two neighbours) that turn `a` into `b`."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]


def near_miss(word: str, choices: typing.Iterable[str]) -> str | None:
    """The choice `word` is most likely a typo of: one or two edits away (one for short words), else None.

    Stricter than `did_you_mean`, for deciding that a value is wrong rather than only suggesting."""
    limit = 1 if len(word) <= 5 else 2
    best: tuple[int, str] | None = None
    for choice in choices:
        if choice == word:
            return None
        distance = edit_distance(word, choice)
        if distance <= limit and (best is None or distance < best[0]):
            best = (distance, choice)
    return best[1] if best else None


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types inside Optional/Annotated/list/dict, for walking a model by key path."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for arg in typing.get_args(annotation) for t in _unwrap(arg)]
    return [annotation]


def fields_at(model: type[BaseModel], path: KeyPath) -> list[str]:
    """Field names of the model found at `path` below `model` (empty when it is not a model)."""
    current: list[Any] = [model]
    for part in path:
        following: list[Any] = []
        for candidate in current:
            origin = typing.get_origin(candidate)
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                field = candidate.model_fields.get(str(part))
                if field is not None:
                    following.extend(_unwrap(field.annotation))
            elif origin in (list, dict):
                following.extend(_unwrap(typing.get_args(candidate)[-1]))
        current = following
    names: list[str] = []
    for candidate in current:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            names.extend(candidate.model_fields)
    return names


def _at(data: Any, path: KeyPath) -> Any:
    for part in path:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def _data_loc(data: Any, loc: KeyPath) -> KeyPath:
    """`loc` without the tags pydantic adds for union members (e.g. 'dynamodb'), which the YAML lacks."""
    kept: list[str | int] = []
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        present = (isinstance(data, dict) and part in data) or (
            isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        )
        if present:
            kept.append(part)
            data = data[part]
        elif last or not isinstance(data, dict):
            kept.append(part)  # a missing or unknown key (the error is about it), or below a scalar
        # else: a union tag: skip it
    return tuple(kept)


_FRIENDLY = {
    "bool_parsing": ("expected true or false", "write true or false"),
    "bool_type": ("expected true or false", "write true or false"),
    "int_parsing": ("expected a whole number", None),
    "int_type": ("expected a whole number", None),
    "int_from_float": ("expected a whole number", None),
    "float_parsing": ("expected a number", None),
    "float_type": ("expected a number", None),
    "string_type": ("expected text", "put the value in quotes"),
    "dict_type": ("expected a mapping of `key: value` lines", None),
    "model_type": ("expected a mapping of `key: value` lines", None),
    "model_attributes_type": ("expected a mapping of `key: value` lines", None),
    "list_type": ("expected a list (lines starting with '- ')", None),
}


def problems_from(exc: ValidationError, *, doc: Document, model: type[BaseModel], base: KeyPath = ()) -> list[Problem]:
    problems = []
    data = _at(doc.data, base)
    for error in exc.errors():
        loc: KeyPath = _data_loc(data, tuple(error["loc"]))
        path = base + loc
        kind = error["type"]
        value = error.get("input")
        hint: str | None = None
        if kind == "extra_forbidden":
            known = fields_at(model, loc[:-1])
            guess = did_you_mean(str(loc[-1]), known)
            message = f"unknown key '{loc[-1]}'"
            if guess:
                message += f"; did you mean '{guess}'?"
            hint = f"keys allowed here: {', '.join(known)}" if known else "remove this key"
        elif kind == "missing":
            message = f"required key '{loc[-1]}' is missing"
            hint = f"add `{loc[-1]}:` here"
            path = path[:-1]
            problems.append(doc.problem(path, message, hint))
            continue
        elif kind == "literal_error":
            expected = [e.strip().strip("'") for e in str(error["ctx"]["expected"]).replace(" or ", ", ").split(", ")]
            message = f"'{value}' is not allowed"
            guess = did_you_mean(str(value), expected)
            if guess:
                message += f"; did you mean '{guess}'?"
            hint = f"write one of: {', '.join(expected)}"
        elif kind in _FRIENDLY:
            message, hint = _FRIENDLY[kind]
            message += f", got {value!r}" if not isinstance(value, (dict, list)) else ""
        elif kind == "string_pattern_mismatch":
            message = f"'{value}' is not in the expected form"
            hint = f"write a value matching {error['ctx']['pattern']}"
        elif kind == "value_error":
            message = str(error["msg"]).removeprefix("Value error, ")
            hint = getattr((error.get("ctx") or {}).get("error"), "hint", None)  # validators may raise with a hint
        else:
            message = str(error["msg"])
        problems.append(doc.problem(path, message, hint))
    return problems
