"""Access keys for an IAM-user principal, made out of band: issue, rotate (proven first), revoke.

Keys are created with boto3 and the operator's credentials, never by Terraform: a key Terraform makes
sits in its state file in plain text. The secret goes to the application's `.env` file (0600, see
`dotenv.py`) and nowhere else: not to a log, an error, a repr or the output (unless asked).

A principal of kind `role` has no keys: the application assumes the role (an ECS task role, an EC2
instance profile, a Lambda execution role, or `sts:AssumeRole` by someone in `assume_role_arns`) and
the SDK finds the short-lived credentials itself. That is the better choice wherever the app runs in AWS.

Rotation makes the new key, proves it with the health probes (`toolkit.health.run_health` with the
new key: its STS identity, object round trips, presigned POST, table items), and only then swaps the
.env file and deactivates and deletes the old key. If the proof fails, the new key is deleted and the
old key and the .env file are left exactly as they were. On an endpoint that accepts any signature (an
emulator without IAM enforcement) nothing can prove a key: the rotation goes ahead once the probes ran
and the key is shown to be the user's, and says the proof was not verifiable instead of "passed".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cargohold_core import aws
from cargohold_core.config.model import Bucket, Environment, Principal
from cargohold_core.errors import CargoholdError
from toolkit.credentials import dotenv
from toolkit.credentials.dotenv import DotenvWrite
from toolkit.findings import Report, Status
from toolkit.health import checks
from toolkit.health.credentials import ACCESS_KEY_VAR, SECRET_KEY_VAR, PrincipalCredentials

MAX_KEYS = 2  # AWS allows two access keys per IAM user
PROOF_TIMEOUT_S = 30.0  # a new IAM key can take a few seconds to work everywhere (eventual consistency)
# What the new key must pass: it is the principal's, and it can do the principal's job. Least privilege
# and the POST-policy check judge the policy and the bucket, not the key, so they do not block a rotation.
PROOF_CHECKS = (checks.PRINCIPAL_CREDENTIALS, checks.PRESIGNED_PUT, checks.PRESIGNED_POST, checks.TABLE_PROBE)
# Failures that a key too new to have propagated produces; anything else is final at once.
_PROPAGATING = {"invalid-access-key", "signature-mismatch"}
# A probe that went through on an endpoint that accepts any signature (an emulator without IAM
# enforcement): it cannot prove the key, nor can anything else there, so it does not block a rotation
# there; the outcome says the proof was not verifiable instead of "passed".
_UNVERIFIABLE = "signature-not-checked"


class KeysError(CargoholdError):
    """An access key cannot be issued, rotated or revoked."""


class RoleNeedsNoKeys(KeysError):
    """The principal is a role: the application assumes it, with no long-lived keys."""


class RevokeRefused(KeysError):
    """A destructive command run without its confirmation flag."""

    exit_code = 3


class ProofFailed(KeysError):
    """The new key did not pass the health probes; the rotation was rolled back."""

    def __init__(self, message: str, *, hint: str | None, problems: list[ProofProblem]) -> None:
        super().__init__(message, hint=hint)
        self.problems = problems


@dataclass(frozen=True)
class KeyInfo:
    access_key_id: str
    status: str  # Active | Inactive
    created: str = ""

    @property
    def masked(self) -> str:
        return mask(self.access_key_id)

    def describe(self) -> str:
        return f"{self.masked} ({self.status}{', created ' + self.created if self.created else ''})"


@dataclass(frozen=True)
class ProofProblem:
    check: str
    resource: str
    status: str
    message: str
    diagnosis: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "resource": self.resource,
            "status": self.status,
            "message": self.message,
            "diagnosis": self.diagnosis,
        }


@dataclass(frozen=True)
class Proof:
    attempts: int
    problems: list[ProofProblem]
    unverified: list[ProofProblem] = field(default_factory=list)  # went through, but proves nothing there

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Outcome:
    """What a command did. Holds the new secret (for --show-secret), which no repr shows."""

    action: str  # issued | rotated | revoked
    environment: str
    principal: str
    user: str
    dotenv: Path
    variables: list[str]
    written: DotenvWrite | None = None
    key_id: str | None = None  # the new key (issue, rotate) or the revoked one
    secret: PrincipalCredentials | None = field(default=None, repr=False)
    old_key_id: str | None = None
    deleted_keys: list[str] = field(default_factory=list)
    proof_attempts: int = 0
    proof_unverified: str | None = None  # why the proof could not verify the key (an endpoint that checks nothing)
    notes: list[str] = field(default_factory=list)

    def to_json(self, *, show_secret: bool = False) -> dict[str, Any]:
        previous = self.written.previous_mode if self.written else None
        out: dict[str, Any] = {
            "action": self.action,
            "environment": self.environment,
            "principal": self.principal,
            "user": self.user,
            "key": mask(self.key_id) if self.key_id else None,
            "old_key": mask(self.old_key_id) if self.old_key_id else None,
            "deleted_keys": [mask(k) for k in self.deleted_keys],
            "dotenv": str(self.dotenv),
            "variables": self.variables,
            "file_created": bool(self.written and self.written.created),
            "file_removed": bool(self.written and self.written.removed),
            "fixed_mode": f"{previous:04o}" if previous is not None else None,  # the loose mode that was fixed
            "notes": self.notes,
        }
        if self.proof_attempts:
            out["proof_attempts"] = self.proof_attempts
            out["proof_verified"] = self.proof_unverified is None
            if self.proof_unverified:
                out["proof_unverified"] = self.proof_unverified
        if show_secret and self.secret is not None:
            out["secret"] = {
                "access_key_id": self.secret.access_key_id,
                "secret_access_key": self.secret.secret_access_key,
            }
        return out

    def lines(self) -> list[str]:
        where = f"{self.dotenv}"
        out: list[str] = []
        if self.action == "issued":
            out.append(f"issued access key {mask(self.key_id)} for IAM user {self.user} (principal '{self.principal}')")
        elif self.action == "rotated":
            tries = f" after {self.proof_attempts} attempts" if self.proof_attempts > 1 else ""
            proof = (
                f"the new key passed the health probes{tries}"
                if self.proof_unverified is None
                else f"the health probes ran with the new key{tries} but could not verify it: {self.proof_unverified}"
            )
            out.append(
                f"rotated IAM user {self.user}'s access key: {mask(self.old_key_id)} -> {mask(self.key_id)} ({proof})"
            )
        else:
            out.append(f"revoked access key {mask(self.key_id)} of IAM user {self.user} (deactivated, then deleted)")
        out += [f"deleted access key {mask(k)}" for k in self.deleted_keys if k not in (self.key_id, self.old_key_id)]
        if self.action == "rotated" and self.old_key_id:
            out.append(f"deactivated and deleted the old key {mask(self.old_key_id)}")
        if self.written is not None:
            names = ", ".join(self.variables)
            if self.written.removed:
                out.append(f"removed {where} (it held only {names})")
            elif self.action == "revoked":
                out.append(f"removed {names} from {where}; its other lines are unchanged")
            else:
                state = "created" if self.written.created else "updated"
                out.append(f"{state} {where} (mode 0600): {names}")
            if self.written.fixed_mode and self.written.previous_mode is not None:
                out.append(
                    f"fixed {where}'s permissions: it was {self.written.previous_mode:04o} (readable by other "
                    "users), now 0600"
                )
        out += self.notes
        return out


def mask(key_id: str | None) -> str:
    return f"...{key_id[-4:]}" if key_id and len(key_id) > 4 else "..."


# ------------------------------------------------------------------ principals and .env values


def user_principal(env: Environment, key: str) -> Principal:
    """The principal named `key`, which must be an IAM user (a role has no keys: the error says why)."""
    principal = env.principal(key)
    if principal.spec.kind == "role":
        raise RoleNeedsNoKeys(
            f"principal '{key}' is an IAM role ({principal.arn}): a role has no access keys; the application "
            "assumes it and gets short-lived credentials that renew themselves",
            hint=role_guidance(principal),
        )
    return principal


def role_guidance(principal: Principal) -> str:
    services = ", ".join(principal.spec.assume_role_services) or "none yet"
    how = "a profile with role_arn, or AWS_ROLE_ARN"
    if principal.spec.assume_role_external_id is not None:
        # AWS_ROLE_ARN (web identity) passes no external id; a profile's external_id does
        how = "a profile with role_arn and external_id: the role's trust asks for its assume_role_external_id"
    return (
        f"on ECS set the task definition's taskRoleArn to {principal.arn}; on EC2 attach it through an instance "
        "profile; on Lambda make it the execution role (the service must be in the role's "
        f"assume_role_services: {services}). Outside AWS, list the caller in principals.{principal.key}."
        f"assume_role_arns and let the SDK assume it ({how}). Put no keys in "
        ".env: the SDK's default credential chain finds the role's credentials"
    )


def plain_values(env: Environment, principal: Principal) -> dict[str, str | None]:
    """The non-secret variables for the principal's .env: the region and its bucket's name."""
    names = principal.spec.dotenv  # distinct, and bucket_key a declared bucket: config.yaml's rules say so
    values: dict[str, str | None] = {}
    if names.region:
        values[names.region] = env.region
    bucket = app_bucket(env, principal)
    if names.bucket and bucket is not None:
        values[names.bucket] = bucket.name
    return values


def app_bucket(env: Environment, principal: Principal) -> Bucket | None:
    """`dotenv.bucket_key`, else the first bucket the principal has a grant on (None: no bucket grant)."""
    wanted = principal.spec.dotenv.bucket_key
    if wanted is not None:
        return env.buckets[wanted]
    for grant in principal.spec.grants:
        if grant.bucket is not None and grant.bucket in env.buckets:
            return env.buckets[grant.bucket]
    return None


def key_values(principal: Principal, creds: PrincipalCredentials) -> dict[str, str | None]:
    names = principal.spec.dotenv
    return {names.access_key_id: creds.access_key_id, names.secret_access_key: creds.secret_access_key}


def our_variables(principal: Principal) -> list[str]:
    names = principal.spec.dotenv
    return [n for n in (names.access_key_id, names.secret_access_key, names.region, names.bucket) if n]


# ------------------------------------------------------------------ IAM calls


def _iam_call(action: str, call: Callable[..., Any], /, **params: Any) -> Any:
    try:
        return call(**params)
    except (ClientError, BotoCoreError) as exc:
        error = aws.explain(exc, action=action)
        code = aws.error_code(exc) if isinstance(exc, ClientError) else None
        if code == "NoSuchEntity" and "UserName" in params and "AccessKeyId" not in params:
            error.hint = f"the IAM user {params['UserName']} does not exist: deploy it first (`cargohold apply`)"
        elif code == "LimitExceeded":
            error.hint = "the user already has 2 access keys (the AWS limit): revoke one it no longer uses"
        elif code == "AccessDenied":
            error.hint = (
                f"your credentials (the operator's) need {action} on the user: iam:ListAccessKeys, "
                "iam:CreateAccessKey, iam:UpdateAccessKey and iam:DeleteAccessKey"
            )
        raise error from None


def list_keys(iam: Any, principal: Principal) -> list[KeyInfo]:
    answer = _iam_call("iam:ListAccessKeys", iam.list_access_keys, UserName=principal.name)
    return [
        KeyInfo(
            access_key_id=str(k["AccessKeyId"]),
            status=str(k.get("Status", "")),
            created=k["CreateDate"].strftime("%Y-%m-%d") if hasattr(k.get("CreateDate"), "strftime") else "",
        )
        for k in answer.get("AccessKeyMetadata", [])
    ]


def create_key(iam: Any, principal: Principal) -> PrincipalCredentials:
    answer = _iam_call("iam:CreateAccessKey", iam.create_access_key, UserName=principal.name)["AccessKey"]
    return PrincipalCredentials(
        access_key_id=str(answer["AccessKeyId"]),
        secret_access_key=str(answer["SecretAccessKey"]),
        source=f"new key of IAM user {principal.name}",
    )


def deactivate_and_delete(iam: Any, principal: Principal, key_id: str) -> None:
    """Inactive first (a key that fails to delete is at least refused), then gone."""
    _iam_call(
        "iam:UpdateAccessKey", iam.update_access_key, UserName=principal.name, AccessKeyId=key_id, Status="Inactive"
    )
    _iam_call("iam:DeleteAccessKey", iam.delete_access_key, UserName=principal.name, AccessKeyId=key_id)


def _discard(iam: Any, principal: Principal, key_id: str) -> str | None:
    """Delete a key just made, after a later step failed; a note when even that fails."""
    try:
        deactivate_and_delete(iam, principal, key_id)
    except CargoholdError as exc:
        return (
            f"the new key {mask(key_id)} could not be deleted ({exc.message}): delete it with "
            f"`aws iam delete-access-key --user-name {principal.name} --access-key-id {key_id}`"
        )
    return None


def _key_listing(keys: list[KeyInfo]) -> str:
    return ", ".join(k.describe() for k in keys)


# ------------------------------------------------------------------ issue


def issue(env: Environment, principal_key: str, *, path: Path) -> Outcome:
    """Create an access key for the principal (an IAM user) and write it to the .env file at `path`."""
    principal = user_principal(env, principal_key)
    plain = plain_values(env, principal)
    _check_folder(path)
    names = principal.spec.dotenv
    in_file = dotenv.read_values(path).get(names.access_key_id)
    iam = aws.client(env, "iam")
    keys = list_keys(iam, principal)
    if in_file and any(k.access_key_id == in_file for k in keys):
        raise KeysError(
            f"{path} already holds access key {mask(in_file)} of IAM user {principal.name}",
            hint=f"rotate it instead: `cargohold credentials rotate --env {env.name} --principal {principal_key} "
            f"--dotenv {path}` (or revoke it first)",
        )
    if len(keys) >= MAX_KEYS:
        raise KeysError(
            f"IAM user {principal.name} already has {len(keys)} access keys (the most AWS allows): "
            + _key_listing(keys),
            hint=f"rotate the key the application uses (`cargohold credentials rotate --env {env.name} "
            f"--principal {principal_key} --dotenv FILE`), or revoke one nothing uses "
            f"(`cargohold credentials revoke --env {env.name} --principal {principal_key} --key-id ID --yes`)",
        )
    creds = create_key(iam, principal)
    try:
        written = dotenv.update(path, {**key_values(principal, creds), **plain})
    except BaseException as exc:
        note = _discard(iam, principal, creds.access_key_id)
        if isinstance(exc, CargoholdError):
            raise KeysError(
                f"{exc.message}; the new key {mask(creds.access_key_id)} was deleted again"
                if note is None
                else f"{exc.message}; {note}",
                hint=exc.hint,
            ) from None
        raise
    return Outcome(
        action="issued",
        environment=env.name,
        principal=principal_key,
        user=principal.name,
        dotenv=path,
        variables=[*key_values(principal, creds), *plain],
        written=written,
        key_id=creds.access_key_id,
        secret=creds,
    )


def _check_folder(path: Path) -> None:
    folder = path.parent
    if not folder.is_dir():
        raise KeysError(
            f"cannot write {path}: the folder {folder} does not exist",
            hint="pass --dotenv with a path in an existing folder",
        )
    if path.is_dir():
        raise KeysError(f"{path} is a folder, not a .env file", hint="pass --dotenv with a file path")


# ------------------------------------------------------------------ rotate


def rotate(
    env: Environment,
    principal_key: str,
    *,
    project: str,
    path: Path,
    delete_inactive: bool = False,
    proof_timeout: float = PROOF_TIMEOUT_S,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Replace the principal's key: new key, proven by the health probes, .env swapped, old key deleted."""
    principal = user_principal(env, principal_key)
    plain = plain_values(env, principal)
    _check_folder(path)
    names = principal.spec.dotenv
    in_file = dotenv.read_values(path).get(names.access_key_id)
    iam = aws.client(env, "iam")
    keys = list_keys(iam, principal)
    current = _current_key(env, principal, keys, in_file=in_file, path=path)
    deleted: list[str] = []
    if len(keys) >= MAX_KEYS:
        other = next(k for k in keys if k.access_key_id != current.access_key_id)
        if other.status == "Active":
            raise KeysError(
                f"IAM user {principal.name} has 2 access keys, the most AWS allows, and both are active: "
                f"{current.masked} (the one to rotate) and {other.masked}, which something else may use",
                hint=f"if nothing uses {other.masked}, revoke it (`cargohold credentials revoke --env {env.name} "
                f"--principal {principal_key} --key-id {other.access_key_id} --yes`), then rotate again",
            )
        if not delete_inactive:
            raise KeysError(
                f"IAM user {principal.name} has 2 access keys, the most AWS allows: {current.masked} (the one to "
                f"rotate) and {other.describe()}, so there is no room for the new key",
                hint="pass --delete-inactive to delete the inactive key first (AWS already refuses it, so nothing "
                "can be using it)",
            )
        deactivate_and_delete(iam, principal, other.access_key_id)
        deleted.append(other.access_key_id)
    new = create_key(iam, principal)
    try:
        proof = prove(
            env,
            project=project,
            principal=principal,
            creds=new,
            folder=path.parent,
            timeout=proof_timeout,
            sleep=sleep,
        )
        if not proof.ok:
            raise _proof_failed(env, principal, proof, old=current, new=new, path=path)
        written = dotenv.update(path, {**key_values(principal, new), **plain})
    except BaseException as exc:
        note = _discard(iam, principal, new.access_key_id)
        if isinstance(exc, CargoholdError):
            undone = (
                f"the new key {mask(new.access_key_id)} was deleted; {current.masked} and {path} are unchanged"
                if note is None
                else note
            )
            if isinstance(exc, ProofFailed):
                raise ProofFailed(f"{exc.message}\n{undone}", hint=exc.hint, problems=exc.problems) from None
            raise KeysError(f"{exc.message}; {undone}", hint=exc.hint) from None
        raise
    try:
        deactivate_and_delete(iam, principal, current.access_key_id)
    except CargoholdError as exc:
        raise KeysError(
            f"the new key {mask(new.access_key_id)} works and is in {path}, but the old key {current.masked} could "
            f"not be removed: {exc.message}",
            hint=f"revoke it: `cargohold credentials revoke --env {env.name} --principal {principal_key} "
            f"--key-id {current.access_key_id} --yes` ({exc.hint or 'check your IAM permissions'})",
        ) from None
    return Outcome(
        action="rotated",
        environment=env.name,
        principal=principal_key,
        user=principal.name,
        dotenv=path,
        variables=[*key_values(principal, new), *plain],
        written=written,
        key_id=new.access_key_id,
        secret=new,
        old_key_id=current.access_key_id,
        deleted_keys=deleted,
        proof_attempts=proof.attempts,
        proof_unverified=unverified_reason(env, proof),
        notes=[] if in_file else [f"{path} did not hold the key; rotated the user's only active key"],
    )


