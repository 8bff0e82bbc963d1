"""`cargohold health` as a library call: probe an environment, return a `Report`.

Order: the operator's STS identity (nothing else runs without it), each bucket's existence and
region, browser CORS preflights, then, with the application principal's credentials, its STS
identity, object round trips, presigned POST, table items and the calls it must be denied.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from cargohold_core import aws
from cargohold_core.config.model import Environment, Principal
from toolkit import __version__
from toolkit.findings import Report, errored, failed, passed
from toolkit.health import checks
from toolkit.health.credentials import (
    CredentialsError,
    PrincipalCredentials,
    assume_role,
    loose_permissions,
    read_credentials_file,
)
from toolkit.health.diagnose import Attempt, diagnose_exception, missing_credentials
from toolkit.health.probes import (
    Run,
    check_buckets,
    check_cors,
    check_denied,
    check_object_round_trips,
    check_operator,
    check_tables,
    diagnosed,
    signature_verdict,
)


def run_health(
    env: Environment,
    *,
    project: str,
    principal: str | None = None,
    credentials: Path | None = None,
) -> Report:
    started = time.monotonic()
    started_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    chosen = choose_principal(env, principal)
    run = Run(env=env, operator=aws.session(env), principal=chosen)
    account = check_operator(run)
    if account is not None:
        check_buckets(run)
        check_cors(run)
        if chosen is not None and _principal_ready(run, chosen, credentials):
            check_object_round_trips(run)
            check_tables(run)
            check_denied(run)
    elif chosen is not None:
        run.skip(checks.PRINCIPAL_CREDENTIALS, chosen.arn, "the operator's credentials do not work")
    return Report(
        command="health",
        project=project,
        environment=env.name,
        region=env.region,
        account=account,
        started_at=started_at,
        duration_s=time.monotonic() - started,
        tool_version=__version__,
        checks=list(checks.ALL),
        findings=run.findings,
        data={
            "endpoint": env.endpoint,
            "principal": chosen.key if chosen else None,
            "credentials": run.credentials.source if run.credentials else None,
            "skipped": run.skipped,
        },
        stats={"http_requests": run.http_requests, "findings": len(run.findings)},
    )


def choose_principal(env: Environment, key: str | None) -> Principal | None:
    """The --principal named, or the only principal configured; None when there is none to choose."""
    if key is not None:
        return env.principal(key)
    if len(env.principals) == 1:
        return next(iter(env.principals.values()))
    return None


def _principal_ready(run: Run, principal: Principal, credentials: Path | None) -> bool:
    """Load the principal's credentials and prove them with STS; False (with a finding) when they do not work."""
    check = checks.PRINCIPAL_CREDENTIALS
    warning = ""
    try:
        if credentials is not None:
            names = principal.spec.dotenv  # the variable names `cargohold credentials` wrote
            run.credentials = read_credentials_file(
                credentials, access_key_var=names.access_key_id, secret_key_var=names.secret_access_key
            )
            if loose_permissions(credentials):
                warning = f" (warning: {credentials} is readable by other users: chmod 600 it)"
        elif principal.spec.kind == "role":
            run.credentials = assume_role(
                run.operator,
                role_arn=principal.arn,
                endpoint=run.env.endpoint,
                region=run.env.region,
                external_id=principal.spec.assume_role_external_id,
            )
        else:
            d = missing_credentials(f"principal '{principal.key}' (an IAM user)")
            run.add(
                errored(
                    check,
                    principal.arn,
                    f"{d.summary}: its probes did not run. Fix: pass --credentials FILE, a .env file with the "
                    "user's AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (mode 0600)",
                    details=d.to_json(),
                )
            )
            return False
    except CredentialsError as exc:
        run.add(errored(check, principal.arn, f"{exc.message}. Fix: {exc.hint}"))
        return False
    except (ClientError, BotoCoreError) as exc:  # sts:AssumeRole with the operator's credentials
        attempt = Attempt(
            action="sts:AssumeRole",
            resource=principal.arn,
            who="the operator",
            principal=principal.key,
            grant=None,
        )
        d = diagnose_exception(exc, attempt)
        message = (
            f"{d.message()}; the role's trust policy must allow the operator (principals.{principal.key}."
            "assume_role_arns), or pass --credentials with the role's temporary keys"
        )
        run.add(failed(check, principal.arn, message, details=d.to_json()))
        return False
    return _principal_identity(run, principal, run.credentials, warning)


def _principal_identity(run: Run, principal: Principal, creds: PrincipalCredentials, warning: str) -> bool:
    check = checks.PRINCIPAL_CREDENTIALS
    try:
        identity = run.principal_client("sts").get_caller_identity()
    except (ClientError, BotoCoreError) as exc:
        attempt = Attempt(
            action="sts:GetCallerIdentity",
            resource="account",
            who=f"principal '{principal.key}' (key {creds.masked_key} from {creds.source})",
        )
        run.add(diagnosed(check, principal.arn, diagnose_exception(exc, attempt)))
        return False
    arn = str(identity["Arn"])
    if _is_principal(arn, principal):
        works = passed(check, principal.arn, f"credentials from {creds.source} work: {arn}{warning}", actual=arn)
        run.add(signature_verdict(run, works, "sts"))  # unknown where any signature is accepted; the probes go on
        return True
    run.add(
        failed(
            check,
            principal.arn,
            f"the credentials from {creds.source} (key {creds.masked_key}) belong to {arn}, not to principal "
            f"'{principal.key}' ({principal.arn}). Fix: use the principal's own keys (`cargohold credentials issue`), "
            "so the probes test its policy and not someone else's",
            expected=principal.arn,
            actual=arn,
        )
    )
    return False


def _is_principal(arn: str, principal: Principal) -> bool:
    if principal.spec.kind == "user":
        return arn == principal.arn
    # arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION for arn:aws:iam::ACCOUNT:role/PATH/NAME
    parts = arn.split(":", 5)
    if len(parts) < 6 or not parts[5].startswith("assumed-role/"):
        return False
    role_name = parts[5].split("/")[1]
    return parts[4] == principal.arn.split(":")[4] and role_name == principal.name
