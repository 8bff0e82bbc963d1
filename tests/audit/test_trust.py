"""Role trust policies: who may assume a role. The rule over documents, then against moto."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from cargohold_core.config.model import Environment, Project
from tests.audit.conftest import load
from tests.support.terraform_apply import stack
from toolkit.audit.checks.iam import role_trust_cross_account, role_trust_public
from toolkit.audit.inventory import PrincipalInfo
from toolkit.audit.policy import read_trust
from toolkit.audit.run import audit
from toolkit.demo.emulator import Emulator
from toolkit.findings import Finding, Status
from toolkit.terraform import workflow

OWN = "123456789012"
OTHER = "210987654321"


def trust(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(principal: Any, action: Any = "sts:AssumeRole", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": action, **extra}


ORG = {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}
EXTERNAL_ID = {"StringEquals": {"sts:ExternalId": "vendor-issued-id"}}
GITHUB = f"arn:aws:iam::{OWN}:oidc-provider/token.actions.githubusercontent.com"

PUBLIC = {
    'Principal "*"': trust(allow("*")),
    '{"AWS": "*"}': trust(allow({"AWS": "*"})),
    '"*" in a list of principals': trust(allow({"AWS": [f"arn:aws:iam::{OWN}:role/ci", "*"]})),
    "any account's root": trust(allow({"AWS": "arn:aws:iam::*:root"})),
    "sts:* action": trust(allow({"AWS": "*"}, "sts:*")),
    '"*" action': trust(allow({"AWS": "*"}, "*")),
    "sts:Assume* action": trust(allow({"AWS": "*"}, ["sts:TagSession", "sts:Assume*"])),
    "NotAction that leaves AssumeRole": trust(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "NotAction": "sts:AssumeRoleWithSAML"}
    ),
    "a condition that narrows nothing (IfExists)": trust(
        allow({"AWS": "*"}, Condition={"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"}})
    ),
    "a condition on a wildcard value": trust(allow({"AWS": "*"}, Condition={"StringLike": {"aws:PrincipalArn": "*"}})),
    "an external id is no guard for everyone": trust(allow({"AWS": "*"}, Condition=EXTERNAL_ID)),
    "a Deny with two conditions narrows the Deny, not the Allow": trust(
        allow({"AWS": "*"}),
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"},
                "Bool": {"aws:SecureTransport": "false"},
            },
        },
    ),
    "web identity for any federated principal": trust(allow({"Federated": "*"}, "sts:AssumeRoleWithWebIdentity")),
    "GitHub OIDC without a sub condition": trust(
        allow(
            {"Federated": GITHUB},
            "sts:AssumeRoleWithWebIdentity",
            Condition={"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}},
        )
    ),
    "Cognito without the identity pool": trust(
        allow({"Federated": "cognito-identity.amazonaws.com"}, "sts:AssumeRoleWithWebIdentity")
    ),
    "a condition that holds without the key (ForAllValues)": trust(
        allow({"AWS": "*"}, Condition={"ForAllValues:StringEquals": {"aws:PrincipalOrgID": ["o-abc123"]}})
    ),
}

CROSS_ACCOUNT = {
    "another account by id": trust(allow({"AWS": OTHER})),
    "another account's root": trust(allow({"AWS": f"arn:aws:iam::{OTHER}:root"})),
    "a role in another account": trust(allow({"AWS": f"arn:aws:iam::{OTHER}:role/deployer"})),
    "an assumed-role session in another account": trust(
        allow({"AWS": f"arn:aws:sts::{OTHER}:assumed-role/deployer/session"})
    ),
    "an external id only under IfExists": trust(
        allow({"AWS": OTHER}, Condition={"StringEqualsIfExists": {"sts:ExternalId": "x"}})
    ),
    "MFA asked for false": trust(allow({"AWS": OTHER}, Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}})),
    "a Deny without MFA that long-term keys pass (Bool, not BoolIfExists)": trust(
        allow({"AWS": OTHER}),
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sts:AssumeRole",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
        },
    ),
}

FINE = {
    "a service": trust(allow({"Service": "lambda.amazonaws.com"})),
    "a service with a confused-deputy guard": trust(
        allow({"Service": ["ecs-tasks.amazonaws.com"]}, Condition={"StringEquals": {"aws:SourceAccount": OWN}})
    ),
    "this account's root": trust(allow({"AWS": f"arn:aws:iam::{OWN}:root"})),
    "a role of this account": trust(allow({"AWS": f"arn:aws:iam::{OWN}:role/ci"})),
    "this account by id": trust(allow({"AWS": OWN})),
    "another account with an external id": trust(allow({"AWS": f"arn:aws:iam::{OTHER}:root"}, Condition=EXTERNAL_ID)),
    "another account of the organisation": trust(allow({"AWS": OTHER}, Condition=ORG)),
    "another account's people with MFA": trust(
        allow({"AWS": OTHER}, Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})
    ),
    "everyone in the organisation": trust(allow({"AWS": "*"}, Condition=ORG)),
    "everyone from one source account": trust(allow("*", Condition={"StringEquals": {"aws:SourceAccount": OWN}})),
    "a Deny for everyone outside the organisation": trust(
        allow({"AWS": "*"}),
        {
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "sts:*",
            "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}},
        },
    ),
    "a Deny without an external id": trust(
        allow({"AWS": OTHER}),
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sts:AssumeRole",
            "Condition": {"StringNotEquals": {"sts:ExternalId": "vendor-issued-id"}},
        },
    ),
    "a Deny of every assumption": trust(allow({"AWS": "*"}), {"Effect": "Deny", "Principal": "*", "Action": "*"}),
    "Allow of other actions only": trust(allow({"AWS": "*"}, ["sts:TagSession", "sts:SetSourceIdentity"])),
    "NotAction that excludes AssumeRole": trust(
        {"Effect": "Allow", "Principal": {"AWS": OTHER}, "NotAction": "sts:Assume*"}
    ),
    "a Deny statement naming everyone": trust({"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole"}),
    "a deleted principal left as its unique id": trust(allow({"AWS": "AROAEXAMPLEDELETEDROLE"})),
    "GitHub OIDC for one repository": trust(
        allow(
            {"Federated": GITHUB},
            "sts:AssumeRoleWithWebIdentity",
            Condition={
                "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/app:ref:refs/heads/main"},
            },
        )
    ),
    "a Deny of every caller without MFA": trust(
        allow({"AWS": OTHER}),
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sts:AssumeRole",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
        },
    ),
    "Cognito for one identity pool": trust(
        allow(
            {"Federated": "cognito-identity.amazonaws.com"},
            "sts:AssumeRoleWithWebIdentity",
            Condition={"StringEquals": {"cognito-identity.amazonaws.com:aud": "us-east-1:1234-abcd"}},
        )
    ),
    "a SAML identity provider of the account": trust(
        allow({"Federated": f"arn:aws:iam::{OWN}:saml-provider/corp"}, "sts:AssumeRoleWithSAML")
    ),
    "the AWS principal is not trusted with web identity": trust(allow({"AWS": OTHER}, "sts:AssumeRoleWithWebIdentity")),
    "a single statement, not a list": {"Version": "2012-10-17", "Statement": allow({"Service": "ec2.amazonaws.com"})},
}


def role(document: dict[str, Any] | None) -> PrincipalInfo:
    return PrincipalInfo(
        kind="role",
        name="r",
        arn=f"arn:aws:iam::{OWN}:role/r",
        path="/",
        direct_policies=[],
        group_policies=[],
        groups=[],
        trust_policy=document,
    )


@pytest.mark.parametrize("name", list(PUBLIC))
def test_public_trust_fails(name: str) -> None:
    reading = read_trust(PUBLIC[name], OWN)
    assert reading.public and not reading.cross_account
    verdict = role_trust_public(role(PUBLIC[name]), None)
    assert verdict is not None and verdict.status is Status.FAIL


@pytest.mark.parametrize("name", list(CROSS_ACCOUNT))
def test_cross_account_trust_without_a_guard_fails(name: str) -> None:
    reading = read_trust(CROSS_ACCOUNT[name], OWN)
    assert reading.cross_account and not reading.public
    assert OTHER in reading.cross_account[0]
    verdict = role_trust_cross_account(role(CROSS_ACCOUNT[name]), None)
    assert verdict is not None and verdict.status is Status.FAIL


@pytest.mark.parametrize("name", list(FINE))
def test_named_or_guarded_trust_passes(name: str) -> None:
    reading = read_trust(FINE[name], OWN)
    assert (reading.public, reading.cross_account) == ([], [])
    for rule in (role_trust_public, role_trust_cross_account):
        verdict = rule(role(FINE[name]), None)
        assert verdict is not None and verdict.status is Status.PASS


def test_a_service_without_a_source_condition_passes_with_a_note() -> None:
    unguarded = role_trust_cross_account(role(FINE["a service"]), None)
    guarded = role_trust_cross_account(role(FINE["a service with a confused-deputy guard"]), None)
    assert unguarded is not None and "confused deputy" in unguarded.message
    assert guarded is not None and "confused deputy" not in guarded.message


def test_users_are_not_judged_and_an_unreadable_trust_policy_is_unknown() -> None:
    from dataclasses import replace

    from toolkit.audit.fetch import CannotRead

    assert role_trust_public(replace(role(None), kind="user"), None) is None
    with pytest.raises(CannotRead):
        role_trust_public(role(None), None)


def test_a_declared_external_id_missing_from_the_live_trust_says_apply_writes_it() -> None:
    from cargohold_core.config.schema import PrincipalSpec

    vendor = f"arn:aws:iam::{OTHER}:role/ci"
    live = trust(allow({"AWS": [vendor]}))  # the condition removed by hand
    declared = PrincipalSpec(kind="role", assume_role_arns=[vendor], assume_role_external_id="vendor-issued-id")
    verdict = role_trust_cross_account(role(live), declared)
    assert verdict is not None and verdict.status is Status.FAIL
    assert "sets assume_role_external_id" in verdict.message and "apply writes it" in verdict.message
    assert "vendor-issued-id" not in verdict.message
    without = role_trust_cross_account(role(live), declared.model_copy(update={"assume_role_external_id": None}))
    assert without is not None and "without an assume_role_external_id: set it" in without.message


# --- against moto: the roles created with such trust policies, the audit's findings ---------------

NOTHING_DECLARED = """\
version: 1
project: trust
environments:
  test: {region: us-east-1, account: "123456789012", endpoint: ENDPOINT}
