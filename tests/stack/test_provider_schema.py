"""The modules against the real AWS provider schema (terraform/provider-schema/, see scripts/provider_schema.py).

`terraform validate` needs the provider, which cannot be installed here, and tfparse evaluates
whatever it is given: a misspelt argument or a block one level off would go unnoticed until a
real plan. So every `resource` block under terraform/modules and terraform/stack is read as
written (python-hcl2: static blocks and `dynamic "x" { content { ... } }` alike) and walked
against the provider 6.66.0 schema: each argument must be a settable attribute at that level,
each block a block at that level, required arguments present, no deprecated argument used.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2  # python-hcl2, a dev dependency

REPO = Path(__file__).resolve().parents[2]
TERRAFORM = REPO / "terraform"
SCHEMA_DIR = TERRAFORM / "provider-schema"
PROVIDER_VERSION = "6.66.0"
SCHEMA_FILE = SCHEMA_DIR / f"aws-{PROVIDER_VERSION}.json"
DEPRECATED_FILE = SCHEMA_DIR / "deprecated.json"
SOURCES = [TERRAFORM / "modules", TERRAFORM / "stack"]

# Meta-arguments Terraform itself handles, allowed at a resource's top level only.
META_ARGUMENTS = {"count", "for_each", "provider", "depends_on"}
META_BLOCKS = {"lifecycle", "provisioner", "connection"}
DYNAMIC_ARGUMENTS = {"for_each", "iterator", "labels", "content"}
BLOCK = "__is_block__"

# Deprecated arguments the modules still use on purpose, each with the reason. Empty: keep it so.
KNOWN_DEPRECATED: dict[str, str] = {}


def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text())


def load_deprecated() -> dict[str, dict[str, str]]:
    deprecated: dict[str, dict[str, str]] = json.loads(DEPRECATED_FILE.read_text())["deprecated"]
    return deprecated


def parse(path: Path) -> dict[str, Any]:
    options = hcl2.SerializationOptions(strip_string_quotes=True, with_comments=False, explicit_blocks=True)
    parsed: dict[str, Any] = hcl2.loads(path.read_text(), serialization_options=options)
    return parsed


def is_block(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) and v.get(BLOCK) for v in value)


@dataclass
class Checker:
    resources: dict[str, Any]
    deprecated: dict[str, dict[str, str]]
    problems: list[str] = field(default_factory=list)

    def check_file(self, path: Path, shown_as: str) -> None:
        for entry in parse(path).get("resource", []):
            for rtype, named in entry.items():
                if rtype == BLOCK:
                    continue
                for name, body in named.items():
                    if name == BLOCK:
                        continue
                    where = f"{shown_as}: {rtype}.{name}"
                    schema = self.resources.get(rtype)
                    if schema is None:
                        self.problems.append(f"{where}: resource type {rtype} is not in {SCHEMA_FILE.name}")
                        continue
                    self.check_body(where, rtype, [], body, schema, top=True)

    def check_body(self, where: str, rtype: str, path: list[str], body: dict[str, Any], schema: Any, top: bool) -> None:
        attributes, blocks = schema["attributes"], schema["blocks"]
        seen: set[str] = set()
        static: dict[str, int] = {}
        for key, value in body.items():
            if key == BLOCK or (top and key in META_ARGUMENTS) or (top and key in META_BLOCKS and is_block(value)):
                continue
            if key == "dynamic" and isinstance(value, list) and all(isinstance(d, dict) for d in value):
                for dynamic in value:
                    for label, spec in dynamic.items():
                        if label == BLOCK:
                            continue
                        for arg in spec:
                            if arg not in DYNAMIC_ARGUMENTS and arg != BLOCK:
                                self.problems.append(f"{where}: {'.'.join([*path, label])}: dynamic has no {arg!r}")
                        contents = spec.get("content", [])
                        seen.add(label)
                        self.check_block(where, rtype, path, label, contents, blocks, attributes)
            elif is_block(value):
                seen.add(key)
                static[key] = len(value)
                self.check_block(where, rtype, path, key, value, blocks, attributes)
            else:
                self.check_attribute(where, rtype, path, key, attributes, blocks)
        for name, spec in attributes.items():
            if spec["required"] and name not in body:
                self.problems.append(f"{where}: {'.'.join([*path, name])}: required argument missing")
        for name, spec in blocks.items():
            if spec.get("required") and name not in seen:
                self.problems.append(f"{where}: {'.'.join([*path, name])}: required block missing")
        for name, count in static.items():
            if name in blocks and blocks[name]["nesting"] == "single" and count > 1:
                self.problems.append(f"{where}: {'.'.join([*path, name])}: at most one block allowed, found {count}")

    def check_attribute(
        self, where: str, rtype: str, path: list[str], key: str, attributes: dict[str, Any], blocks: dict[str, Any]
    ) -> None:
        shown = ".".join([*path, key])
        if key not in attributes:
            kind = "a block here, written as an argument" if key in blocks else "not an argument here"
            self.problems.append(f"{where}: {shown}: {kind}{self.elsewhere(rtype, key)}")
        elif attributes[key]["computed_only"]:
            self.problems.append(f"{where}: {shown}: computed-only attribute, cannot be set")
        else:
            self.check_deprecated(where, rtype, shown)

    def check_block(
        self,
        where: str,
        rtype: str,
        path: list[str],
        key: str,
        instances: list[dict[str, Any]],
        blocks: dict[str, Any],
        attributes: dict[str, Any],
    ) -> None:
        shown = ".".join([*path, key])
        if key not in blocks:
            kind = "an argument here, written as a block" if key in attributes else "not a block here"
            self.problems.append(f"{where}: {shown}: {kind}{self.elsewhere(rtype, key)}")
            return
        self.check_deprecated(where, rtype, shown)
        for instance in instances:
            self.check_body(where, rtype, [*path, key], instance, blocks[key]["schema"], top=False)

    def check_deprecated(self, where: str, rtype: str, shown: str) -> None:
        dotted = f"{rtype}.{shown}"
        if dotted in self.deprecated and dotted not in KNOWN_DEPRECATED:
            self.problems.append(f"{where}: {shown}: deprecated: {self.deprecated[dotted]['replacement']}")

    def elsewhere(self, rtype: str, key: str) -> str:
        """Where the name does exist in this resource's schema: the hint for a block one level off."""
        found: list[str] = []

        def walk(schema: dict[str, Any], path: list[str]) -> None:
            if key in schema["attributes"] or key in schema["blocks"]:
                found.append(".".join(path) or "the resource top level")
            for name, block in schema["blocks"].items():
                walk(block["schema"], [*path, name])

        walk(self.resources[rtype], [])
        return f" (the schema has it under {', '.join(found)})" if found else ""


