"""The committed 6.66.0 schema (terraform/provider-schema/) as tfplugin6 protobuf, and state shaping.

Blocks of nesting "single" are served as a list of at most one, as the SDKv2-based provider serves
them; every block value in state is therefore a list. Deprecated arguments (deprecated.json) are
flagged so Terraform itself warns about them, as it would with HashiCorp's provider.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from cargohold_core.paths import provider_schema_dir

VERSION = "6.66.0"

_SCALARS = {"string": "string", "number": "number", "boolean": "bool"}


@functools.lru_cache(maxsize=1)
def document(path: Path | None = None) -> dict[str, Any]:
    return json.loads((path or provider_schema_dir() / f"aws-{VERSION}.json").read_text())  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=1)
def deprecated() -> frozenset[str]:
    return frozenset(json.loads((provider_schema_dir() / "deprecated.json").read_text())["deprecated"])


def cty_type(attribute: dict[str, Any]) -> Any:
    """An attribute's type in Terraform's JSON type notation ("string", ["set", "string"], ...)."""
    storage, kind = attribute["type"], attribute.get("kind", "simple")
    if storage in _SCALARS:
        return _SCALARS[storage]
    for suffix, collection in (("List", "list"), ("Map", "map")):
        if storage.endswith(suffix):
            element = _SCALARS.get(storage.removesuffix(suffix), "string")
            if storage.removesuffix(suffix) == "any":
                element = "dynamic"
            return [kind if kind in ("list", "set", "map") else collection, element]
    raise ValueError(f"attribute type {storage!r} is not one the emulator provider serves")


def block_pb(block: dict[str, Any], path: str, pb: Any) -> Any:
    """One block schema (attributes and nested blocks) as a `Schema.Block` message."""
    gone = deprecated()
    attributes = []
    for name, a in sorted(block["attributes"].items()):
        computed_only = a["computed_only"]
        attributes.append(
            pb.Schema.Attribute(
                name=name,
                type=json.dumps(cty_type(a)).encode(),
                required=a["required"],
                optional=not a["required"] and not computed_only,
                computed=computed_only or a.get("computed", False),
                deprecated=f"{path}.{name}" in gone,
            )
        )
    nested = []
    for name, b in sorted(block["blocks"].items()):
        mode = pb.Schema.NestedBlock.SET if b["nesting"] == "set" else pb.Schema.NestedBlock.LIST
        nested.append(
            pb.Schema.NestedBlock(
                type_name=name,
                block=block_pb(b["schema"], f"{path}.{name}", pb),
                nesting=mode,
                min_items=1 if b.get("required") else 0,
                max_items=1 if b["nesting"] == "single" else 0,
            )
        )
    return pb.Schema.Block(attributes=attributes, block_types=nested, deprecated=path in gone)


def resource_schema(type_name: str) -> dict[str, Any]:
    return document()["resources"][type_name]  # type: ignore[no-any-return]


def shape(block: dict[str, Any], value: dict[str, Any] | None) -> dict[str, Any] | None:
    """`value` with every attribute and block of `block` present (None, []), recursively, and
    nothing the schema does not have: the object Terraform expects for a state value."""
    if value is None:
        return None
    out: dict[str, Any] = {}
    for name in block["attributes"]:
        out[name] = _integral(value.get(name))
    for name, b in block["blocks"].items():
        items = value.get(name) or []
        if isinstance(items, dict):
            items = [items]
        out[name] = [shape(b["schema"], item) for item in items]
    return out


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value