"""

DECLARED_CROSS_ACCOUNT = (
    NOTHING_DECLARED
    + f"""\
buckets:
  docs: {{}}
principals:
  deployer:
    kind: role
    assume_role_arns: ["arn:aws:iam::{OTHER}:role/ci"]
    grants:
      - {{bucket: docs, actions: [read]}}
"""
)


def _create_roles(endpoint: str, documents: dict[str, dict[str, Any]]) -> None:
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1")
    for name, document in documents.items():
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(document))


def test_the_audit_finds_roles_anyone_or_another_account_may_assume(tmp_path: Path, account: Emulator) -> None:
    _create_roles(
        account.endpoint,
        {
            "open-to-all": PUBLIC['{"AWS": "*"}'],
            "vendor-no-id": CROSS_ACCOUNT["another account's root"],
            "vendor-with-id": FINE["another account with an external id"],
            "lambda-runner": FINE["a service"],
            "github-any-repo": PUBLIC["GitHub OIDC without a sub condition"],
        },
    )
    project, env = load(tmp_path / "config.yaml", account.endpoint, NOTHING_DECLARED)
    report = audit(project, env)
    trust_checks = ("iam.role-trust-public", "iam.role-trust-cross-account")
    verdicts = {
        (f.check.id, f.resource.rsplit("/", 1)[1]): f.status for f in report.findings if f.check.id in trust_checks
    }
    failing = {key for key, status in verdicts.items() if status is Status.FAIL}
    assert failing == {
        ("iam.role-trust-public", "open-to-all"),
        ("iam.role-trust-public", "github-any-repo"),
        ("iam.role-trust-cross-account", "vendor-no-id"),
    }
    # every role judged by both checks, and nothing else in error
    assert len(verdicts) == 10 and set(verdicts.values()) == {Status.PASS, Status.FAIL}
    public = next(f for f in report.findings if f.check.id == "iam.role-trust-public" and f.status is Status.FAIL)
    assert public.check.severity.label == "critical" and public.resource.startswith("arn:aws:iam::123456789012:role/")
    cross = next(f for f in report.findings if f.check.id == "iam.role-trust-cross-account" and f.status is Status.FAIL)
    assert f"account {OTHER}" in cross.message and cross.check.severity.label == "high"


def test_a_cross_account_trust_config_yaml_declares_says_to_set_its_external_id(
    tmp_path: Path, account: Emulator
) -> None:
    # What the iam-principal module writes for assume_role_arns: the ARNs, no condition.
    _create_roles(
        account.endpoint,
        {"trust-test-deployer": trust({"Sid": "Principals", **allow({"AWS": [f"arn:aws:iam::{OTHER}:role/ci"]})})},
    )
    project, env = load(tmp_path / "config.yaml", account.endpoint, DECLARED_CROSS_ACCOUNT)
    report = audit(project, env)
    cross = next(f for f in report.findings if f.check.id == "iam.role-trust-cross-account")
    assert cross.status is Status.FAIL
    assert "config.yaml's assume_role_arns declares" in cross.message and "assume_role_external_id" in cross.message


# --- the stack itself, applied by real Terraform: assume_role_external_id guards the cross-account trust --

VENDOR_ID = "vendor-issued:id/42"


def _cross_account_verdict(project: Project, env: Environment) -> Finding:
    report = audit(project, env)
    [cross] = [f for f in report.findings if f.check.id == "iam.role-trust-cross-account"]
    return cross


@pytest.mark.terraform
def test_the_stack_guards_another_accounts_trust_with_the_external_id(tmp_path: Path, account: Emulator) -> None:
    """Applied as written: the role fails the check. With `assume_role_external_id` set, the next apply
    writes the StringEquals sts:ExternalId condition and it passes; Terraform's output never shows the id."""
    project, env = load(tmp_path / "config.yaml", account.endpoint, DECLARED_CROSS_ACCOUNT)
    run = stack(env, tmp_path / "terraform")
    workflow.plan(run)
    workflow.apply(run)
    unguarded = _cross_account_verdict(project, env)
    assert unguarded.status is Status.FAIL and f"account {OTHER}" in unguarded.message
    assert "without an assume_role_external_id" in unguarded.message

    guarded_text = DECLARED_CROSS_ACCOUNT.replace(
        "    grants:", f'    assume_role_external_id: "{VENDOR_ID}"\n    grants:'
    )
    project, env = load(tmp_path / "config.yaml", account.endpoint, guarded_text)
    logged: list[str] = []
    run = dataclasses.replace(stack(env, tmp_path / "terraform"), on_log=logged.append)
    outcome = workflow.plan(run)
    address = 'module.principals["deployer"].aws_iam_role.this[0]'
    assert {c.address for c in outcome.summary.changes if c.action == "update"} == {address}
    workflow.apply(run)
    assert VENDOR_ID not in "\n".join(logged + outcome.lines())  # the plan shows the trust as (sensitive)

    role = boto3.client("iam", endpoint_url=account.endpoint, region_name="us-east-1").get_role(
        RoleName="trust-test-deployer"
    )["Role"]
    [statement] = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"AWS": [f"arn:aws:iam::{OTHER}:role/ci"]}
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": VENDOR_ID}}
    guarded = _cross_account_verdict(project, env)
    assert guarded.status is Status.PASS, guarded.message
    again = workflow.plan(run)  # and what was applied is what the next plan wants
    assert [c.address for c in again.summary.changes if c.action != "no-op"] == []
