"""The account guard: before a command reads or writes anything, the caller must be in the environment's
account (and partition). With dev credentials in the shell, `apply --env prod` must stop here, not
apply prod's config into dev. Emulators are guarded too: they answer with their own account ids.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from cargohold_core.config.model import Environment
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


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def credentials_source(session: Any) -> str:
    """Which credentials a boto3 session uses, as a person would name them: the profile, the
    environment variables, an assumed role... with the access key's last four characters only."""
    credentials = session.get_credentials()
    if credentials is None:
        return "no credentials"
    key = credentials.access_key or ""
    tail = f" (access key ...{key[-4:]})" if len(key) >= 4 else ""
    method = getattr(credentials, "method", "") or ""
    names = {
        "env": "the environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
        "shared-credentials-file": f"profile '{session.profile_name}' in the shared credentials file",
        "config-file": f"profile '{session.profile_name}' in the AWS config file",
        "sso": f"the SSO session of profile '{session.profile_name}'",
        "assume-role": f"the role assumed by profile '{session.profile_name}'",
        "iam-role": "the instance profile (EC2 metadata)",
        "container-role": "the container's task role",
        "explicit": "credentials given to cargohold directly",
    }
    where = names.get(method, f"{method or 'unknown'} credentials")
    if method == "env" and os.environ.get("AWS_PROFILE"):
        where += f" (they win over AWS_PROFILE={os.environ['AWS_PROFILE']})"
    return where + tail


def caller(env: Environment, session: Any) -> Caller:
    """Who the session is, asked of STS at the environment's endpoint."""
    from botocore.exceptions import BotoCoreError, ClientError  # deferred: keeps the CLI's start cheap

    from cargohold_core import aws

    try:
        identity = session.client("sts", endpoint_url=env.endpoint, config=aws.RETRIES).get_caller_identity()
    except (ClientError, BotoCoreError) as exc:
        action = f"checking which account the credentials are for (environment {env.name})"
        raise aws.explain(exc, action=action) from None
    return Caller(account=str(identity["Account"]), arn=str(identity["Arn"]), source=credentials_source(session))


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
        hint=f"use credentials for account {env.account} (AWS_PROFILE=..., or unset AWS_ACCESS_KEY_ID to let "
        "the profile apply), or, if config.yaml is wrong, correct the environment's `account:`",
    )
