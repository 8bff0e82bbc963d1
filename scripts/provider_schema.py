#!/usr/bin/env python3
"""Extract the AWS provider's resource schemas the stack uses into terraform/provider-schema/.

The AWS provider cannot be installed on the machines the tests run on, so `terraform providers
schema -json` is not available there. The CDK Terrain bindings are generated from exactly that
output, one npm package per provider version, and carry every resource's attributes and nested
blocks. This script reads them (plain text parsing, no node) and writes a compact JSON that
tests/stack/test_provider_schema.py checks the modules against. Run by hand; commit the result.

Fetch the package (any machine with npm; the tarball is all that is needed):

    mkdir -p /tmp/cdktn && cd /tmp/cdktn
    npm pack @cdktn/provider-aws@25.7.0     # -> cdktn-provider-aws-25.7.0.tgz
    tar xzf cdktn-provider-aws-25.7.0.tgz   # -> /tmp/cdktn/package

then, from the repository root:

    python scripts/provider_schema.py [/tmp/cdktn/package] [aws_type ...]

With no types given, every `resource "aws_..."` type declared under terraform/ is extracted.
Regenerate (with the matching package) when the provider version in terraform/stack/versions.tf moves.

What is read, per resource (lib/<folder>/index.js):
- `synthesizeHclAttributes()` of the class whose `static tfResourceType` is the type, and for each
  nested block the `<struct>ToHclTerraform` function its value goes through: the configurable
  attributes and blocks. A block whose value is `cdktn.listMapperHcl(f, true)(...)` repeats
  (nesting "list" or "set", from its `type`); one passed straight to `f(...)` takes at most one
  block (nesting "single": in the provider that is a list with max_items 1 or a single block).
- the `// name - computed: X, optional: Y, required: Z` comments of the resource class and of each
  block's `<Struct>OutputReference` class: `required`, `computed` (the provider fills it in when the
  configuration leaves it out), and the computed-only attributes (computed, neither optional nor
  required: no setter, not in synthesize), which a module must not write.
- each attribute's `kind` (simple, list, set or map) beside its element `type`, so the emulator
  provider (toolkit/tfprovider) can serve the attribute's real type.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PACKAGE = Path("/tmp/cdktn/package")  # noqa: S108 (where the header says to unpack it)
OUT_DIR = REPO / "terraform" / "provider-schema"

TOP_LEVEL = re.compile(r"^(?:function|class) (\w+)\b.*?^\}", re.S | re.M)
ENTRY = re.compile(
    r"^\s+(\w+): \{\s*value: (?P<value>.*?),\s*isBlock: (?P<block>true|false),\s*"
    r'type: "(?P<type>\w+)",\s*storageClassType: "(?P<storage>[^"]+)",\s*\},?$',
    re.S | re.M,
)
FLAGS = re.compile(r"^    // (\w+) - computed: (true|false), optional: (true|false), required: (true|false)$", re.M)
STRUCT_FN = re.compile(r"(?<![.\w])(\w+)ToHclTerraform\b")
GETTER = re.compile(r"^    get \w+\(\) \{\n\s*return (.*?);$", re.M)
GETTER_TYPES = {
    "getStringAttribute": "string",
    "getNumberAttribute": "number",
    "getBooleanAttribute": "boolean",
    "getListAttribute": "stringList",
    "getNumberListAttribute": "numberList",
    "getStringMapAttribute": "stringMap",
    "getNumberMapAttribute": "numberMap",
    "getBooleanMapAttribute": "booleanMap",
    "getAnyMapAttribute": "anyMap",
}


def stack_resource_types(root: Path = REPO / "terraform") -> list[str]:
    found = set()
    for tf in root.rglob("*.tf"):
        found.update(re.findall(r'^resource "([a-z0-9_]+)"', tf.read_text(), re.M))
    return sorted(found)


class Source:
    """One resource's index.js, split into its top-level functions and classes."""

    def __init__(self, text: str) -> None:
        self.units = {m.group(1): m.group(0) for m in TOP_LEVEL.finditer(text)}

    def unit(self, name: str) -> str:
        if name not in self.units:
            raise KeyError(f"no top-level function or class {name!r}")
        return self.units[name]


def attrs_object(body: str) -> str:
    """The `const attrs = { ... };` literal of a synthesize method or ToHclTerraform function."""
    if "const attrs = {};" in body:  # a block without arguments, e.g. simple_prefix {}
        return ""
    start = body.index("const attrs = {")
    indent = start - body.rindex("\n", 0, start) - 1
    end = body.index("\n" + " " * indent + "};\n", start)
    return body[start:end]


