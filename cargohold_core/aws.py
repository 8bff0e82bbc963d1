"""boto3 sessions and clients for an environment: its region, its endpoint, adaptive retries.

No client is created at import time. An environment whose endpoint is on loopback (an emulator)
gets throwaway credentials when none are configured, so the demo needs no AWS account.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any
from urllib.parse import urlparse, urlsplit, urlunsplit

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    HTTPClientError,
    NoAuthTokenError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    ProxyConnectionError,
    SSOError,
    TokenRetrievalError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from cargohold_core.config.model import Environment
from cargohold_core.config.schema import AssumeRole
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
    """The session that reaches the environment's account: its `profile:` (else AWS_PROFILE and the
    default chain), then its `assume_role:` when it has one, refreshed before the role's session ends."""
    region = region or env.region
    base = base_session(env, region)
    if env.spec.assume_role is None:
        return base
    return assumed_session(base, env.spec.assume_role, endpoint=env.endpoint, region=region)


def assumed_session(source: boto3.Session, role: AssumeRole, *, endpoint: str | None, region: str) -> boto3.Session:
    """A session with `role`'s credentials, assumed with `source`'s (on first use, and again before they end)."""
    credentials = source.get_credentials()
    if credentials is None:
        raise AwsError(
            f"assuming {role.role_arn} needs credentials to assume it with, and there are none",
            hint="set `profile:` on the environment, AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
        )
    core = botocore.session.Session()
    core.set_config_variable("region", region)
    core.register_component(
        "credential_provider", _Fixed(_assumed_credentials(source, credentials, role, endpoint, region))
    )
    assumed = boto3.Session(botocore_session=core, region_name=region)
    _SOURCES[assumed] = (
        f"role {role.role_arn} (session '{role.session_name}') assumed with {credentials_source(source)}"
    )
    return assumed


# One refreshable set of role credentials per role and source key, shared by every session and client of
# the process: each client would otherwise call AssumeRole for itself.
_ASSUMED: dict[tuple[Any, ...], Any] = {}
_ASSUMED_LOCK = threading.Lock()


def _assumed_credentials(
    source: boto3.Session, credentials: Any, role: AssumeRole, endpoint: str | None, region: str
) -> Any:
    from botocore.credentials import AssumeRoleCredentialFetcher, DeferredRefreshableCredentials

    key = (role, endpoint, region, credentials.access_key)
    with _ASSUMED_LOCK:
        if key not in _ASSUMED:
            extra: dict[str, Any] = {"RoleSessionName": role.session_name, "DurationSeconds": role.duration}
            if role.external_id is not None:
                extra["ExternalId"] = role.external_id
            maker: Any = source  # Any: the stubs type clients per literal service name

            def sts(service: str, **given: Any) -> Any:
                return maker.client(service, region_name=region, endpoint_url=endpoint, config=RETRIES, **given)

            fetcher = AssumeRoleCredentialFetcher(sts, credentials, role.role_arn, extra_args=extra)
            _ASSUMED[key] = DeferredRefreshableCredentials(
                refresh_using=fetcher.fetch_credentials, method="assume-role"
            )
        return _ASSUMED[key]


def forget_assumed_roles() -> None:
    """Drop the process's role credentials (an emulator that was reset no longer knows them)."""
    with _ASSUMED_LOCK:
        _ASSUMED.clear()


class _Fixed:
    """A credential resolver that always answers with the same (refreshable) credentials."""

    def __init__(self, credentials: Any) -> None:
        self._credentials = credentials

    def load_credentials(self) -> Any:
        return self._credentials


