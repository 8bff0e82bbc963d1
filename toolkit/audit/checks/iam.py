"""IAM checks over `PrincipalInfo`: what its policies allow, and the state of a user's credentials."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cargohold_core.config.schema import PrincipalSpec
from toolkit.audit import policy
from toolkit.audit.fetch import CannotRead
from toolkit.audit.inventory import Policy, PrincipalInfo, parse_report_time
from toolkit.audit.rules import RuleSet, Verdict, bad, ok
from toolkit.findings import define

PRINCIPAL: RuleSet[PrincipalInfo, PrincipalSpec] = RuleSet()

KEY_MAX_AGE = timedelta(days=90)
KEY_MAX_IDLE = timedelta(days=90)
_READ_POLICIES = ["iam:GetAccountAuthorizationDetails"]
_READ_CREDENTIALS = ["iam:GenerateCredentialReport", "iam:GetCredentialReport"]
_GRANTS_FIX = (
    "principals:\n  PRINCIPAL:\n    grants:\n      - bucket: BUCKET\n        prefix: uploads/\n"
    "        actions: [read, write, list]   # explicit actions on named resources only"
)


def _customer(p: PrincipalInfo) -> list[Policy]:
    """Policies with a document to read (inline and customer managed)."""
    return [x for x in p.policies if x.document is not None]


def _names(found: list[tuple[Policy, list[str]]]) -> str:
    return "; ".join(f"{pol.name}: {', '.join(sorted(set(items)))}" for pol, items in found)


WILDCARD_ACTION = define(
    id="iam.wildcard-action",
    title='No policy allows wildcard actions ("*", or a whole service such as s3:*)',
    category="security",
    service="iam",
    severity="high",
    permissions=_READ_POLICIES,
    remediation="Replace wildcard actions with the explicit actions the application uses; cargohold grants "
    "translate read/write/list into exact S3 and DynamoDB actions.",
    config_fix=_GRANTS_FIX,
    security_hub=["IAM.21"],
    checkov=["CKV_AWS_63", "CKV_AWS_290"],
)


@PRINCIPAL(WILDCARD_ACTION)
def wildcard_action(p: PrincipalInfo, _: PrincipalSpec | None) -> Verdict:
    found = [(pol, acts) for pol in _customer(p) if (acts := policy.wildcard_actions(pol.document))]
    if found:
        return bad(f"wildcard actions allowed: {_names(found)}", details={"policies": [pol.name for pol, _ in found]})
    return ok("no wildcard actions")


WILDCARD_RESOURCE = define(
    id="iam.wildcard-resource",
    title='No policy grants resource-scoped actions on Resource "*"',
    category="security",
    service="iam",
    severity="medium",
    permissions=_READ_POLICIES,
    remediation="Name the buckets (arn:aws:s3:::NAME and arn:aws:s3:::NAME/prefix/*) and tables the principal "
    "needs instead of '*'.",
    config_fix=_GRANTS_FIX,
    security_hub=[],
    checkov=["CKV_AWS_289", "CKV_AWS_355"],
)


@PRINCIPAL(WILDCARD_RESOURCE)
def wildcard_resource(p: PrincipalInfo, _: PrincipalSpec | None) -> Verdict:
    found = [(pol, acts) for pol in _customer(p) if (acts := policy.wildcard_resources(pol.document))]
    if found:
        return bad(f"actions allowed on every resource: {_names(found)}")
    return ok("every grant names its resources")


ADMIN = define(
    id="iam.admin-policy",
    title='No administrator access (AdministratorAccess, or "*" on "*")',
    category="security",
    service="iam",
    severity="critical",
    permissions=_READ_POLICIES,
    remediation="Detach AdministratorAccess and any policy allowing Action '*' on Resource '*' from "
    "application principals; people get admin through SSO permission sets, not long-lived IAM users.",
    config_fix=_GRANTS_FIX,
    security_hub=["IAM.1"],
    checkov=["CKV_AWS_62", "CKV_AWS_1"],
)


@PRINCIPAL(ADMIN)
def admin_policy(p: PrincipalInfo, _: PrincipalSpec | None) -> Verdict:
    admin = [
        pol.name
        for pol in p.policies
        if (pol.aws_managed and pol.name in ("AdministratorAccess",)) or policy.is_admin(pol.document)
    ]
    if admin:
        return bad(f"administrator access through {', '.join(admin)}")
    return ok("no administrator access")


FULL_ACCESS = define(
    id="iam.full-access-managed-policy",
    title="No AWS managed *FullAccess policies (AmazonS3FullAccess, AmazonDynamoDBFullAccess...)",
    category="security",
    service="iam",
    severity="high",
    permissions=_READ_POLICIES,
    remediation="Detach the *FullAccess managed policy: it allows every action on every bucket or table in "
    "the account. Grant the application's actions on its own resources instead.",
    config_fix=_GRANTS_FIX,
    security_hub=[],
    checkov=[],
)


@PRINCIPAL(FULL_ACCESS)
def full_access_managed_policy(p: PrincipalInfo, _: PrincipalSpec | None) -> Verdict:
    full = [pol.name for pol in p.policies if pol.aws_managed and pol.name.endswith("FullAccess")]
    if full:
        return bad(f"attached: {', '.join(full)}")
    return ok("no *FullAccess managed policy")


DIRECT = define(
    id="iam.policy-attached-to-user",
    title="Users get permissions through groups, not policies attached to the user",
    category="security",
    service="iam",
    severity="low",
    permissions=_READ_POLICIES,
    remediation="Move the user's policies to a group and add the user to it (cargohold does this for every "
    "`kind: user` principal).",
    config_fix="principals:\n  PRINCIPAL:\n    kind: user   # cargohold attaches the policy to a group of one",
    security_hub=["IAM.2"],
    checkov=["CKV_AWS_40"],
)


@PRINCIPAL(DIRECT)
def policy_attached_to_user(p: PrincipalInfo, _: PrincipalSpec | None) -> Verdict | None:
    if p.kind != "user":
        return None
    if p.direct_policies:
        return bad(f"policies attached directly: {', '.join(x.name for x in p.direct_policies)}")
    return ok("no policies attached directly")


def _credentials(p: PrincipalInfo) -> dict[str, str]:
    if "error" in p.credentials:
        raise CannotRead(f"the IAM credential report could not be read: {p.credentials['error']}")
    return p.credentials


def _active_keys(p: PrincipalInfo) -> list[int]:
    row = _credentials(p)
    return [n for n in (1, 2) if row.get(f"access_key_{n}_active") == "true"]


def _now(p: PrincipalInfo) -> datetime:
    return p.observed_at or datetime.now(UTC)


KEY_AGE = define(
    id="iam.access-key-age",
    title="Active access keys are younger than 90 days",
    category="security",
    service="iam",
    severity="medium",
    permissions=_READ_CREDENTIALS,
    remediation="Rotate the key: create a new one, deploy it, then deactivate and delete the old one "
    "(`cargohold credentials rotate` does all three and proves the new key works first).",
    config_fix="# keys are issued out of band; rotate with: cargohold credentials rotate --env ENV --principal NAME",
    security_hub=["IAM.3"],
    checkov=[],
)


@PRINCIPAL(KEY_AGE)
def access_key_age(p: PrincipalInfo, _: PrincipalSpec | None) -> Verdict | None:
    if p.kind != "user" or not _active_keys(p):
        return None
    row, now = _credentials(p), _now(p)
    old = []
    for n in _active_keys(p):
        rotated = parse_report_time(row.get(f"access_key_{n}_last_rotated"))
        if rotated and now - rotated > KEY_MAX_AGE:
            old.append(f"key {n} is {(now - rotated).days} days old")
    if old:
        return bad("; ".join(old))
    return ok("active keys are younger than 90 days")


KEY_UNUSED = define(
    id="iam.access-key-unused",
    title="No active access key has gone unused for 90 days",
    category="security",
    service="iam",
    severity="medium",
    permissions=_READ_CREDENTIALS,
    remediation="Deactivate, then delete, keys nobody uses (`cargohold credentials revoke`).",
    config_fix="# revoke with: cargohold credentials revoke --env ENV --principal NAME",
    security_hub=["IAM.8"],
    checkov=[],
)


@PRINCIPAL(KEY_UNUSED)
def access_key_unused(p: PrincipalInfo, _: PrincipalSpec | None) -> Verdict | None:
    if p.kind != "user" or not _active_keys(p):
        return None
    row, now = _credentials(p), _now(p)
    idle = []
    for n in _active_keys(p):
        used = parse_report_time(row.get(f"access_key_{n}_last_used_date"))
        since = used or parse_report_time(row.get(f"access_key_{n}_last_rotated"))
        if since and now - since > KEY_MAX_IDLE:
            idle.append(f"key {n} unused for {(now - since).days} days" + ("" if used else " (never used)"))
    if idle:
        return bad("; ".join(idle))
    return ok("active keys were used within 90 days")


TWO_KEYS = define(
    id="iam.two-active-keys",
    title="A user has at most one active access key",
    category="security",
    service="iam",
    severity="low",
    permissions=_READ_CREDENTIALS,
    remediation="Two active keys are only needed during a rotation: deactivate the one no longer deployed.",
    config_fix="# finish the rotation: cargohold credentials rotate --env ENV --principal NAME",
    security_hub=[],
    checkov=[],
)


@PRINCIPAL(TWO_KEYS)
def two_active_keys(p: PrincipalInfo, _: PrincipalSpec | None) -> Verdict | None:
    if p.kind != "user":
        return None
    if len(_active_keys(p)) > 1:
        return bad("two active access keys")
    return ok(f"{len(_active_keys(p))} active access key(s)")


MFA = define(
    id="iam.console-without-mfa",
    title="Users with a console password have MFA",
    category="security",
    service="iam",
    severity="high",
    permissions=_READ_CREDENTIALS,
    remediation="Enable MFA for the user, or remove the console password from application users: an "
    "application needs an access key or a role, never a console login.",
    config_fix="# console access is not managed by cargohold; remove the login profile of application users",
    security_hub=["IAM.5"],
    checkov=[],
)


@PRINCIPAL(MFA)
def console_without_mfa(p: PrincipalInfo, _: PrincipalSpec | None) -> Verdict | None:
    if p.kind != "user":
        return None
    row = _credentials(p)
    if row.get("password_enabled") == "true" and row.get("mfa_active") != "true":
        return bad("console password without MFA")
    return ok("no console password without MFA")


def _trust(p: PrincipalInfo) -> policy.TrustReading | None:
    if p.kind != "role":
        return None
    if p.trust_policy is None:
        raise CannotRead("GetAccountAuthorizationDetails gave no readable trust policy (AssumeRolePolicyDocument)")
    return policy.read_trust(p.trust_policy, p.account)


TRUST_PUBLIC = define(
    id="iam.role-trust-public",
    title='No role may be assumed by anyone (Principal "*", any account, or any identity of an OIDC provider)',
    category="security",
    service="iam",
    severity="critical",
    permissions=_READ_POLICIES,
    remediation="Name the callers in the role's trust policy: the service (ecs-tasks.amazonaws.com...) or the "
    "role ARNs that assume it. Where a wildcard principal is needed, restrict it with a condition on "
    "aws:PrincipalOrgID, aws:PrincipalAccount or aws:SourceArn. A web identity trust needs a condition on the "
    "provider's `sub` (GitHub: token.actions.githubusercontent.com:sub = repo:ORG/REPO:ref:...) or, for "
    "Cognito, its `aud` (the identity pool).",
    config_fix="principals:\n  ROLE:\n    kind: role\n    assume_role_services: [ecs-tasks.amazonaws.com]\n"
    '    assume_role_arns: ["arn:aws:iam::123456789012:role/ci"]   # named callers; cargohold writes no "*"',
    security_hub=[],
    checkov=["CKV_AWS_60"],
)


@PRINCIPAL(TRUST_PUBLIC)
def role_trust_public(p: PrincipalInfo, _: PrincipalSpec | None) -> Verdict | None:
    trust = _trust(p)
    if trust is None:
        return None
    if trust.public:
        return bad("anyone may assume the role: " + "; ".join(trust.public), details={"statements": trust.public})
    return ok("the trust policy names its callers")


TRUST_CROSS_ACCOUNT = define(
    id="iam.role-trust-cross-account",
    title="A role another account may assume requires an external id (or the caller's organisation, or MFA)",
    category="security",
    service="iam",
    severity="high",
    permissions=_READ_POLICIES,
    remediation="Add a condition to the statement that trusts the other account: "
    '"StringEquals": {"sts:ExternalId": "<the id the third party gave you>"} for a vendor (it stops the '
    'confused deputy), "StringEquals": {"aws:PrincipalOrgID": "o-..."} for an account of your own '
    'organisation, or "Bool": {"aws:MultiFactorAuthPresent": "true"} for people. Trust a role in the other '
    "account rather than its root.",
    config_fix="# The principals of assume_role_arns must then pass the id (sts:ExternalId) to assume the role.\n"
    "# For an organisation's own account or for MFA (no config.yaml key), waive the finding with the reason.\n"
    "principals:\n  ROLE:\n    kind: role\n"
    '    assume_role_arns: ["arn:aws:iam::210987654321:role/vendor"]\n'
    "    assume_role_external_id: EXTERNAL-ID   # the id the third party gave you",
    security_hub=[],
    checkov=["CKV_AWS_61"],
)


@PRINCIPAL(TRUST_CROSS_ACCOUNT)
def role_trust_cross_account(p: PrincipalInfo, want: PrincipalSpec | None) -> Verdict | None:
    trust = _trust(p)
    if trust is None:
        return None
    if trust.cross_account:
        text = "another account may assume the role without a guard: " + "; ".join(trust.cross_account)
        declared = [a for a in (want.assume_role_arns if want else []) if a.split(":")[4] != p.account]
        if declared and want is not None and want.assume_role_external_id is None:
            text += (
                f". config.yaml's assume_role_arns declares {', '.join(declared)} without an "
                "assume_role_external_id: set it, and apply writes the sts:ExternalId condition"
            )
        elif declared:
            text += (
                ". config.yaml sets assume_role_external_id, but the live trust policy lacks its condition: "
                "apply writes it"
            )
        return bad(text, details={"statements": trust.cross_account})
    message = "no other account may assume the role unguarded"
    if trust.unguarded_services:
        message += (
            f"; services {', '.join(trust.unguarded_services)} are trusted without aws:SourceAccount or "
            "aws:SourceArn (adding one guards against a confused deputy)"
        )
    return ok(message)