def _current_key(
    env: Environment, principal: Principal, keys: list[KeyInfo], *, in_file: str | None, path: Path
) -> KeyInfo:
    """The key to rotate: the one in the .env file, else the user's only active key."""
    if in_file:
        for key in keys:
            if key.access_key_id == in_file:
                return key
        raise KeysError(
            f"{path} holds access key {mask(in_file)}, which is not a key of IAM user {principal.name} "
            f"(its keys: {_key_listing(keys) or 'none'})",
            hint="check --principal and --dotenv; if the key was deleted, issue a new one with "
            f"`cargohold credentials issue --env {env.name} --principal {principal.key} --dotenv {path}`",
        )
    active = [k for k in keys if k.status == "Active"]
    if len(active) == 1:
        return active[0]
    if not active:
        raise KeysError(
            f"IAM user {principal.name} has no active access key to rotate",
            hint=f"issue one: `cargohold credentials issue --env {env.name} --principal {principal.key} "
            f"--dotenv {path}`",
        )
    raise KeysError(
        f"IAM user {principal.name} has two active keys ({_key_listing(active)}) and {path} names neither",
        hint="pass --dotenv with the .env file that holds the key to rotate",
    )


def prove(
    env: Environment,
    *,
    project: str,
    principal: Principal,
    creds: PrincipalCredentials,
    folder: Path,
    timeout: float = PROOF_TIMEOUT_S,
    sleep: Callable[[float], None] = time.sleep,
) -> Proof:
    """Run the health probes with `creds` (from a private temporary .env) until they pass.

    Retries with backoff (1, 2, 4, 8 s) while the failures look like a key AWS has not propagated yet
    (unknown key, signature mismatch), up to `timeout` seconds; any other failure is final at once.
    """
    from toolkit.health.run import run_health  # health imports much; only rotation needs it

    text = f"{ACCESS_KEY_VAR}={creds.access_key_id}\n{SECRET_KEY_VAR}={creds.secret_access_key}\n"
    proof_file = dotenv.write_private(folder, text, prefix=".cargohold-proof-")
    try:
        deadline = time.monotonic() + timeout
        delay = 1.0
        attempts = 0
        while True:
            attempts += 1
            report = run_health(env, project=project, principal=principal.key, credentials=proof_file)
            problems = proof_problems(report)
            if not problems or not propagating(problems) or time.monotonic() + delay > deadline:
                return Proof(attempts=attempts, problems=problems, unverified=proof_unverified(report))
            sleep(delay)
            delay = min(delay * 2, 8.0)
    finally:
        proof_file.unlink(missing_ok=True)


