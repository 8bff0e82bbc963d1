"""Reading IAM and bucket policy documents: statements, wildcards, public principals, TLS denials."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from dataclasses import dataclass
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


# --- Trust policies (who may assume a role) ------------------------------------------------------

# The calls that hand out a role's credentials, by the kind of principal that makes them.
_ASSUME_BY = {
    "AWS": ("sts:assumerole",),
    "Federated": ("sts:assumerolewithwebidentity", "sts:assumerolewithsaml"),
    "*": ("sts:assumerole", "sts:assumerolewithwebidentity", "sts:assumerolewithsaml"),
}
# Keys that tie a trust to known callers (an organisation, an account, a principal, a source).
_CALLER_KEYS = {
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceowner",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
}
# What makes another account's trust safe: a third party's external id (the confused deputy), the
# caller proven to be in one's own organisation, or MFA for people.
_CROSS_ACCOUNT_KEYS = {"sts:externalid", "aws:principalorgid", "aws:principalorgpaths", "aws:multifactorauthpresent"}
_ACCOUNT_IN_ARN = re.compile(r"^arn:aws[a-z-]*:(?:iam|sts)::([^:]*):")
_ACCOUNT_ID = re.compile(r"^\d{12}$")


def _matches(pattern: str, action: str) -> bool:
    return fnmatch.fnmatchcase(action, pattern.lower())


def _covers(statement: dict[str, Any], action: str) -> bool:
    """Whether the statement's Action (or NotAction) includes `action` (lower case)."""
    if "NotAction" in statement:
        return not any(_matches(str(p), action) for p in as_list(statement["NotAction"]))
    return any(_matches(str(p), action) for p in as_list(statement.get("Action")))


def _restricting(statement: dict[str, Any], keys: set[str]) -> set[str]:
    """The keys of `keys` the statement's condition really narrows on: a positive operator (not
    ...IfExists, which lets a request without the key through, nor a negation) and a value that is
    not just "*"."""
    found = set()
    for operator, block in (statement.get("Condition") or {}).items():
        op = str(operator).lower()
        # ...IfExists and ForAllValues: hold when the request lacks the key; a negation or Null narrows nothing
        loose = op.endswith("ifexists") or op.startswith("forallvalues:") or "not" in op or op == "null"
        if loose or not isinstance(block, dict):
            continue
        for key, value in block.items():
            values = [str(v).lower() for v in as_list(value)]
            if key.lower() == "aws:multifactorauthpresent":
                if op.startswith("bool") and values and all(v == "true" for v in values):
                    found.add(key.lower())
            elif key.lower() in keys and values and not all(v.strip("*?") == "" for v in values):
                found.add(key.lower())
    return found


def _deny_guards(document: dict[str, Any] | None, action: str) -> set[str]:
    """What the policy's Deny statements guarantee about every caller of `action`: "all" when they
    deny it outright, else the keys a caller must match (a Deny ... unless the key matches, with that
    one key as its whole condition: more keys would narrow the Deny, not the Allow)."""
    guards: set[str] = set()
    for s in statements(document):
        if s.get("Effect") != "Deny" or not _covers(s, action):
            continue
        if "NotPrincipal" in s:
            guards.add("principal")  # denies everyone but the principals it names
            continue
        if not is_everyone(s.get("Principal")):
            continue
        condition = s.get("Condition") or {}
        if not condition:
            guards.add("all")
            continue
        pairs = [
            (str(op).lower(), key.lower(), value) for op, block in condition.items() for key, value in block.items()
        ]
        if len(pairs) != 1:
            continue
        op, key, value = pairs[0]
        if key == "aws:multifactorauthpresent":
            # Only BoolIfExists denies a caller without MFA: long-term keys carry no MultiFactorAuthPresent.
            if op == "boolifexists" and [str(v).lower() for v in as_list(value)] == ["false"]:
                guards.add(key)
        elif "not" in op and op != "null":  # Deny unless the key matches (StringNotEquals, ArnNotLike...)
            guards.add(key)
    return guards