def base_session(env: Environment, region: str | None = None) -> boto3.Session:
    """The session before any `assume_role:`: the environment's profile, else the default chain."""
    region = region or env.region
    profile = env.spec.profile
    try:
        base = boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound as exc:
        known = ", ".join(botocore.session.Session().available_profiles) or "none"
        origin = f"environments.{env.name}.profile in config.yaml" if profile else "AWS_PROFILE"
        fix = "correct it" if profile else "set AWS_PROFILE to one of them, or unset it"
        raise AwsError(f"{exc} (from {origin})", hint=f"profiles configured here: {known}; {fix}") from None
    if is_emulator(env.endpoint) and base.get_credentials() is None:
        return boto3.Session(
            aws_access_key_id=FAKE_ACCESS_KEY, aws_secret_access_key=FAKE_SECRET_KEY, region_name=region
        )
    return base


# Where each session's credentials come from, in words (never the secret): for the account guard's message.
_SOURCES: weakref.WeakKeyDictionary[boto3.Session, str] = weakref.WeakKeyDictionary()


def credentials_source(made: Any) -> str:
    """Which credentials a session uses, as a person would name them (the profile, the environment
    variables, an assumed role...), with the access key's last four characters only."""
    return _SOURCES.get(made) or _describe(made)


def _describe(made: Any) -> str:
    credentials = made.get_credentials()
    if credentials is None:
        return "no credentials"
    key = credentials.access_key or ""
    tail = f" (access key ...{key[-4:]})" if len(key) >= 4 else ""
    method = getattr(credentials, "method", "") or ""
    names = {
        "env": "the environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
        "shared-credentials-file": f"profile '{made.profile_name}' in the shared credentials file",
        "config-file": f"profile '{made.profile_name}' in the AWS config file",
        "sso": f"the SSO session of profile '{made.profile_name}'",
        "assume-role": f"the role assumed by profile '{made.profile_name}'",
        "iam-role": "the instance profile (EC2 metadata)",
        "container-role": "the container's task role",
        "explicit": "credentials given to cargohold directly",
    }
    where = names.get(method, f"{method or 'unknown'} credentials")
    if method == "env" and os.environ.get("AWS_PROFILE"):
        where += f" (they win over AWS_PROFILE={os.environ['AWS_PROFILE']})"
    return where + tail


def client(env: Environment, service: str, *, region: str | None = None) -> Any:
    boto_session: Any = session(env, region=region)  # Any: the stubs type clients per literal service name
    made = boto_session.client(service, endpoint_url=env.endpoint, config=RETRIES)
    adapt_to_emulator(made, env)
    return made


def adapt_to_emulator(made: Any, env: Environment) -> None:
    # The client's own endpoint, not only config.yaml's: AWS_ENDPOINT_URL alone points botocore at an
    # emulator too.
    emulated = is_emulator(env.endpoint) or is_emulator(made.meta.endpoint_url)
    if made.meta.service_model.service_name == "s3control" and emulated:
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


# Codes with which AWS (or an emulator) refuses the credentials themselves, not a permission.
_REJECTED = {
    "InvalidClientTokenId": "the access key does not exist in this account (or at this endpoint)",
    "InvalidAccessKeyId": "the access key does not exist in this account (or at this endpoint)",
    "UnrecognizedClientException": "the access key does not exist in this account (or at this endpoint)",
    "SignatureDoesNotMatch": "the secret key does not match the access key",
    "IncompleteSignature": "the request's signature is incomplete",
    "InvalidToken": "the session token is malformed or belongs to other credentials",
    "ExpiredToken": "the session credentials have expired",
    "ExpiredTokenException": "the session credentials have expired",
    "RequestExpired": "the request's signature has expired (is this machine's clock right?)",
}
_USE_CREDENTIALS = "set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws sso login`"


