"""Reading IAM and bucket policy documents: statements, wildcards, public principals, TLS denials."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# Condition keys that narrow an "Allow *" to known callers: such a statement is not public.
_NARROWING_KEYS = {
    "aws:sourceip",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourcearn",
    "aws:sourceaccount",
    "aws:sourceowner",
    "aws:principalorgid",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:userid",
    "aws:username",
}


def statements(document: dict[str, Any] | None) -> Iterator[dict[str, Any]]:
    if not document:
        return
    found = document.get("Statement", [])
    yield from [found] if isinstance(found, dict) else found


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def is_everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return "*" in as_list(principal.get("AWS"))
    return False


def condition_keys(statement: dict[str, Any]) -> set[str]:
    return {key.lower() for block in (statement.get("Condition") or {}).values() for key in block}


def public_allows(document: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Allow statements open to everyone that no narrowing condition restricts."""
    return [
        s
        for s in statements(document)
        if s.get("Effect") == "Allow" and is_everyone(s.get("Principal")) and not (condition_keys(s) & _NARROWING_KEYS)
    ]


def denies_insecure_transport(document: dict[str, Any] | None) -> bool:
    """A Deny for everyone on all S3 actions when aws:SecureTransport is false."""
    for s in statements(document):
        if s.get("Effect") != "Deny" or not is_everyone(s.get("Principal")):
            continue
        if not any(a in ("*", "s3:*") for a in as_list(s.get("Action"))):
            continue
        for operator, block in (s.get("Condition") or {}).items():
            if operator.startswith("Bool"):
                value = {k.lower(): v for k, v in block.items()}.get("aws:securetransport")
                if str(value).lower() == "false" or value == ["false"]:
                    return True
    return False


def minimum_tls(document: dict[str, Any] | None) -> float | None:
    """The TLS version below which the policy denies every S3 call, if it does."""
    for s in statements(document):
        if s.get("Effect") != "Deny" or not is_everyone(s.get("Principal")):
            continue
        block = (s.get("Condition") or {}).get("NumericLessThan", {})
        value = {k.lower(): v for k, v in block.items()}.get("s3:tlsversion")
        if value is not None:
            try:
                return float(as_list(value)[0])
            except (TypeError, ValueError):
                return None
    return None


def allow_statements(document: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [s for s in statements(document) if s.get("Effect") == "Allow"]


def wildcard_actions(document: dict[str, Any] | None) -> list[str]:
    """Allowed actions that grant a whole service or everything: "*", "s3:*", "s3:Put*"..."""
    found = []
    for s in allow_statements(document):
        if "NotAction" in s:
            found.append("NotAction: " + ", ".join(map(str, as_list(s["NotAction"]))))
        for action in map(str, as_list(s.get("Action"))):
            if "*" in action or "?" in action:
                found.append(action)
    return found


def is_admin(document: dict[str, Any] | None) -> bool:
    return any(
        "*" in as_list(s.get("Action")) and "*" in as_list(s.get("Resource")) for s in allow_statements(document)
    )


# Actions that AWS only authorizes on "*" (no resource-level permission): "*" is their only form.
ACCOUNT_LEVEL_ACTIONS = {
    "s3:listallmybuckets",
    "s3:getaccountpublicaccessblock",
    "dynamodb:listtables",
    "dynamodb:describelimits",
    "dynamodb:describeendpoints",
    "sts:getcalleridentity",
    "iam:getaccountsummary",
    "cloudwatch:getmetricdata",
    "cloudwatch:listmetrics",
    "cloudwatch:getmetricstatistics",
    "application-autoscaling:describescalabletargets",
    "kms:listaliases",
    "kms:listkeys",
}


def wildcard_resources(document: dict[str, Any] | None) -> list[str]:
    """Actions granted on Resource "*" that could have been scoped to a resource."""
    found = []
    for s in allow_statements(document):
        if "*" not in as_list(s.get("Resource")) and "NotResource" not in s:
            continue
        found += [str(a) for a in as_list(s.get("Action")) if str(a).lower() not in ACCOUNT_LEVEL_ACTIONS]
    return found