def check(roots: list[Path], relative_to: Path) -> list[str]:
    checker = Checker(load_schema()["resources"], load_deprecated())
    for root in roots:
        for path in sorted(root.rglob("*.tf")):
            if ".terraform" not in path.parts:
                checker.check_file(path, str(path.relative_to(relative_to)))
    return checker.problems


def stack_resource_types() -> set[str]:
    return {m for p in TERRAFORM.rglob("*.tf") for m in re.findall(r'^resource "([a-z0-9_]+)"', p.read_text(), re.M)}


def test_modules_use_only_the_providers_schema() -> None:
    problems = check(SOURCES, REPO)
    assert not problems, "resources that do not match hashicorp/aws 6.66.0:\n" + "\n".join(problems)


def test_every_resource_block_is_seen() -> None:
    """The parser found every resource block a plain text scan finds (nothing skipped silently)."""
    by_text = sum(len(re.findall(r'^resource "', p.read_text(), re.M)) for root in SOURCES for p in root.rglob("*.tf"))
    by_hcl = sum(
        len([n for n in named if n != BLOCK])
        for root in SOURCES
        for p in root.rglob("*.tf")
        for entry in parse(p).get("resource", [])
        for rtype, named in entry.items()
        if rtype != BLOCK
    )
    assert by_hcl == by_text > 20


