"""Handlers for the iam resource types (see base.py for the contract).

Ids and import ids, as the real provider documents them:

- aws_iam_user, aws_iam_group, aws_iam_role: the name (import: the name).
- aws_iam_policy: the ARN (import: the ARN).
- aws_iam_role_policy: `role:name` (import: the same).
- aws_iam_group_policy_attachment / aws_iam_role_policy_attachment: `<group|role>-<unique suffix>` when
  created, `<group|role>-<policy arn>` when imported (import: `<group|role>/<policy arn>`).
- aws_iam_user_group_membership: `terraform-<unique suffix>` (import: `user/group1/group2`).

The provider schema carries no defaults, so for `path` ("/") and `max_session_duration` (3600) a
read reports None while the prior state holds None and the emulator holds the default.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from cargohold_core.aws import tag_dict
from toolkit.tfprovider.resources.base import Api, Handler, ResourceError, State, aws_failure, error_code

_GONE = ("NoSuchEntity", "NoSuchEntityException")


def _gone(exc: Exception) -> bool:
    return isinstance(exc, ClientError) and error_code(exc) in _GONE


@contextmanager
def _aws(action: str) -> Iterator[None]:
    """Turn a failed IAM call into the error diagnostic Terraform shows."""
    try:
        yield
    except ClientError as exc:
        raise aws_failure(action, exc) from exc


def _ignore_gone(call: Callable[..., Any], **kwargs: Any) -> None:
    try:
        call(**kwargs)
    except ClientError as exc:
        if not _gone(exc):
            raise


def _unique_suffix() -> str:
    # Like the SDK's id.UniqueId(): a timestamp and a counter-like tail.
    return time.strftime("%Y%m%d%H%M%S", time.gmtime()) + uuid.uuid4().hex[:12]


def _pages(api: Api, operation: str, key: str, **kwargs: Any) -> list[Any]:
    out: list[Any] = []
    for page in api.iam.get_paginator(operation).paginate(**kwargs):
        out.extend(page.get(key, []))
    return out


# --- tags


def _tag_list(tags: Mapping[str, str] | None) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in (tags or {}).items()]


def _read_tags(api: Api, live: Iterable[Mapping[str, str]] | None) -> State:
    tags_all = tag_dict(live)
    return {"tags_all": tags_all, "tags": api.tags_for(tags_all)}


def _retag(
    prior: State, planned: State, tag: Callable[[list[dict[str, str]]], Any], untag: Callable[[list[str]], Any]
) -> None:
    old: dict[str, str] = prior.get("tags_all") or {}
    new: dict[str, str] = planned.get("tags_all") or {}
    gone = [k for k in old if k not in new]
    if gone:
        untag(gone)
    changed = {k: v for k, v in new.items() if old.get(k) != v}
    if changed:
        tag(_tag_list(changed))


# --- defaults the schema does not carry


def _optional_str(state: State, key: str, live: str | None) -> str | None:
    """A string IAM drops (or answers "") when unset: None unless the prior state wrote ""."""
    if live:
        return live
    return "" if state.get(key) == "" else None


# --- JSON policy documents


def _parse_doc(value: Any) -> Any:
    """A policy document as data: boto3 hands back dicts, IAM (and moto) may send URL-encoded text."""
    if not isinstance(value, str):
        return value
    for text in (value, unquote(value)):
        try:
            return json.loads(text)
        except ValueError:
            continue
    return value


_SET_KEYS = {"Action", "NotAction", "Resource", "NotResource"}


def _normal(value: Any, key: str = "") -> Any:
    """Order within lists of strings and of the statements does not matter to IAM."""
    if isinstance(value, dict):
        return {k: _normal(v, k) for k, v in value.items()}
    if isinstance(value, list):
        items = [_normal(v) for v in value]
        if key == "Statement" or all(isinstance(v, str) for v in items):
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
        return items
    return value


def _normal_doc(doc: Any) -> Any:
    """A document in the form IAM compares: one string equals a list of that one string."""
    doc = _parse_doc(doc)
    if not isinstance(doc, dict):
        return doc
    statements = doc.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    out = dict(doc)
    if isinstance(statements, list):
        fixed = []
        for s in statements:
            if not isinstance(s, dict):
                fixed.append(s)
                continue
            s = dict(s)
            for k in _SET_KEYS:
                if isinstance(s.get(k), str):
                    s[k] = [s[k]]
            for k in ("Principal", "NotPrincipal"):
                if isinstance(s.get(k), dict):
                    s[k] = {p: [v] if isinstance(v, str) else v for p, v in s[k].items()}
            if isinstance(s.get("Condition"), dict):
                s["Condition"] = {
                    op: {c: [v] if isinstance(v, str) else v for c, v in (body or {}).items()}
                    for op, body in s["Condition"].items()
                }
            fixed.append(s)
        out["Statement"] = fixed
    return _normal(out)


def _doc_for_state(prior: str | None, live: Any) -> str | None:
    """The prior document when the live one means the same, else the live one as JSON text."""
    if live is None:
        return None
    if isinstance(prior, str) and _normal_doc(prior) == _normal_doc(live):
        return prior
    parsed = _parse_doc(live)
    if isinstance(parsed, str):
        return parsed
    return json.dumps(parsed, separators=(",", ":"))


# --- permissions boundaries: moto neither stores nor serves a *user's* boundary

_USER_BOUNDARY_SUPPORT: dict[str, bool] = {}


def _user_boundaries_supported(api: Api) -> bool:
    endpoint = api.endpoints.get("iam", "")
    if endpoint not in _USER_BOUNDARY_SUPPORT:
        try:
            api.iam.put_user_permissions_boundary(
                UserName=f"tfprovider-probe-{uuid.uuid4().hex[:8]}",
                PermissionsBoundary=f"arn:aws:iam::{api.account_id}:policy/tfprovider-probe",
            )
            supported = True
        except ClientError:
            supported = True  # NoSuchEntity: the API exists
        except (BotoCoreError, ResponseParserError):
            supported = False  # moto: PutUserPermissionsBoundary answers HTTP 500 (not implemented)
        _USER_BOUNDARY_SUPPORT[endpoint] = supported
    return _USER_BOUNDARY_SUPPORT[endpoint]


def _boundary(live: Mapping[str, Any]) -> str | None:
    value = (live.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    return str(value) if value else None


# --- aws_iam_user


def _user_create(api: Api, planned: State) -> State:
    name = planned["name"]
    args: dict[str, Any] = {"UserName": name, "Path": planned.get("path") or "/"}
    if planned.get("permissions_boundary"):
        args["PermissionsBoundary"] = planned["permissions_boundary"]
    if planned.get("tags_all"):
        args["Tags"] = _tag_list(planned["tags_all"])
    with _aws(f"creating IAM user {name}"):
        live = api.iam.create_user(**args)["User"]
    return {
        **planned,
        "id": name,
        "arn": live["Arn"],
        "unique_id": live["UserId"],
        "tags_all": dict(planned.get("tags_all") or {}),
    }


def _user_read(api: Api, state: State) -> State | None:
    name = state.get("name") or state["id"]
    try:
        live = api.iam.get_user(UserName=name)["User"]
    except ClientError as exc:
        if _gone(exc):
            return None
        raise
    boundary = _boundary(live)
    prior_boundary = state.get("permissions_boundary")
    if boundary is None and prior_boundary and not _user_boundaries_supported(api):
        boundary = prior_boundary  # moto drops a user's boundary: keep what was set
    return {
        "id": live["UserName"],
        "name": live["UserName"],
        "path": live.get("Path", "/"),
        "permissions_boundary": boundary,
        "arn": live["Arn"],
        "unique_id": live["UserId"],
        **_read_tags(api, live.get("Tags")),
    }


def _user_update(api: Api, prior: State, planned: State) -> State:
    old, new = prior["name"], planned["name"]
    path = planned.get("path") or "/"
    with _aws(f"updating IAM user {old}"):
        if old != new or (prior.get("path") or "/") != path:
            api.iam.update_user(UserName=old, NewUserName=new, NewPath=path)
        if prior.get("permissions_boundary") != planned.get("permissions_boundary") and _user_boundaries_supported(api):
            if planned.get("permissions_boundary"):
                api.iam.put_user_permissions_boundary(UserName=new, PermissionsBoundary=planned["permissions_boundary"])
            else:
                _ignore_gone(api.iam.delete_user_permissions_boundary, UserName=new)
        _retag(
            prior,
            planned,
            lambda tags: api.iam.tag_user(UserName=new, Tags=tags),
            lambda keys: api.iam.untag_user(UserName=new, TagKeys=keys),
        )
        live = api.iam.get_user(UserName=new)["User"]
    return {
        **planned,
        "id": new,
        "arn": live["Arn"],
        "unique_id": live["UserId"],
        "tags_all": dict(planned.get("tags_all") or {}),
    }


def _user_force_destroy(api: Api, name: str) -> None:
    iam = api.iam
    for key in _pages(api, "list_access_keys", "AccessKeyMetadata", UserName=name):
        _ignore_gone(iam.delete_access_key, UserName=name, AccessKeyId=key["AccessKeyId"])
    _ignore_gone(iam.delete_login_profile, UserName=name)
    for key in iam.list_ssh_public_keys(UserName=name).get("SSHPublicKeys", []):
        _ignore_gone(iam.delete_ssh_public_key, UserName=name, SSHPublicKeyId=key["SSHPublicKeyId"])
    for cert in iam.list_signing_certificates(UserName=name).get("Certificates", []):
        _ignore_gone(iam.delete_signing_certificate, UserName=name, CertificateId=cert["CertificateId"])
    for device in iam.list_mfa_devices(UserName=name).get("MFADevices", []):
        _ignore_gone(iam.deactivate_mfa_device, UserName=name, SerialNumber=device["SerialNumber"])
    for policy in _pages(api, "list_user_policies", "PolicyNames", UserName=name):
        _ignore_gone(iam.delete_user_policy, UserName=name, PolicyName=policy)
    for attached in _pages(api, "list_attached_user_policies", "AttachedPolicies", UserName=name):
        _ignore_gone(iam.detach_user_policy, UserName=name, PolicyArn=attached["PolicyArn"])


def _user_delete(api: Api, state: State) -> None:
    name = state.get("name") or state["id"]
    with _aws(f"deleting IAM user {name}"):
        try:
            # The real provider always takes the user out of its groups, and removes keys,
            # profiles and policies only with force_destroy.
            for group in _pages(api, "list_groups_for_user", "Groups", UserName=name):
                _ignore_gone(api.iam.remove_user_from_group, GroupName=group["GroupName"], UserName=name)
            if state.get("force_destroy"):
                _user_force_destroy(api, name)
            api.iam.delete_user(UserName=name)
        except ClientError as exc:
            if not _gone(exc):
                raise


USER = Handler(
    type_name="aws_iam_user",
    create=_user_create,
    read=_user_read,
    update=_user_update,
    delete=_user_delete,
    import_state=lambda api, import_id: {"id": import_id, "name": import_id},
    replace_on=frozenset(),
    defaults={"path": "/", "force_destroy": False},
)


# --- aws_iam_group


def _group_state(live: Mapping[str, Any]) -> State:
    return {"id": live["GroupName"], "name": live["GroupName"], "arn": live["Arn"], "unique_id": live["GroupId"]}


def _group_create(api: Api, planned: State) -> State:
    name = planned["name"]
    with _aws(f"creating IAM group {name}"):
        live = api.iam.create_group(GroupName=name, Path=planned.get("path") or "/")["Group"]
    return {**planned, **_group_state(live)}


def _group_read(api: Api, state: State) -> State | None:
    name = state.get("name") or state["id"]
    try:
        live = api.iam.get_group(GroupName=name, MaxItems=1)["Group"]
    except ClientError as exc:
        if _gone(exc):
            return None
        raise
    return {**_group_state(live), "path": live.get("Path", "/")}


def _group_update(api: Api, prior: State, planned: State) -> State:
    old, new = prior["name"], planned["name"]
    path = planned.get("path") or "/"
    with _aws(f"updating IAM group {old}"):
        if old != new:
            api.iam.update_group(GroupName=old, NewGroupName=new, NewPath=path)
        else:
            api.iam.update_group(GroupName=old, NewPath=path)
        live = api.iam.get_group(GroupName=new, MaxItems=1)["Group"]
        if live.get("Path") != path:
            # moto only changes a group's path along with its name: rename away and back.
            spare = f"{new[:50]}-{uuid.uuid4().hex[:8]}"
            api.iam.update_group(GroupName=new, NewGroupName=spare, NewPath=path)
            api.iam.update_group(GroupName=spare, NewGroupName=new, NewPath=path)
            live = api.iam.get_group(GroupName=new, MaxItems=1)["Group"]
    return {**planned, **_group_state(live)}


def _group_delete(api: Api, state: State) -> None:
    name = state.get("name") or state["id"]
    with _aws(f"deleting IAM group {name}"):
        _ignore_gone(api.iam.delete_group, GroupName=name)


GROUP = Handler(
    type_name="aws_iam_group",
    create=_group_create,
    read=_group_read,
    update=_group_update,
    delete=_group_delete,
    import_state=lambda api, import_id: {"id": import_id, "name": import_id},
    replace_on=frozenset(),
    defaults={"path": "/"},
)


# --- aws_iam_group_policy_attachment / aws_iam_role_policy_attachment


def _attachment_handler(type_name: str, kind: str) -> Handler:
    """`kind` is "group" or "role": the argument naming the principal."""
    Kind = kind.capitalize()

    def create(api: Api, planned: State) -> State:
        who, arn = planned[kind], planned["policy_arn"]
        with _aws(f"attaching IAM policy {arn} to {kind} {who}"):
            getattr(api.iam, f"attach_{kind}_policy")(**{f"{Kind}Name": who, "PolicyArn": arn})
        return {**planned, "id": f"{who}-{_unique_suffix()}"}

    def read(api: Api, state: State) -> State | None:
        who, arn = state[kind], state["policy_arn"]
        try:
            attached = _pages(api, f"list_attached_{kind}_policies", "AttachedPolicies", **{f"{Kind}Name": who})
        except ClientError as exc:
            if _gone(exc):
                return None
            raise
        if arn not in [a["PolicyArn"] for a in attached]:
            return None
        return {"id": state["id"], kind: who, "policy_arn": arn}

    def delete(api: Api, state: State) -> None:
        who, arn = state[kind], state["policy_arn"]
        with _aws(f"detaching IAM policy {arn} from {kind} {who}"):
            _ignore_gone(getattr(api.iam, f"detach_{kind}_policy"), **{f"{Kind}Name": who, "PolicyArn": arn})

    def import_state(api: Api, import_id: str) -> State | None:
        who, sep, arn = import_id.partition("/")
        if not sep or not who or not arn.startswith("arn:"):
            raise ResourceError(
                f"unexpected import id {import_id!r} for {type_name}", f"write it as <{kind}-name>/<policy-arn>"
            )
        return {"id": f"{who}-{arn}", kind: who, "policy_arn": arn}

    return Handler(
        type_name=type_name,
        create=create,
        read=read,
        update=lambda api, prior, planned: {**planned, "id": prior["id"]},
        delete=delete,
        import_state=import_state,
        replace_on=frozenset({kind, "policy_arn"}),
    )


GROUP_POLICY_ATTACHMENT = _attachment_handler("aws_iam_group_policy_attachment", "group")
ROLE_POLICY_ATTACHMENT = _attachment_handler("aws_iam_role_policy_attachment", "role")


# --- aws_iam_policy


def _name_of(planned: State) -> str:
    name = planned.get("name")
    if name:
        return str(name)
    if planned.get("name_prefix"):
        return f"{planned['name_prefix']}{_unique_suffix()}"
    raise ResourceError("name or name_prefix is required")


def _policy_create(api: Api, planned: State) -> State:
    name = _name_of(planned)
    args: dict[str, Any] = {"PolicyName": name, "Path": planned.get("path") or "/", "PolicyDocument": planned["policy"]}
    if planned.get("description"):
        args["Description"] = planned["description"]
    if planned.get("tags_all"):
        args["Tags"] = _tag_list(planned["tags_all"])
    with _aws(f"creating IAM policy {name}"):
        live = api.iam.create_policy(**args)["Policy"]
    return {
        **planned,
        "id": live["Arn"],
        "arn": live["Arn"],
        "name": name,
        "policy_id": live["PolicyId"],
        "attachment_count": int(live.get("AttachmentCount", 0)),
        "tags_all": dict(planned.get("tags_all") or {}),
    }


def _policy_read(api: Api, state: State) -> State | None:
    arn = state.get("arn") or state["id"]
    try:
        live = api.iam.get_policy(PolicyArn=arn)["Policy"]
        version = api.iam.get_policy_version(PolicyArn=arn, VersionId=live["DefaultVersionId"])["PolicyVersion"]
    except ClientError as exc:
        if _gone(exc):
            return None
        raise
    return {
        "id": live["Arn"],
        "arn": live["Arn"],
        "name": live["PolicyName"],
        "path": live.get("Path", "/"),
        "description": _optional_str(state, "description", live.get("Description")),
        "policy": _doc_for_state(state.get("policy"), version.get("Document")),
        "policy_id": live["PolicyId"],
        "attachment_count": int(live.get("AttachmentCount", 0)),
        **_read_tags(api, live.get("Tags")),
    }


def _policy_new_version(api: Api, arn: str, document: str) -> None:
    # As the real provider: at IAM's limit of 5 versions, the oldest non-default one goes first.
    versions = _pages(api, "list_policy_versions", "Versions", PolicyArn=arn)
    if len(versions) >= 5:
        spare = sorted((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
        if spare:
            api.iam.delete_policy_version(PolicyArn=arn, VersionId=spare[0]["VersionId"])
    api.iam.create_policy_version(PolicyArn=arn, PolicyDocument=document, SetAsDefault=True)


def _policy_update(api: Api, prior: State, planned: State) -> State:
    arn = prior["arn"]
    with _aws(f"updating IAM policy {arn}"):
        if _normal_doc(prior.get("policy")) != _normal_doc(planned["policy"]):
            _policy_new_version(api, arn, planned["policy"])
        _retag(
            prior,
            planned,
            lambda tags: api.iam.tag_policy(PolicyArn=arn, Tags=tags),
            lambda keys: api.iam.untag_policy(PolicyArn=arn, TagKeys=keys),
        )
        live = api.iam.get_policy(PolicyArn=arn)["Policy"]
    return {
        **planned,
        "id": arn,
        "arn": arn,
        "name": live["PolicyName"],
        "policy_id": live["PolicyId"],
        "attachment_count": int(live.get("AttachmentCount", 0)),
        "tags_all": dict(planned.get("tags_all") or {}),
    }


def _policy_delete(api: Api, state: State) -> None:
    arn = state.get("arn") or state["id"]
    with _aws(f"deleting IAM policy {arn}"):
        try:
            for version in _pages(api, "list_policy_versions", "Versions", PolicyArn=arn):
                if not version["IsDefaultVersion"]:
                    _ignore_gone(api.iam.delete_policy_version, PolicyArn=arn, VersionId=version["VersionId"])
            api.iam.delete_policy(PolicyArn=arn)
        except ClientError as exc:
            if not _gone(exc):
                raise


POLICY = Handler(
    type_name="aws_iam_policy",
    create=_policy_create,
    read=_policy_read,
    update=_policy_update,
    delete=_policy_delete,
    import_state=lambda api, import_id: {"id": import_id, "arn": import_id},
    replace_on=frozenset({"name", "name_prefix", "path", "description"}),
    defaults={"path": "/"},
)


# --- aws_iam_role


def _utc(value: Any) -> str:
    # The real provider writes RFC 3339 in UTC, seconds precision.
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def _role_computed(live: Mapping[str, Any]) -> State:
    return {
        "id": live["RoleName"],
        "name": live["RoleName"],
        "arn": live["Arn"],
        "unique_id": live["RoleId"],
        "create_date": _utc(live.get("CreateDate")),
    }


def _attached_role_policies(api: Api, name: str) -> list[str]:
    return sorted(a["PolicyArn"] for a in _pages(api, "list_attached_role_policies", "AttachedPolicies", RoleName=name))


def _role_create(api: Api, planned: State) -> State:
    name = _name_of(planned)
    args: dict[str, Any] = {
        "RoleName": name,
        "Path": planned.get("path") or "/",
        "AssumeRolePolicyDocument": planned["assume_role_policy"],
    }
    if planned.get("description"):
        args["Description"] = planned["description"]
    if planned.get("max_session_duration") is not None:
        args["MaxSessionDuration"] = int(planned["max_session_duration"])
    if planned.get("permissions_boundary"):
        args["PermissionsBoundary"] = planned["permissions_boundary"]
    if planned.get("tags_all"):
        args["Tags"] = _tag_list(planned["tags_all"])
    with _aws(f"creating IAM role {name}"):
        live = api.iam.create_role(**args)["Role"]
    return {
        **planned,
        **_role_computed(live),
        "managed_policy_arns": [],
        "tags_all": dict(planned.get("tags_all") or {}),
    }


def _role_read(api: Api, state: State) -> State | None:
    name = state.get("name") or state["id"]
    try:
        live = api.iam.get_role(RoleName=name)["Role"]
        managed = _attached_role_policies(api, name)
    except ClientError as exc:
        if _gone(exc):
            return None
        raise
    return {
        **_role_computed(live),
        "path": live.get("Path", "/"),
        "assume_role_policy": _doc_for_state(state.get("assume_role_policy"), live.get("AssumeRolePolicyDocument")),
        "description": _optional_str(state, "description", live.get("Description")),
        "max_session_duration": int(live.get("MaxSessionDuration", 3600)),
        "permissions_boundary": _boundary(live),
        # Computed: the real provider reports every attached managed policy here.
        "managed_policy_arns": managed,
        **_read_tags(api, live.get("Tags")),
    }


def _role_update(api: Api, prior: State, planned: State) -> State:
    name = prior["name"]
    iam = api.iam
    with _aws(f"updating IAM role {name}"):
        if _normal_doc(prior.get("assume_role_policy")) != _normal_doc(planned["assume_role_policy"]):
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=planned["assume_role_policy"])
        description = planned.get("description") or ""
        duration, was = planned.get("max_session_duration"), prior.get("max_session_duration")
        duration, was = (int(d) if d is not None else 3600 for d in (duration, was))
        if (prior.get("description") or "") != description or was != duration:
            # One call with both: moto's UpdateRole resets whichever of the two is left out.
            iam.update_role(RoleName=name, Description=description, MaxSessionDuration=duration)
        if prior.get("permissions_boundary") != planned.get("permissions_boundary"):
            if planned.get("permissions_boundary"):
                iam.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=planned["permissions_boundary"])
            else:
                _ignore_gone(iam.delete_role_permissions_boundary, RoleName=name)
        _retag(
            prior,
            planned,
            lambda tags: iam.tag_role(RoleName=name, Tags=tags),
            lambda keys: iam.untag_role(RoleName=name, TagKeys=keys),
        )
        live = iam.get_role(RoleName=name)["Role"]
        managed = _attached_role_policies(api, name)
    return {
        **planned,
        **_role_computed(live),
        "managed_policy_arns": managed,
        "tags_all": dict(planned.get("tags_all") or {}),
    }


def _role_delete(api: Api, state: State) -> None:
    name = state.get("name") or state["id"]
    iam = api.iam
    force = bool(state.get("force_detach_policies"))
    with _aws(f"deleting IAM role {name}"):
        try:
            # As the real provider: instance profile memberships always go; attached and inline
            # policies with force_detach_policies (or when the state lists them, as it does).
            for profile in _pages(api, "list_instance_profiles_for_role", "InstanceProfiles", RoleName=name):
                _ignore_gone(
                    iam.remove_role_from_instance_profile,
                    InstanceProfileName=profile["InstanceProfileName"],
                    RoleName=name,
                )
            if force or state.get("managed_policy_arns"):
                for arn in _attached_role_policies(api, name):
                    _ignore_gone(iam.detach_role_policy, RoleName=name, PolicyArn=arn)
            if force or state.get("inline_policy"):
                for policy in _pages(api, "list_role_policies", "PolicyNames", RoleName=name):
                    _ignore_gone(iam.delete_role_policy, RoleName=name, PolicyName=policy)
            iam.delete_role(RoleName=name)
        except ClientError as exc:
            if not _gone(exc):
                raise


ROLE = Handler(
    type_name="aws_iam_role",
    create=_role_create,
    read=_role_read,
    update=_role_update,
    delete=_role_delete,
    import_state=lambda api, import_id: {"id": import_id, "name": import_id},
    replace_on=frozenset({"name", "name_prefix", "path"}),
    defaults={"path": "/", "max_session_duration": 3600, "force_detach_policies": False},
)


# --- aws_iam_role_policy


def _role_policy_put(api: Api, planned: State) -> State:
    role = planned["role"]
    name = _name_of(planned)
    with _aws(f"putting IAM role policy {name} on role {role}"):
        api.iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=planned["policy"])
    return {**planned, "id": f"{role}:{name}", "name": name}


def _role_policy_read(api: Api, state: State) -> State | None:
    role, name = state.get("role"), state.get("name")
    if not role or not name:
        role, _, name = str(state["id"]).partition(":")
    try:
        live = api.iam.get_role_policy(RoleName=role, PolicyName=name)
    except ClientError as exc:
        if _gone(exc):
            return None
        raise
    return {
        "id": f"{live['RoleName']}:{live['PolicyName']}",
        "role": live["RoleName"],
        "name": live["PolicyName"],
        "policy": _doc_for_state(state.get("policy"), live.get("PolicyDocument")),
    }


def _role_policy_delete(api: Api, state: State) -> None:
    role, _, name = str(state["id"]).partition(":")
    with _aws(f"deleting IAM role policy {name} from role {role}"):
        _ignore_gone(
            api.iam.delete_role_policy, RoleName=state.get("role") or role, PolicyName=state.get("name") or name
        )


def _role_policy_import(api: Api, import_id: str) -> State | None:
    role, sep, name = import_id.partition(":")
    if not sep or not role or not name:
        raise ResourceError(f"unexpected import id {import_id!r} for aws_iam_role_policy", "write it as <role>:<name>")
    return {"id": import_id, "role": role, "name": name}


ROLE_POLICY = Handler(
    type_name="aws_iam_role_policy",
    create=_role_policy_put,
    read=_role_policy_read,
    update=lambda api, prior, planned: _role_policy_put(api, planned),
    delete=_role_policy_delete,
    import_state=_role_policy_import,
    replace_on=frozenset({"name", "name_prefix", "role"}),
)


# --- aws_iam_user_group_membership


def _user_groups(api: Api, user: str) -> list[str]:
    return [g["GroupName"] for g in _pages(api, "list_groups_for_user", "Groups", UserName=user)]


def _membership_create(api: Api, planned: State) -> State:
    user = planned["user"]
    with _aws(f"adding IAM user {user} to groups"):
        for group in planned["groups"]:
            api.iam.add_user_to_group(UserName=user, GroupName=group)
    return {**planned, "id": f"terraform-{uuid.uuid4().hex}"}


def _membership_read(api: Api, state: State) -> State | None:
    user = state["user"]
    try:
        live = set(_user_groups(api, user))
    except ClientError as exc:
        if _gone(exc):
            return None
        raise
    # As the real provider: only the groups this resource manages, never the user's other ones.
    return {"id": state["id"], "user": user, "groups": [g for g in state.get("groups") or [] if g in live]}


def _membership_update(api: Api, prior: State, planned: State) -> State:
    user = planned["user"]
    old, new = set(prior.get("groups") or []), set(planned.get("groups") or [])
    with _aws(f"updating IAM user {user} group memberships"):
        for group in sorted(old - new):
            _ignore_gone(api.iam.remove_user_from_group, UserName=user, GroupName=group)
        for group in sorted(new - old):
            api.iam.add_user_to_group(UserName=user, GroupName=group)
    return {**planned, "id": prior["id"]}


def _membership_delete(api: Api, state: State) -> None:
    user = state["user"]
    with _aws(f"removing IAM user {user} from groups"):
        for group in state.get("groups") or []:
            _ignore_gone(api.iam.remove_user_from_group, UserName=user, GroupName=group)


def _membership_import(api: Api, import_id: str) -> State | None:
    user, *groups = import_id.split("/")
    if not user or not groups or not all(groups):
        raise ResourceError(
            f"unexpected import id {import_id!r} for aws_iam_user_group_membership",
            "write it as <user>/<group1>/<group2>...",
        )
    return {"id": f"terraform-{uuid.uuid4().hex}", "user": user, "groups": groups}


USER_GROUP_MEMBERSHIP = Handler(
    type_name="aws_iam_user_group_membership",
    create=_membership_create,
    read=_membership_read,
    update=_membership_update,
    delete=_membership_delete,
    import_state=_membership_import,
    replace_on=frozenset({"user"}),
)


HANDLERS: list[Handler] = [
    USER,
    GROUP,
    GROUP_POLICY_ATTACHMENT,
    POLICY,
    ROLE,
    ROLE_POLICY,
    ROLE_POLICY_ATTACHMENT,
    USER_GROUP_MEMBERSHIP,
]