def _proof_findings(report: Report) -> list[ProofProblem]:
    """The proof checks' findings that did not pass."""
    wanted = {c.id for c in PROOF_CHECKS}
    return [
        ProofProblem(
            check=f.check.id,
            resource=f.resource,
            status=f.status.value,
            message=f.message,
            diagnosis=f.details.get("diagnosis") if isinstance(f.details, Mapping) else None,
        )
        for f in report.findings
        if f.check.id in wanted and f.status is not Status.PASS
    ]


def proof_unverified(report: Report) -> list[ProofProblem]:
    """The proof checks that went through where any signature is accepted: no proof either way."""
    return [p for p in _proof_findings(report) if p.diagnosis == _UNVERIFIABLE]


def unverified_reason(env: Environment, proof: Proof) -> str | None:
    if not proof.unverified:
        return None
    names = ", ".join(sorted({p.check for p in proof.unverified}))
    return (
        f"{env.endpoint or 'the endpoint'} accepts any signature, even a made-up key's ({names} not verifiable "
        "there), so only that the key is the user's was shown"
    )


def proof_problems(report: Report) -> list[ProofProblem]:
    """The proof checks that did not pass, but for those no endpoint could verify here (`proof_unverified`);
    a missing credentials verdict is a problem too."""
    problems = [p for p in _proof_findings(report) if p.diagnosis != _UNVERIFIABLE]
    credentials_passed = any(
        f.check.id == checks.PRINCIPAL_CREDENTIALS.id
        and (
            f.status is Status.PASS or (isinstance(f.details, Mapping) and f.details.get("diagnosis") == _UNVERIFIABLE)
        )
        for f in report.findings
    )
    if not credentials_passed and not any(p.check == checks.PRINCIPAL_CREDENTIALS.id for p in problems):
        # The probes never ran with the new key (the operator's credentials failed, most likely).
        reasons = [f.message for f in report.findings if f.status is not Status.PASS][:3]
        problems.insert(
            0,
            ProofProblem(
                check=checks.PRINCIPAL_CREDENTIALS.id,
                resource="account",
                status=Status.ERROR.value,
                message="the probes did not run with the new key: " + ("; ".join(reasons) or "no reason given"),
            ),
        )
    return problems


