"""An IAM policy document back into cargohold grants, when the grant vocabulary can say it exactly.

The candidate grants are rendered again with `cargohold_core.config.model.policy_document` (the same
statements the iam-principal module writes) and compared permission by permission with the live
document, so a grant is only ever proposed when it allows exactly what the policy allows.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from cargohold_core.config.model import Bucket, Table, policy_document
from cargohold_core.config.schema import (
    BucketSpec,
    Encryption,
    Grant,
    KeyAttribute,
    PrincipalSpec,
    TableEncryption,
    TableSpec,
)
from cargohold_core.paths import grant_vocabulary
from toolkit.audit import policy

_TABLE_ARN = re.compile(r"^arn:aws[a-z-]*:dynamodb:([a-z0-9-]+):(\d{12}):table/([A-Za-z0-9_.-]+)(/index/\*)?$")
_S3_ARN = re.compile(r"^arn:aws[a-z-]*:s3:::([a-z0-9.-]+)(/.*)?$")

Triple = tuple[str, str, str]  # (action in lower case, resource, condition as canonical JSON)


@dataclass
class GrantParse:
    grants: list[dict[str, Any]] = field(default_factory=list)
    exact: bool = False  # the grants allow exactly what the document allows
    same_layout: bool = False  # ...and render the very same statements (no policy change on plan)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Targets:
    """Discovered buckets and tables by AWS name -> config key, and where tables live."""

    buckets: dict[str, str]
    tables: dict[str, str]
    region: str
    account: str
    # By config key: how each is encrypted, for the KMS statements the grants on it bring
    bucket_encryption: dict[str, Encryption] = field(default_factory=dict)
    table_encryption: dict[str, TableEncryption] = field(default_factory=dict)


def _vocabulary_index() -> dict[str, tuple[str, str, str]]:
    out = {}
    for kind, words in grant_vocabulary().items():
        for word, entry in words.items():
            for action in entry["actions"]:
                out[action.lower()] = (kind, word, entry["scope"])
    return out


def _condition(value: Any) -> str:
    if not value:
        return ""
    normal = {op: {k: sorted(map(str, policy.as_list(v))) for k, v in block.items()} for op, block in value.items()}
    return json.dumps(normal, sort_keys=True)


def triples(document: dict[str, Any] | None) -> tuple[set[Triple], list[str]]:
    """Every (action, resource, condition) an Allow-only document grants, or why it is not that simple."""
    found: set[Triple] = set()
    problems: list[str] = []
    for statement in policy.statements(document):
        sid = f"statement {statement.get('Sid')!r}" if statement.get("Sid") else "a statement"
        if statement.get("Effect") != "Allow":
            problems.append(f"{sid} denies ({statement.get('Effect')}); grants only allow")
            continue
        for key in ("NotAction", "NotResource", "Principal", "NotPrincipal"):
            if key in statement:
                problems.append(f"{sid} uses {key}")
        actions = [str(a) for a in policy.as_list(statement.get("Action"))]
        resources = [str(r) for r in policy.as_list(statement.get("Resource"))]
        for action in actions:
            if "*" in action or "?" in action:
                problems.append(f"{sid} allows the wildcard action {action}")
        if "*" in resources:
            problems.append(f'{sid} applies to every resource (Resource "*")')
        condition = _condition(statement.get("Condition"))
        found.update((a.lower(), r, condition) for a in actions for r in resources)
    return found, problems


def parse_grants(document: dict[str, Any] | None, targets: Targets) -> GrantParse:
    found, problems = triples(document)
    if problems:
        return GrantParse(problems=problems)
    index = _vocabulary_index()
    grants: dict[tuple[str, str, str | None], list[str]] = {}
    ordered = _ordered_triples(document)
    for action, resource, condition in ordered:
        if action.startswith("kms:"):
            continue  # brought by a grant on a bucket or table with a customer key: checked by rendering them
        entry = index.get(action)
        if entry is None:
            problems.append(f"{action} is not in cargohold's grant vocabulary")
            continue
        kind, word, scope = entry
        target = _target(kind, scope, resource, condition, targets, problems)
        if target is None:
            continue
        grants.setdefault((kind, *target), [])
        if word not in grants[(kind, *target)]:
            grants[(kind, *target)].append(word)
    if problems:
        return GrantParse(problems=sorted(set(problems)))
    _merge_locate(grants)
    out = [_grant(kind, key, prefix, words) for (kind, key, prefix), words in grants.items()]
    rendered = render(out, targets)
    got, _ = triples(rendered)
    result = GrantParse(grants=out, exact=got == found)
    if not result.exact:
        extra = sorted(f"{a} on {r}" for a, r, _ in got - found)
        missing = sorted(f"{a} on {r}" for a, r, _ in found - got)
        result.problems.append(
            "the nearest grants differ from the policy"
            + (f"; they would add {', '.join(extra)}" if extra else "")
            + (f"; they would drop {', '.join(missing)}" if missing else "")
        )
    result.same_layout = result.exact and canonical(rendered) == canonical(document)
    return result


def _ordered_triples(document: dict[str, Any] | None) -> list[Triple]:
    out: list[Triple] = []
    for statement in policy.statements(document):
        condition = _condition(statement.get("Condition"))
        for action in policy.as_list(statement.get("Action")):
            for resource in policy.as_list(statement.get("Resource")):
                triple = (str(action).lower(), str(resource), condition)
                if triple not in out:
                    out.append(triple)
    return out


def _target(
    kind: str, scope: str, resource: str, condition: str, targets: Targets, problems: list[str]
) -> tuple[str, str | None] | None:
    if kind == "table":
        match = _TABLE_ARN.match(resource)
        if not match or condition:
            problems.append(
                f"{resource} is not a table ARN cargohold can grant" + (" (has a condition)" if condition else "")
            )
            return None
        region, account, name, _ = match.groups()
        if name not in targets.tables or (region, account) != (targets.region, targets.account):
            problems.append(f"table {name} ({region}, {account}) is not among the discovered tables")
            return None
        return targets.tables[name], None
    match = _S3_ARN.match(resource)
    if not match:
        problems.append(f"{resource} is not an S3 ARN")
        return None
    name, rest = match.groups()
    if name not in targets.buckets:
        problems.append(f"bucket {name} is not among the discovered buckets")
        return None
    key = targets.buckets[name]
    if scope == "object":
        if not rest or not rest.endswith("*") or "*" in rest[1:-1] or condition:
            problems.append(f"{resource} is not a bucket prefix cargohold can grant")
            return None
        return key, rest[1:-1] or None
    if rest:
        problems.append(f"{resource}: bucket-level actions apply to the bucket ARN")
        return None
    if not condition:
        return key, None
    prefixes = json.loads(condition).get("StringLike", {}).get("s3:prefix", [])
    if set(json.loads(condition)) != {"StringLike"} or len(prefixes) != 1 or not prefixes[0].endswith("*"):
        problems.append(f"the condition on {resource} is not a single s3:prefix")
        return None
    return key, prefixes[0][:-1] or None


def _merge_locate(grants: dict[tuple[str, str, str | None], list[str]]) -> None:
    """cargohold renders `locate` of a prefixed grant that lists as its own unconditioned statement."""
    for (kind, key, prefix), words in list(grants.items()):
        if kind != "bucket" or prefix is not None or words != ["locate"]:
            continue
        home = next((k for k, w in grants.items() if k[:2] == (kind, key) and k[2] is not None and "list" in w), None)
        if home is not None:
            grants[home].append("locate")
            del grants[(kind, key, prefix)]


def _grant(kind: str, key: str, prefix: str | None, words: list[str]) -> dict[str, Any]:
    order = list(grant_vocabulary()[kind])
    out: dict[str, Any] = {kind: key}
    if prefix is not None:
        out["prefix"] = prefix
    out["actions"] = sorted(words, key=order.index)
    return out


def render(grants: list[dict[str, Any]], targets: Targets) -> dict[str, Any]:
    """The policy cargohold would write for these grants."""
    spec = PrincipalSpec(grants=[Grant.model_validate(g) for g in grants])
    buckets = {
        key: Bucket(
            key=key,
            name=name,
            spec=BucketSpec(encryption=targets.bucket_encryption.get(key, Encryption())),
            region=targets.region,
        )
        for name, key in targets.buckets.items()
    }
    tables = {
        key: Table(
            key=key,
            name=name,
            arn=f"arn:aws:dynamodb:{targets.region}:{targets.account}:table/{name}",
            spec=TableSpec(
                hash_key=KeyAttribute(name="id"), encryption=targets.table_encryption.get(key, TableEncryption())
            ),
            region=targets.region,
        )
        for name, key in targets.tables.items()
    }
    return policy_document(spec, buckets=buckets, tables=tables, region=targets.region)


def canonical(document: dict[str, Any] | None) -> list[dict[str, Any]]:
    out = []
    for statement in policy.statements(document):
        c = dict(statement)
        for key in ("Action", "Resource"):
            if key in c:
                c[key] = sorted(map(str, policy.as_list(c[key])))
        if "Condition" in c:
            c["Condition"] = json.loads(_condition(c["Condition"]) or "{}")
        out.append(c)
    return out
