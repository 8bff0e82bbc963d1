"""boto3 sessions and clients for an environment: its region, its endpoint, adaptive retries.

No client is created at import time. An environment whose endpoint is on loopback (an emulator)
gets throwaway credentials when none are configured, so the demo needs no AWS account.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse, urlsplit, urlunsplit

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    ProfileNotFound,
    ProxyConnectionError,
)

from cargohold_core.config.model import Environment
from cargohold_core.errors import AwsError
from cargohold_core.net import is_loopback

RETRIES = Config(retries={"mode": "adaptive", "max_attempts": 8}, connect_timeout=10, read_timeout=60)


# Credentials an emulator accepts (when the environment has none); never real ones. AWS's documented
# example pair, so a leak of it means nothing.
FAKE_ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
FAKE_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # noqa: S105 - AWS's documented example


def tag_dict(tags: Any) -> dict[str, str]:
    """AWS's [{"Key": k, "Value": v}] (S3, DynamoDB, IAM) as {k: v}. moto leaves an empty Value out."""
    return {t["Key"]: t.get("Value", "") for t in tags or []}


def is_emulator(endpoint: str | None) -> bool:
    return endpoint is not None and is_loopback(urlparse(endpoint).hostname)


def session(env: Environment, *, region: str | None = None) -> boto3.Session:
    try:
        base = boto3.Session(region_name=region or env.region)
    except ProfileNotFound as exc:
        known = ", ".join(botocore.session.Session().available_profiles) or "none"
        raise AwsError(
            f"{exc} (from AWS_PROFILE)",
            hint=f"set AWS_PROFILE to one of the profiles configured here ({known}), or unset it",
        ) from None
    if is_emulator(env.endpoint) and base.get_credentials() is None:
        return boto3.Session(
            aws_access_key_id=FAKE_ACCESS_KEY, aws_secret_access_key=FAKE_SECRET_KEY, region_name=region or env.region
        )
    return base


def client(env: Environment, service: str, *, region: str | None = None) -> Any:
    boto_session: Any = session(env, region=region)  # Any: the stubs type clients per literal service name
    made = boto_session.client(service, endpoint_url=env.endpoint, config=RETRIES)
    adapt_to_emulator(made, env)
    return made


def adapt_to_emulator(made: Any, env: Environment) -> None:
    if made.meta.service_model.service_name == "s3control" and is_emulator(env.endpoint):
        made.meta.events.register("before-sign.s3-control", unprefix_account_host)


def unprefix_account_host(request: Any, **_: Any) -> None:
    # s3control puts the account id in the host name ("123456789012.127.0.0.1"), which a loopback
    # emulator cannot serve; send it to the endpoint itself.
    parts = urlsplit(request.url)
    host = parts.netloc.split(".", 1)
    if len(host) == 2 and host[0].isdigit() and len(host[0]) == 12:
        request.url = urlunsplit(parts._replace(netloc=host[1]))


def error_code(exc: ClientError) -> str:
    """The AWS error code of a failed call ("" when the response carries none)."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def explain(exc: Exception, *, action: str) -> AwsError:
    """One clear error for a failed AWS call, with what to do about it."""
    if isinstance(exc, NoCredentialsError):
        return AwsError(
            f"{action}: no AWS credentials found",
            hint="set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws sso login`",
        )
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        message = exc.response.get("Error", {}).get("Message", "")
        hints = {
            "AccessDenied": "the credentials in use lack a permission for this call; see the message for which",
            "InvalidAccessKeyId": "the access key does not exist in this account (or this endpoint)",
            "SignatureDoesNotMatch": "the secret key does not match the access key",
            "ExpiredToken": "refresh your session credentials (e.g. `aws sso login`)",
        }
        return AwsError(f"{action}: {code}: {message}".rstrip(": "), hint=hints.get(code))
    if isinstance(exc, ProxyConnectionError):  # botocore says "Failed to connect" for a refused CONNECT too
        return AwsError(
            f"{action}: {exc}",
            hint="the proxy named by HTTPS_PROXY/HTTP_PROXY refused the request or could not be reached: check "
            "it (the AWS CLI uses the same settings), or list the endpoint's host in NO_PROXY to go around it",
        )
    if isinstance(exc, BotoCoreError):
        return AwsError(f"{action}: {exc}", hint="check the network and the environment's endpoint/region")
    return AwsError(f"{action}: {exc}")


def block_public_access_for_account(env: Environment) -> None:
    """Turn on the account-wide S3 Block Public Access: an account setting, outside config.yaml and the stack."""
    account = client(env, "sts").get_caller_identity()["Account"]
    client(env, "s3control").put_public_access_block(
        AccountId=account,
        PublicAccessBlockConfiguration=dict.fromkeys(
            ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
        ),
    )