def flags(class_body: str) -> dict[str, tuple[bool, bool, bool]]:
    return {m[0]: (m[1] == "true", m[2] == "true", m[3] == "true") for m in FLAGS.findall(class_body)}


def getter_type(class_body: str, name: str) -> str:
    for expr in GETTER.findall(class_body):
        if f"'{name}'" in expr:
            call = expr.split("(", 1)[0].removeprefix("this.")
            return GETTER_TYPES.get(call, "object")
    # a computed-only nested object list: `return this._foo;` (a ComplexList), or not found
    return "object"


def schema_of(src: Source, attrs_src: str, class_body: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    blocks: dict[str, Any] = {}
    declared = flags(class_body)
    for m in ENTRY.finditer(attrs_src):
        name = m.group(1)
        computed, optional, required = declared.get(name, (False, True, False))
        if m.group("block") == "true":
            fn = STRUCT_FN.search(m.group("value"))
            if fn is None:
                raise ValueError(f"block {name}: no struct function in {m.group('value')!r}")
            repeated = "listMapperHcl(" in m.group("value")
            nesting = m.group("type") if repeated else "single"
            blocks[name] = {"nesting": nesting, "required": required, "schema": struct_schema(src, fn.group(1))}
        else:
            attributes[name] = {
                "type": m.group("storage"),
                "kind": m.group("type"),
                "required": required,
                "computed": computed and not required,
                "computed_only": False,
            }
    for name, (computed, optional, required) in declared.items():
        if name in attributes or name in blocks:
            continue
        if computed and not optional and not required:
            storage = getter_type(class_body, name)
            kind = "list" if storage.endswith("List") else "map" if storage.endswith("Map") else "simple"
            attributes[name] = {
                "type": storage,
                "kind": kind,
                "required": False,
                "computed": True,
                "computed_only": True,
            }
        else:
            raise ValueError(f"{name}: settable (per its comment) but not in the synthesized attributes")
    return {"attributes": dict(sorted(attributes.items())), "blocks": dict(sorted(blocks.items()))}


def struct_schema(src: Source, fn_prefix: str) -> dict[str, Any]:
    body = src.unit(f"{fn_prefix}ToHclTerraform")
    cls = fn_prefix[0].upper() + fn_prefix[1:] + "OutputReference"
    return schema_of(src, attrs_object(body), src.units.get(cls, ""))


def resource_schema(package: Path, rtype: str) -> dict[str, Any]:
    """One resource type's schema; `aws` is the provider block's own configuration."""
    folder = package / "lib" / ("provider" if rtype == "aws" else rtype.removeprefix("aws_").replace("_", "-"))
    text = (folder / "index.js").read_text()
    src = Source(text)
    marker = f'static tfResourceType = "{rtype}";'
    classes = [body for body in src.units.values() if marker in body]
    if len(classes) != 1:
        raise ValueError(f"{rtype}: expected one class with {marker} in {folder}, found {len(classes)}")
    cls = classes[0]
    synth = cls[cls.index("    synthesizeHclAttributes() {") :]
    return schema_of(src, attrs_object(synth), cls)


def build(package: Path, types: list[str]) -> dict[str, Any]:
    meta = json.loads((package / "package.json").read_text())
    provider = meta["cdktn"]["provider"]
    return {
        "provenance": {
            "provider": provider["name"],
            "version": provider["version"],
            "source": f"{meta['name']}@{meta['version']}",
            "generated_by": "scripts/provider_schema.py",
            "note": "regenerate when the provider version moves",
            "nesting": "list/set: repeatable blocks; single: at most one block (list with max_items 1)",
        },
        "provider": resource_schema(package, "aws"),
        "resources": {t: resource_schema(package, t) for t in sorted(types)},
    }


def dump(schema: dict[str, Any]) -> str:
    """One line per resource: small, stable and still diffable."""
    lines = [
        "{",
        f' "provenance": {json.dumps(schema["provenance"], sort_keys=True)},',
        f' "provider": {json.dumps(schema["provider"], sort_keys=True, separators=(",", ":"))},',
        ' "resources": {',
    ]
    items = sorted(schema["resources"].items())
    for i, (rtype, body) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        lines.append(f"  {json.dumps(rtype)}: {json.dumps(body, sort_keys=True, separators=(',', ':'))}{comma}")
    lines += [" }", "}", ""]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    package = Path(argv[0]) if argv else DEFAULT_PACKAGE
    types = argv[1:] or stack_resource_types()
    schema = build(package, types)
    version = schema["provenance"]["version"]
    out = OUT_DIR / f"aws-{version}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dump(schema))
    print(f"{out.relative_to(REPO)}: {len(schema['resources'])} resource types, {out.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
