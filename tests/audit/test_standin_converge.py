"""The stand-in for `apply` converges existing resources, as `apply` does after discover's imports:
what the stack manages is rewritten to config.yaml, what it does not manage is left alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.audit.conftest import load
from tests.audit.test_planted import PLANTED, _failing, _iam
from toolkit.audit.run import audit
from toolkit.emulator import Emulator
from toolkit.standin import block_public_access_for_account, materialize

# Problems in what the stack manages: applying the config again removes them.
FIXED_BY_APPLY = [
    "bucket block public access off",
    "no TLS-only policy",
    "versioning suspended",
    "no lifecycle",
    "versioned without noncurrent expiry",
    "access logging off",
    "CORS lets any origin write",
    "PITR off",
    "deletion protection off",
    "TTL off",
    "declared table deleted",
]


@pytest.mark.parametrize("name", FIXED_BY_APPLY)
def test_applying_the_config_again_fixes_what_the_stack_manages(name: str, tmp_path: Path, account: Emulator) -> None:
    project, env = load(tmp_path / "config.yaml", account.endpoint)
    materialize(env)
    block_public_access_for_account(env)
    plant, _ = PLANTED[name]
    plant(account)
    materialize(env)
    assert _failing(audit(project, env)) == set()


def test_a_policy_attached_by_hand_stays_as_terraform_would_leave_it(tmp_path: Path, account: Emulator) -> None:
    project, env = load(tmp_path / "config.yaml", account.endpoint)
    materialize(env)
    block_public_access_for_account(env)
    PLANTED["AmazonS3FullAccess on the user"][0](account)
    materialize(env)
    assert _failing(audit(project, env)) == {
        "iam.full-access-managed-policy",
        "iam.policy-attached-to-user",
        "drift.changed",
    }
    _iam(account).detach_user_policy(UserName="hard-test-app", PolicyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess")
    assert _failing(audit(project, env)) == set()