def explain(exc: Exception, *, action: str) -> AwsError:
    """One clear error for a failed AWS call, with what to do about it. The message says which kind of
    failure it is (no credentials, credentials rejected, endpoint unreachable, a refused call), and the
    hint fits that cause: a credentials problem never blames the network, nor the other way round."""
    if isinstance(exc, NoCredentialsError):
        return AwsError(f"{action}: no AWS credentials found", hint=_USE_CREDENTIALS)
    if isinstance(exc, PartialCredentialsError):
        return AwsError(
            f"{action}: incomplete AWS credentials: {exc}",
            hint="set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys), "
            "or unset them and use AWS_PROFILE",
        )
    if isinstance(exc, ProfileNotFound):
        known = ", ".join(botocore.session.Session().available_profiles) or "none"
        return AwsError(
            f"{action}: {exc} (from AWS_PROFILE)",
            hint=f"set AWS_PROFILE to one of the profiles configured here ({known}), or unset it",
        )
    if isinstance(exc, CredentialRetrievalError | TokenRetrievalError | SSOError | NoAuthTokenError):
        return AwsError(
            f"{action}: the AWS credentials could not be loaded: {exc}",
            hint="for an SSO profile run `aws sso login --profile NAME`; otherwise check the profile's "
            "role_arn/source_profile/credential_process settings",
        )
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code") or "Unknown")
        message = str(exc.response.get("Error", {}).get("Message") or "")
        if code in _REJECTED:
            return AwsError(
                f"{action}: credentials rejected: {code}: {message}".rstrip(": "),
                hint=f"{_REJECTED[code]}: use an access key for this environment's account (AWS_PROFILE=..., "
                "or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY); for temporary credentials, refresh them "
                "(`aws sso login`, assume the role again)",
            )
        hints = {
            "AccessDenied": "the credentials in use lack a permission for this call; see the message for which",
        }
        return AwsError(f"{action}: {code}: {message}".rstrip(": "), hint=hints.get(code))
    if isinstance(exc, ProxyConnectionError):  # botocore says "Failed to connect" for a refused CONNECT too
        return AwsError(
            f"{action}: {exc}",
            hint="the proxy named by HTTPS_PROXY/HTTP_PROXY refused the request or could not be reached: check "
            "it (the AWS CLI uses the same settings), or list the endpoint's host in NO_PROXY to go around it",
        )
    endpoint = _endpoint_of(exc)
    if endpoint is not None:
        return AwsError(f"{action}: the endpoint {endpoint} is unreachable: {exc}", hint=_unreachable_hint(endpoint))
    if isinstance(exc, BotoCoreError):
        return AwsError(f"{action}: {exc}", hint="check the environment's endpoint/region in config.yaml")
    return AwsError(f"{action}: {exc}")


def _endpoint_of(exc: Exception) -> str | None:
    """The URL a connection failure was for (botocore's connection errors carry it), else None."""
    if not isinstance(exc, BotoConnectionError | HTTPClientError):
        return None
    url = getattr(exc, "kwargs", {}).get("endpoint_url") or getattr(exc, "kwargs", {}).get("proxy_url")
    if not url:
        return None
    parts = urlsplit(str(url))
    return urlunsplit((parts.scheme, parts.netloc, "", "", "")) if parts.netloc else str(url)


def _unreachable_hint(endpoint: str) -> str:
    if is_emulator(endpoint):
        return (
            f"nothing answers at {endpoint}: start the emulator there (e.g. `python -m moto.server -H 127.0.0.1 "
            f"-p {urlsplit(endpoint).port or 80}`), or correct the environment's `endpoint:` in config.yaml "
            "(`cargohold demo` starts an emulator of its own)"
        )
    if (urlsplit(endpoint).hostname or "").endswith(".amazonaws.com"):
        return "check this machine's connection to AWS (a proxy needs HTTPS_PROXY) and the environment's `region:`"
    return (
        f"check that the service at {endpoint} is running and reachable from here (network, VPN, proxy), or "
        "correct the environment's `endpoint:` in config.yaml"
    )


def block_public_access_for_account(env: Environment) -> None:
    """Turn on the account-wide S3 Block Public Access: an account setting, outside config.yaml and the stack."""
    account = client(env, "sts").get_caller_identity()["Account"]
    client(env, "s3control").put_public_access_block(
        AccountId=account,
        PublicAccessBlockConfiguration=dict.fromkeys(
            ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
        ),
    )