def test_committed_schema_is_6_66_0_and_covers_the_stack() -> None:
    schema = load_schema()
    provenance = schema["provenance"]
    assert provenance["provider"] == "registry.terraform.io/hashicorp/aws"
    assert provenance["version"] == PROVIDER_VERSION
    assert provenance["source"] == "@cdktn/provider-aws@25.7.0"
    used = stack_resource_types()
    assert len(used) == 23
    assert used <= set(schema["resources"]), sorted(used - set(schema["resources"]))


def test_deprecated_entries_name_real_arguments() -> None:
    resources = load_schema()["resources"]
    for dotted, entry in load_deprecated().items():
        rtype, *path = dotted.split(".")
        schema = resources[rtype]
        for block in path[:-1]:
            schema = schema["blocks"][block]["schema"]
        assert path[-1] in schema["attributes"] or path[-1] in schema["blocks"], dotted
        assert entry["replacement"].endswith("."), dotted
    assert set(KNOWN_DEPRECATED) <= set(load_deprecated())


def _cut_block(text: str, header: str) -> tuple[str, str]:
    """Remove the block opening with `header` (brace-matched) and return (rest, block)."""
    start = text.index(header)
    line_start = text.rindex("\n", 0, start) + 1
    depth, i = 0, text.index("{", start)
    while True:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            break
        i += 1
    end = text.index("\n", i) + 1
    return text[:line_start] + text[end:], text[line_start:end]


def test_checker_reports_a_renamed_argument_and_a_block_one_level_off(tmp_path: Path) -> None:
    module = tmp_path / "s3-bucket"
    shutil.copytree(TERRAFORM / "modules" / "s3-bucket", module)
    main = module / "main.tf"
    text = main.read_text()
    assert check([module], tmp_path) == []

    # An argument renamed: `target_prefix` of aws_s3_bucket_logging.
    assert text.count("target_prefix = var.access_logging.target_prefix") == 1
    text = text.replace(
        "target_prefix = var.access_logging.target_prefix", "target_prefx = var.access_logging.target_prefix"
    )
    # A block one level off: noncurrent_version_expiration out of `rule`, to the resource's top level.
    lifecycle = text.index('resource "aws_s3_bucket_lifecycle_configuration" "this"')
    rest, block = _cut_block(text[lifecycle:], 'dynamic "noncurrent_version_expiration"')
    rest = rest.replace("  depends_on = [aws_s3_bucket_server_side_encryption_configuration.this]", block, 1)
    main.write_text(text[:lifecycle] + rest)

    problems = check([module], tmp_path)
    assert len(problems) == 3, problems
    moved, renamed_missing, renamed = sorted(problems)
    assert moved == (
        "s3-bucket/main.tf: aws_s3_bucket_lifecycle_configuration.this: noncurrent_version_expiration:"
        " not a block here (the schema has it under rule)"
    )
    # target_prefix is required, so the rename shows twice: the unknown name and the missing argument.
    assert renamed == "s3-bucket/main.tf: aws_s3_bucket_logging.this: target_prefx: not an argument here"
    assert renamed_missing == "s3-bucket/main.tf: aws_s3_bucket_logging.this: target_prefix: required argument missing"


def test_checker_reports_deprecated_computed_and_missing(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        """
resource "aws_dynamodb_table" "t" {
  name = "t"
  arn  = "x"
  global_secondary_index {
    name            = "g"
    hash_key        = "a"
    projection_type = "ALL"
  }
  global_secondary_index {
    name            = "h"
    projection_type = "ALL"
    key_schema {
      attribute_name = "a"
    }
  }
}

resource "aws_iam_role" "r" {
  name = "r"
}
"""
    )
    problems = check([tmp_path], tmp_path)
    assert problems == [
        "main.tf: aws_dynamodb_table.t: arn: computed-only attribute, cannot be set",
        "main.tf: aws_dynamodb_table.t: global_secondary_index.hash_key: deprecated: "
        + load_deprecated()["aws_dynamodb_table.global_secondary_index.hash_key"]["replacement"],
        "main.tf: aws_dynamodb_table.t: global_secondary_index.key_schema.key_type: required argument missing",
        "main.tf: aws_iam_role.r: assume_role_policy: required argument missing",
    ], problems
