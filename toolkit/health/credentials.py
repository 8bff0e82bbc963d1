"""The application principal's credentials: read from a .env-style file, or by assuming its role.

The file is what `cargohold credentials issue` writes (mode 0600), and what an application reads:

    AWS_ACCESS_KEY_ID=AKIA...
    AWS_SECRET_ACCESS_KEY=...
    AWS_SESSION_TOKEN=...        # only for temporary credentials

Blank lines and `#` comments are ignored; `export ` prefixes and single or double quotes are
accepted. Secrets never appear in an error message, a repr or a log line: only the key id's last
four characters do.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from cargohold_core.errors import CargoholdError

ACCESS_KEY_VAR = "AWS_ACCESS_KEY_ID"
SECRET_KEY_VAR = "AWS_SECRET_ACCESS_KEY"  # noqa: S105 - a variable name, not a secret
SESSION_TOKEN_VAR = "AWS_SESSION_TOKEN"  # noqa: S105 - a variable name, not a secret
ROLE_SESSION_NAME = "cargohold-health"


class CredentialsError(CargoholdError):
    """The principal's credentials file cannot be used."""


@dataclass(frozen=True)
class PrincipalCredentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)
    source: str = ""  # where they came from, for messages: "file .env.backend", "assumed role ..."

    @property
    def masked_key(self) -> str:
        return f"...{self.access_key_id[-4:]}" if len(self.access_key_id) > 4 else "..."

    def session(self, region: str) -> boto3.Session:
        return boto3.Session(
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            aws_session_token=self.session_token,
            region_name=region,
        )


def parse_dotenv(text: str, *, source: str = "the credentials file") -> dict[str, str]:
    """KEY=VALUE lines into a dict. Values are never echoed back in errors (they may be secrets)."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not name.replace("_", "").isalnum():
            raise CredentialsError(
                f"{source}:{number}: expected NAME=VALUE",
                hint="write one NAME=VALUE per line, e.g. AWS_ACCESS_KEY_ID=...",
            )
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[name] = value
    return values


def read_credentials_file(
    path: Path, *, access_key_var: str = ACCESS_KEY_VAR, secret_key_var: str = SECRET_KEY_VAR
) -> PrincipalCredentials:
    """The keys in a .env file; the variable names default to the SDK's (a principal's `dotenv:` may
    rename them, as `cargohold credentials` writes them)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CredentialsError(
            f"cannot read the credentials file {path}: {exc.strerror}",
            hint="pass --credentials with the .env file holding the principal's AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY",
        ) from None
    values = parse_dotenv(text, source=str(path))
    missing = [name for name in (access_key_var, secret_key_var) if not values.get(name)]
    if missing:
        raise CredentialsError(
            f"{path} has no {' or '.join(missing)}",
            hint=f"the file needs {access_key_var}=... and {secret_key_var}=... (and {SESSION_TOKEN_VAR}=... for "
            "temporary credentials)",
        )
    return PrincipalCredentials(
        access_key_id=values[access_key_var],
        secret_access_key=values[secret_key_var],
        session_token=values.get(SESSION_TOKEN_VAR) or None,
        source=f"file {path}",
    )


def loose_permissions(path: Path) -> bool:
    """True when group or others may read the file (it should be 0600)."""
    if os.name != "posix":
        return False
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IRWXG | stat.S_IRWXO))


def assume_role(
    operator: boto3.Session, *, role_arn: str, endpoint: str | None, region: str, external_id: str | None = None
) -> PrincipalCredentials:
    """The role's temporary credentials, assumed with the operator's (15 minutes, session 'cargohold-health'),
    passing the external id its trust policy asks for (config.yaml's assume_role_external_id)."""
    sts: Any = operator.client("sts", endpoint_url=endpoint, region_name=region)
    extra = {} if external_id is None else {"ExternalId": external_id}
    answer = sts.assume_role(RoleArn=role_arn, RoleSessionName=ROLE_SESSION_NAME, DurationSeconds=900, **extra)
    creds = answer["Credentials"]
    return PrincipalCredentials(
        access_key_id=creds["AccessKeyId"],
        secret_access_key=creds["SecretAccessKey"],
        session_token=creds["SessionToken"],
        source=f"assumed role {role_arn}",
    )


__all__ = [
    "CredentialsError",
    "PrincipalCredentials",
    "assume_role",
    "loose_permissions",
    "parse_dotenv",
    "read_credentials_file",
]
