"""Terraform's wire values (msgpack DynamicValue, unknowns included) and the generic plan/apply rules.

The rules here are the ones every resource shares; what to call in the emulator is in `resources`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

import msgpack


class _Unknown:
    """A value Terraform will only know after apply (msgpack extension 0)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "(known after apply)"


UNKNOWN = _Unknown()


def _ext_hook(code: int, data: bytes) -> Any:
    return UNKNOWN if code == 0 else msgpack.ExtType(code, data)


def _default(value: Any) -> Any:
    if value is UNKNOWN:
        return msgpack.ExtType(0, b"\x00")
    raise TypeError(f"cannot send {type(value).__name__} to Terraform")


def decode(dynamic: Any) -> Any:
    """A DynamicValue message as Python values (None for an empty one)."""
    if dynamic.msgpack:
        return msgpack.unpackb(dynamic.msgpack, ext_hook=_ext_hook, raw=False, strict_map_key=False)
    if dynamic.json:
        return json.loads(dynamic.json)
    return None


def encode(value: Any, pb: Any) -> Any:
    return pb.DynamicValue(msgpack=msgpack.packb(value, default=_default, use_bin_type=True))


def has_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unknown(v) for v in value)
    return False


def without_unknowns(value: Any) -> Any:
    """The planned value as a handler sees it: unknowns (what it must fill in) as None."""
    if value is UNKNOWN:
        return None
    if isinstance(value, dict):
        return {k: without_unknowns(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_unknowns(v) for v in value]
    return value


def same(a: Any, b: Any) -> bool:
    """Equal as the SDKv2 provider compares: an empty collection is the same as null."""
    if a in (None, [], {}) and b in (None, [], {}):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return all(same(a.get(k), b.get(k)) for k in set(a) | set(b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def plan(
    block: Mapping[str, Any],
    prior: dict[str, Any] | None,
    proposed: dict[str, Any],
    *,
    region: str,
    default_tags: Mapping[str, str],
    replace_on: frozenset[str],
    defaults: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The planned new state and the arguments whose change forces replacement.

    Terraform's proposed new state is the configuration with computed values carried over from the
    prior state. On create, every computed attribute the configuration leaves out is unknown; `region`
    and `tags_all` are known from the provider configuration. An argument that only moved between null
    and empty keeps its prior spelling, so it is no change. Arguments left out get the real provider's
    defaults.
    """
    planned = copy.deepcopy(proposed)
    attributes = block["attributes"]
    for name, default in (defaults or {}).items():
        if planned.get(name) is None:
            planned[name] = default
    if "region" in attributes and planned.get("region") is None:
        planned["region"] = region
    if "tags_all" in attributes:
        planned["tags_all"] = {**default_tags, **(planned.get("tags") or {})}
    if prior is None:
        for name, a in attributes.items():
            if (a["computed_only"] or a.get("computed")) and planned.get(name) is None:
                planned[name] = UNKNOWN
        return planned, []
    for name in planned:
        if name in prior and same(planned[name], prior[name]) and not has_unknown(planned[name]):
            planned[name] = prior[name]
    replace = sorted(name for name in replace_on if name in planned and not same(planned[name], prior.get(name)))
    if "id" in attributes and planned.get("id") is None:
        planned["id"] = prior.get("id")
    return planned, replace


def applied(planned: dict[str, Any], made: dict[str, Any]) -> dict[str, Any]:
    """The new state after apply: every value the plan knew, and what the emulator said for the rest."""
    return {name: made.get(name) if value is UNKNOWN else value for name, value in planned.items()}
