"""Pure functions over `terraform show -json <planfile>`: what a plan does, and what drifted.

No I/O here: the workflow runs Terraform and hands the parsed JSON in.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Action = Literal["create", "update", "replace", "delete", "read", "no-op", "forget"]
ACTIONS: tuple[Action, ...] = ("create", "update", "replace", "delete", "read", "no-op", "forget")

DEFAULT_PROTECTED_TYPES: frozenset[str] = frozenset(
    {
        "aws_s3_bucket",
        "aws_dynamodb_table",
        "aws_iam_user",
        "aws_iam_role",
        "aws_iam_group",
        "aws_iam_policy",
    }
)

_SYMBOLS: Mapping[Action, str] = {
    "create": "+",
    "update": "~",
    "replace": "-/+",
    "delete": "-",
    "read": "<=",
    "no-op": " ",
    "forget": ".",
}


@dataclass(frozen=True)
class ResourceChange:
    address: str
    type: str
    action: Action
    replace_paths: tuple[str, ...] = ()  # attributes that force the replacement, e.g. "hash_key"
    reason: str | None = None  # Terraform's action_reason, e.g. "replace_because_tainted"
    previous_address: str | None = None  # set when a `moved` block renamed the resource

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "type": self.type,
            "action": self.action,
            "replace_paths": list(self.replace_paths),
            "reason": self.reason,
            "previous_address": self.previous_address,
        }


@dataclass(frozen=True)
class DriftedAttribute:
    address: str
    attribute: str  # dotted path, e.g. "tags.owner"; "*" when the whole resource is gone
    before: Any  # the value in the state
    after: Any  # the value found in the real infrastructure

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "attribute": self.attribute,
            "before": self.before,
            "after": self.after,
        }


@dataclass(frozen=True)
class PlanSummary:
    changes: tuple[ResourceChange, ...]
    output_changes: tuple[str, ...] = ()  # root outputs whose value changes
    drift: tuple[DriftedAttribute, ...] = ()
    counts: Mapping[Action, int] = field(default_factory=dict)

    @property
    def has_resource_changes(self) -> bool:
        return any(change.action not in ("no-op", "read") for change in self.changes)

    def of(self, action: Action) -> tuple[ResourceChange, ...]:
        return tuple(change for change in self.changes if change.action == action)

    def destructive(self, protected_types: Iterable[str] = DEFAULT_PROTECTED_TYPES) -> tuple[ResourceChange, ...]:
        """Changes that delete or replace a resource whose type is protected."""
        protected = frozenset(protected_types)
        return tuple(
            change for change in self.changes if change.action in ("delete", "replace") and change.type in protected
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "changes": [change.to_json() for change in self.changes if change.action != "no-op"],
            "counts": {action: self.counts.get(action, 0) for action in ACTIONS},
            "output_changes": list(self.output_changes),
            "drift": [item.to_json() for item in self.drift],
        }


def destructive(
    summary: PlanSummary, protected_types: Iterable[str] = DEFAULT_PROTECTED_TYPES
) -> tuple[ResourceChange, ...]:
    """Changes that delete or replace a resource whose type is protected."""
    return summary.destructive(protected_types)


def action_of(actions: Sequence[str]) -> Action:
    """Terraform's action list -> one action ("delete"+"create" in either order is a replace)."""
    kinds = list(actions)
    if sorted(kinds) == ["create", "delete"]:
        return "replace"
    if len(kinds) == 1 and kinds[0] in ACTIONS:
        action: Action = kinds[0]  # checked against ACTIONS above
        return action
    raise ValueError(f"unknown Terraform action list: {kinds}")


def dotted(path: Sequence[object]) -> str:
    """["attribute", 0, "name"] -> "attribute[0].name"."""
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            out += f".{step}" if out else str(step)
    return out


def summarize(show: Mapping[str, Any]) -> PlanSummary:
    """A PlanSummary from the parsed output of `terraform show -json <planfile>`."""
    changes = []
    for item in show.get("resource_changes") or ():
        change = item.get("change") or {}
        changes.append(
            ResourceChange(
                address=str(item["address"]),
                type=str(item.get("type", "")),
                action=action_of(change.get("actions") or ["no-op"]),
                replace_paths=tuple(dotted(path) for path in change.get("replace_paths") or ()),
                reason=item.get("action_reason"),
                previous_address=item.get("previous_address"),
            )
        )
    outputs = tuple(
        sorted(
            name
            for name, change in (show.get("output_changes") or {}).items()
            if (change or {}).get("actions") not in (["no-op"], None)
        )
    )
    counts = Counter(change.action for change in changes)
    return PlanSummary(
        changes=tuple(changes),
        output_changes=outputs,
        drift=tuple(drift_of(show)),
        counts={action: counts.get(action, 0) for action in ACTIONS},
    )


def drift_of(show: Mapping[str, Any]) -> list[DriftedAttribute]:
    """Attributes changed outside Terraform, from the `resource_drift` list of a (refresh-only) plan."""
    drifted: list[DriftedAttribute] = []
    for item in show.get("resource_drift") or ():
        address = str(item["address"])
        change = item.get("change") or {}
        before, after = change.get("before"), change.get("after")
        if after is None:
            drifted.append(DriftedAttribute(address=address, attribute="*", before="present", after="absent"))
            continue
        secret = _sensitive_paths(change.get("before_sensitive")) | _sensitive_paths(change.get("after_sensitive"))
        old, new = dict(_flatten(before)), dict(_flatten(after))
        for path in sorted(set(old) | set(new)):
            if old.get(path) == new.get(path):
                continue
            hidden = any(s in ("", path) or path.startswith((s + ".", s + "[")) for s in secret)
            drifted.append(
                DriftedAttribute(
                    address=address,
                    attribute=path,
                    before="(sensitive)" if hidden else old.get(path),
                    after="(sensitive)" if hidden else new.get(path),
                )
            )
    return drifted


def _flatten(node: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    # null and empty containers are the same "nothing" (providers flip between them): no leaf.
    if isinstance(node, Mapping):
        for key, child in node.items():
            yield from _flatten(child, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _flatten(child, f"{prefix}[{index}]")
    elif node is not None and prefix:
        yield prefix, node


def _sensitive_paths(node: Any) -> set[str]:
    if node is True:
        return {""}
    return {path for path, flag in _flatten(node) if flag is True}


def render(summary: PlanSummary) -> list[str]:
    """Readable lines, e.g. `-/+ replace  aws_dynamodb_table.this (forced by: hash_key)`."""
    lines = []
    for change in summary.changes:
        if change.action == "no-op":
            continue
        line = f"{_SYMBOLS[change.action]:>3} {change.action:<8} {change.address}"
        if change.previous_address:
            line += f" (moved from {change.previous_address})"
        if change.replace_paths:
            line += f" (forced by: {', '.join(change.replace_paths)})"
        lines.append(line)
    for item in summary.drift:
        lines.append(
            f"  ! drift    {item.address}: {item.attribute}: "
            f"{json.dumps(item.before, default=str)} -> {json.dumps(item.after, default=str)}"
        )
    counts = summary.counts
    lines.append(
        f"Plan: {counts.get('create', 0) + counts.get('replace', 0)} to add, "
        f"{counts.get('update', 0)} to change, "
        f"{counts.get('delete', 0) + counts.get('replace', 0)} to destroy."
    )
    return lines


def to_json(summary: PlanSummary) -> str:
    return json.dumps(summary.to_json(), indent=2, sort_keys=True, default=str)