def _principals(statement: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, value) for each principal a statement names: ("*", "*") for Principal "*"."""
    principal = statement.get("Principal")
    if principal == "*":
        return [("*", "*")]
    if not isinstance(principal, dict):
        return []
    return [(str(kind), str(value)) for kind, values in principal.items() for value in as_list(values)]


def _account_of(value: str) -> str | None:
    """The account an AWS principal names ("*" for a wildcard account); None for a unique id
    (AROA..., left behind when the principal it named was deleted: nobody can be it)."""
    if value == "*":
        return "*"
    if _ACCOUNT_ID.match(value):
        return value
    match = _ACCOUNT_IN_ARN.match(value)
    if match:
        account = match.group(1)
        return account if _ACCOUNT_ID.match(account) else "*"
    return None


def _web_identity_host(value: str) -> str | None:
    """The identity provider a Federated principal names: an OIDC provider ARN's host, or a bare host
    (accounts.google.com, cognito-identity.amazonaws.com); None for a SAML provider."""
    marker = ":oidc-provider/"
    if marker in value:
        return value.split(marker, 1)[1].lower()
    return None if value.startswith("arn:") else value.lower()


def _web_identity_scoped(statement: dict[str, Any], host: str, value: str) -> bool:
    """A web identity trust names who inside the provider may assume. An OIDC provider of the account
    (GitHub, EKS...) needs its `sub`; Cognito and the public providers (Google, Amazon, Facebook)
    their `aud` (the identity pool or the application) or `sub`. Without it any identity of the
    provider may assume the role: every GitHub repository, every Cognito identity pool."""
    wanted = {f"{host}:sub"}
    if host.startswith("cognito-identity.") or not value.startswith("arn:"):
        wanted.add(f"{host}:aud")
    return bool(_restricting(statement, wanted))


@dataclass(frozen=True)
class TrustReading:
    public: list[str]  # who outside any control may assume the role, and through which statement
    cross_account: list[str]  # other accounts trusted without an external id (or organisation, or MFA)
    services: list[str]  # service principals trusted
    unguarded_services: list[str]  # ...of which without aws:SourceAccount/aws:SourceArn (confused deputy)


def read_trust(document: dict[str, Any] | None, own_account: str) -> TrustReading:
    """Who a role's trust policy lets assume it, sorted into what is public, what crosses accounts
    without a guard, and which services it trusts."""
    public: list[str] = []
    cross: list[str] = []
    services: list[str] = []
    unguarded: list[str] = []
    for number, s in enumerate(statements(document)):
        if s.get("Effect") != "Allow":
            continue
        where = f"statement {s.get('Sid') or number}"
        for kind, value in _principals(s):
            # Service principals are judged below; a CanonicalUser cannot assume a role.
            actions = [a for a in _ASSUME_BY.get(kind, ()) if _covers(s, a)]
            if not actions:
                continue
            guards = set().union(*(_deny_guards(document, a) for a in actions))
            if "all" in guards:
                continue
            if kind == "Federated":
                host = _web_identity_host(value)
                if value == "*":
                    public.append(f"{where}: any federated identity")
                elif host and not _web_identity_scoped(s, host, value):
                    public.append(f"{where}: any identity of {host} (no condition on {host}:sub or :aud)")
                continue
            account = "*" if kind == "*" else _account_of(value)
            if account is None or account == own_account:
                continue
            if account == "*":
                if not (_restricting(s, _CALLER_KEYS) or guards & (_CALLER_KEYS | {"principal"})):
                    who = 'Principal "*"' if kind == "*" else f'{{"AWS": "{value}"}}'
                    public.append(f"{where}: {who} with no condition on the caller's organisation or account")
            elif not (_restricting(s, _CROSS_ACCOUNT_KEYS) or guards & _CROSS_ACCOUNT_KEYS):
                cross.append(f"{where}: account {account} ({value}) without an sts:ExternalId condition")
        for kind, value in _principals(s):
            if kind == "Service" and _covers(s, "sts:assumerole"):
                services.append(value)
                if not _restricting(s, {"aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid"}):
                    unguarded.append(value)
    return TrustReading(public, cross, sorted(set(services)), sorted(set(unguarded)))
