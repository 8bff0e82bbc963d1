"""The account guard: before a command reads or writes anything, the caller must be in the environment's
account (and partition). With dev credentials in the shell, `apply --env prod` must stop here, not
apply prod's config into dev. Emulators are guarded too: they answer with their own account ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cargohold_core.config.model import Environment
from cargohold_core.config.schema import partition_of
from cargohold_core.errors import CargoholdError


class WrongAccount(CargoholdError):
    """The credentials in use belong to another account than the environment's."""

    exit_code = 3


@dataclass(frozen=True)
class Caller:
    account: str
    arn: str
    source: str  # where the credentials came from, never the secret

    @property
    def partition(self) -> str:
        return self.arn.split(":")[1] if self.arn.count(":") >= 2 else "aws"


def caller(env: Environment, session: Any) -> Caller:
    """Who the session is, asked of STS at the environment's endpoint."""
    from botocore.config import Config  # deferred: keeps the CLI's start cheap
    from botocore.exceptions import BotoCoreError, ClientError

    from cargohold_core import aws

    try:
        # Fewer attempts than other calls: an endpoint that is not there is said in seconds, not a minute.
        config = aws.RETRIES.merge(Config(retries={"mode": "standard", "max_attempts": 3}))
        identity = session.client("sts", endpoint_url=env.endpoint, config=config).get_caller_identity()
    except (ClientError, BotoCoreError) as exc:
        action = f"checking which account the credentials are for (environment {env.name})"
        raise aws.explain(exc, action=action) from None
    return Caller(account=str(identity["Account"]), arn=str(identity["Arn"]), source=aws.credentials_source(session))


def guard(env: Environment, session: Any | None = None) -> Caller:
    """The caller, when it is in the environment's account and partition; otherwise WrongAccount (exit 3)."""
    from cargohold_core import aws

    who = caller(env, session or aws.session(env))
    expected_partition = partition_of(env.region)
    if who.account == env.account and who.partition == expected_partition:
        return who
    found = f"account {who.account}" + (f" ({who.partition})" if who.partition != expected_partition else "")
    raise WrongAccount(
        f"environment '{env.name}' is account {env.account} ({expected_partition}), but the credentials in use "
        f"are for {found}: {who.arn}, from {who.source}. Nothing was read or changed",
        hint=f"use credentials for account {env.account}: say how to reach it once, with `profile:` or "
        f"`assume_role:` under environments.{env.name} in config.yaml (or AWS_PROFILE=...; unset AWS_ACCESS_KEY_ID "
        "to let a profile apply); if config.yaml is wrong, correct the environment's `account:`",
    )
