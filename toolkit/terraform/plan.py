"""Pure functions over `terraform show -json <planfile>`: what a plan does, and what drifted.

No I/O here: the workflow runs Terraform and hands the parsed JSON in.
"""

from __future__ import annotations

import json
import re
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
class AttributeChange:
    """One setting of a planned change: what a create sets, or what an update changes."""

    path: str  # dotted, e.g. "rule[0].apply_server_side_encryption_by_default[0].sse_algorithm"
    before: Any  # None on create
    after: Any
    forces_replacement: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "before": self.before,
            "after": self.after,
            "forces_replacement": self.forces_replacement,
        }

    def line(self, action: str) -> str:
        value = _shown(self.after)
        text = f"{self.path} = {value}" if action == "create" else f"{self.path}: {_shown(self.before)} -> {value}"
        return text + ("  # forces replacement" if self.forces_replacement else "")


@dataclass(frozen=True)
class ResourceChange:
    address: str
    type: str
    action: Action
    replace_paths: tuple[str, ...] = ()  # attributes that force the replacement, e.g. "hash_key"
    reason: str | None = None  # Terraform's action_reason, e.g. "replace_because_tainted"
    previous_address: str | None = None  # set when a `moved` block renamed the resource
    attributes: tuple[AttributeChange, ...] = ()  # what it sets (create) or changes (update, replace)

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "type": self.type,
            "action": self.action,
            "replace_paths": list(self.replace_paths),
            "reason": self.reason,
            "previous_address": self.previous_address,
            "attributes": [a.to_json() for a in self.attributes],
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
        action = action_of(change.get("actions") or ["no-op"])
        replace_paths = tuple(dotted(path) for path in change.get("replace_paths") or ())
        changes.append(
            ResourceChange(
                address=str(item["address"]),
                type=str(item.get("type", "")),
                action=action,
                replace_paths=replace_paths,
                reason=item.get("action_reason"),
                previous_address=item.get("previous_address"),
                attributes=attribute_changes(change, action, replace_paths),
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


# Not shown among a change's settings: computed by AWS or repeated from elsewhere (tags_all = tags plus
# the provider's default tags, region = the provider's).
_UNSHOWN = frozenset({"tags_all", "region", "timeouts", "id", "arn"})


def attribute_changes(
    change: Mapping[str, Any], action: Action, replace_paths: Sequence[str] = ()
) -> tuple[AttributeChange, ...]:
    """The settings a create makes (every known value) or an update/replace changes, leaf by leaf, the
    way `terraform plan` lists them; sensitive values hidden. Policy documents are listed by statement."""
    if action not in ("create", "update", "replace"):
        return ()
    before = change.get("before") if action != "create" else None
    after = change.get("after")
    secret = _sensitive_paths(change.get("before_sensitive")) | _sensitive_paths(change.get("after_sensitive"))
    old, new = dict(_flatten(_readable(before))), dict(_flatten(_readable(after)))
    out = []
    for path in sorted(set(old) | set(new)):
        top = re.split(r"[.\[]", path, maxsplit=1)[0]
        if top in _UNSHOWN or old.get(path) == new.get(path):
            continue
        hidden = any(s in ("", path) or path.startswith((s + ".", s + "[")) for s in secret)
        forced = any(path == r or path.startswith((r + ".", r + "[")) for r in replace_paths)
        out.append(
            AttributeChange(
                path,
                "(sensitive)" if hidden and path in old else old.get(path),
                "(sensitive)" if hidden and path in new else new.get(path),
                forced,
            )
        )
    return tuple(out)


def _readable(value: Any) -> Any:
    """JSON documents (policy, assume_role_policy) as their statements, so a change shows per statement."""
    if not isinstance(value, Mapping):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, str) and key.endswith("policy") and item.startswith("{"):
            try:
                document = json.loads(item)
            except ValueError:
                out[key] = item
                continue
            statements = document.get("Statement") if isinstance(document, dict) else None
            out[key] = {
                str(s.get("Sid") or i): json.dumps({k: v for k, v in s.items() if k != "Sid"}, sort_keys=True)
                for i, s in enumerate(statements if isinstance(statements, list) else [])
            } or item
        else:
            out[key] = item
    return out


def _shown(value: Any) -> str:
    return "null" if value is None else json.dumps(value, default=str) if not isinstance(value, str) else repr(value)


def drift_of(show: Mapping[str, Any]) -> list[DriftedAttribute]:
    """Attributes changed outside Terraform, from the `resource_drift` list of a (refresh-only) plan.

    A value the configuration does not write is not drift from it: the split S3 and IAM resources
    change each other's computed attributes (a bucket's `policy`, a policy's `attachment_count`), and
    a refresh reports those. Blocks are kept whatever the configuration says (a dynamic block is not
    among a resource's configured expressions)."""
    written = _configured_arguments(show.get("configuration") or {})
    drifted: list[DriftedAttribute] = []
    for item in show.get("resource_drift") or ():
        address = str(item["address"])
        change = item.get("change") or {}
        before, after = change.get("before"), change.get("after")
        if after is None:
            drifted.append(DriftedAttribute(address=address, attribute="*", before="present", after="absent"))
            continue
        arguments = written.get(re.sub(r"\[[^\]]*\]", "", address))
        secret = _sensitive_paths(change.get("before_sensitive")) | _sensitive_paths(change.get("after_sensitive"))
        old, new = dict(_flatten(before)), dict(_flatten(after))
        for path in sorted(set(old) | set(new)):
            if old.get(path) == new.get(path):
                continue
            top = re.split(r"[.\[]", path, maxsplit=1)[0]
            if arguments is not None and top not in arguments and not _is_block(before, after, top):
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


def _configured_arguments(configuration: Mapping[str, Any]) -> dict[str, set[str]]:
    """{resource address without instance keys: the arguments its configuration writes}."""
    out: dict[str, set[str]] = {}

    def walk(module: Mapping[str, Any], prefix: str) -> None:
        for resource in module.get("resources") or ():
            out[prefix + str(resource["address"])] = set(resource.get("expressions") or {})
        for name, call in (module.get("module_calls") or {}).items():
            walk(call.get("module") or {}, f"{prefix}module.{name}.")

    walk(configuration.get("root_module") or {}, "")
    return out


def _is_block(before: Any, after: Any, name: str) -> bool:
    def objects(value: Any) -> bool:
        return isinstance(value, list) and any(isinstance(v, Mapping) for v in value)

    return any(isinstance(v, Mapping) and objects(v.get(name)) for v in (before, after))


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
        lines += [f"        {attribute.line(change.action)}" for attribute in change.attributes]
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