def propagating(problems: list[ProofProblem]) -> bool:
    return any(p.diagnosis in _PROPAGATING for p in problems)


def _proof_failed(
    env: Environment, principal: Principal, proof: Proof, *, old: KeyInfo, new: PrincipalCredentials, path: Path
) -> ProofFailed:
    tried = f" ({proof.attempts} attempts)" if proof.attempts > 1 else ""
    lines = [f"the new key {mask(new.access_key_id)} failed the health probes{tried}:"]
    lines += [f"  {p.check} [{p.status}] {p.resource}: {p.message}" for p in proof.problems]
    return ProofFailed(
        "\n".join(lines),
        hint=f"fix what the probes report (run `cargohold health --env {env.name} --principal {principal.key} "
        f"--credentials {path}` to see it with the current key {old.masked}), then rotate again",
        problems=proof.problems,
    )


# ------------------------------------------------------------------ revoke


def revoke(env: Environment, principal_key: str, *, path: Path, key_id: str | None = None) -> Outcome:
    """Deactivate then delete a key (the one in the .env file, or `key_id`), and take it out of the file."""
    principal = user_principal(env, principal_key)
    names = principal.spec.dotenv
    in_file = dotenv.read_values(path).get(names.access_key_id)
    target = key_id or in_file
    if not target:
        raise KeysError(
            f"no key to revoke: {path} has no {names.access_key_id} and no --key-id was given",
            hint="pass --dotenv with the application's .env file, or --key-id with the access key id",
        )
    iam = aws.client(env, "iam")
    keys = list_keys(iam, principal)
    if not any(k.access_key_id == target for k in keys):
        raise KeysError(
            f"access key {mask(target)} is not a key of IAM user {principal.name} "
            f"(its keys: {_key_listing(keys) or 'none'})",
            hint="check --principal and --key-id/--dotenv; a deleted key needs no revoking (remove its lines from "
            "the .env file by hand)",
        )
    deactivate_and_delete(iam, principal, target)
    written = None
    notes: list[str] = []
    variables: list[str] = []
    if in_file == target:
        variables = our_variables(principal)
        written = dotenv.update(path, dict.fromkeys(variables))
    elif in_file:
        notes.append(f"{path} holds another key ({mask(in_file)}): left unchanged")
    return Outcome(
        action="revoked",
        environment=env.name,
        principal=principal_key,
        user=principal.name,
        dotenv=path,
        variables=variables,
        written=written,
        key_id=target,
        notes=notes,
    )
