"""IAM handlers against moto: create, read back as written, drift seen, update, import, delete."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest

from toolkit.tfprovider.resources import iam
from toolkit.tfprovider.resources.base import Api, Handler, ResourceError, State

Unique = Callable[[str], str]

DOC = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "G0Objects", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/*"]}
        ],
    },
    separators=(",", ":"),
)
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": ["ecs-tasks.amazonaws.com"]}, "Action": "sts:AssumeRole"}
        ],
    },
    separators=(",", ":"),
)


def _doc(action: str) -> str:
    statement = {"Effect": "Allow", "Action": [action], "Resource": ["*"]}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, separators=(",", ":"))


def _subset(read: State | None, created: State, keys: list[str]) -> None:
    assert read is not None
    assert {k: read[k] for k in keys} == {k: created[k] for k in keys}


def _reimport(handler: Handler, api: Api, import_id: str, read: State | None) -> None:
    imported = handler.import_state(api, import_id)
    assert imported is not None
    again = handler.read(api, imported)
    assert again is not None and read is not None
    skip = {"id"} if handler.type_name.endswith(("attachment", "membership")) else set()
    assert {k: v for k, v in again.items() if k not in skip} == {k: v for k, v in read.items() if k not in skip}


def _policy(api: Api, name: str) -> State:
    planned = {"name": name, "path": "/", "description": f"grants for {name}", "policy": DOC, "tags_all": {}}
    return iam.POLICY.create(api, planned)


def test_documents_compare_as_iam_does() -> None:
    prior = DOC
    live: Any = json.loads(DOC)
    live["Statement"][0]["Action"] = "s3:GetObject"  # one string equals a list of one
    assert iam._doc_for_state(prior, live) == prior
    assert iam._doc_for_state(prior, quote(json.dumps(live))) == prior  # URL-encoded, as IAM sends it
    live["Statement"][0]["Action"] = ["s3:PutObject"]
    assert json.loads(iam._doc_for_state(prior, live) or "") == live
    assert iam._doc_for_state(None, live) == json.dumps(live, separators=(",", ":"))


def test_user_round_trip_drift_update_import_delete(api: Api, unique: Unique) -> None:
    name = unique("user")
    planned = {
        "name": name,
        "path": "/cargohold/",
        "permissions_boundary": None,
        "force_destroy": None,
        "tags": {"team": "lms"},
        "tags_all": {"team": "lms"},
    }
    state = iam.USER.create(api, planned)
    assert state["id"] == name and state["arn"].endswith(f":user/cargohold/{name}") and state["unique_id"]
    read = iam.USER.read(api, state)
    _subset(read, state, ["id", "name", "path", "permissions_boundary", "arn", "unique_id", "tags", "tags_all"])

    api.iam.tag_user(UserName=name, Tags=[{"Key": "team", "Value": "other"}])
    drifted = iam.USER.read(api, state)
    assert drifted is not None and drifted["tags"] == {"team": "other"}

    planned2 = {**planned, "path": "/x/", "tags": {"a": "b"}, "tags_all": {"a": "b"}}
    state2 = iam.USER.update(api, {**state, "tags_all": drifted["tags_all"]}, planned2)
    read2 = iam.USER.read(api, state2)
    assert read2 is not None and read2["path"] == "/x/" and read2["tags_all"] == {"a": "b"}

    # Adoption: importing must not touch what Terraform does not manage.
    other = _policy(api, unique("other"))
    api.iam.attach_user_policy(UserName=name, PolicyArn=other["arn"])
    _reimport(iam.USER, api, name, read2)
    attached = api.iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]
    assert [a["PolicyArn"] for a in attached] == [other["arn"]]

    with pytest.raises(ResourceError, match="DeleteConflict"):  # without force_destroy, as IAM does
        iam.USER.delete(api, state2)
    iam.USER.delete(api, {**state2, "force_destroy": True})
    assert iam.USER.read(api, state2) is None
    iam.USER.delete(api, state2)  # already gone
    iam.POLICY.delete(api, other)


def test_user_with_default_path_and_boundary(api: Api, unique: Unique) -> None:
    boundary = _policy(api, unique("boundary"))
    name = unique("user")
    # "/": the plan fills the provider's default
    planned = {"name": name, "path": "/", "permissions_boundary": boundary["arn"], "tags": None, "tags_all": {}}
    state = iam.USER.create(api, planned)
    read = iam.USER.read(api, state)
    _subset(read, state, ["path", "permissions_boundary", "tags", "tags_all"])
    imported = iam.USER.read(api, {"id": name, "name": name})
    assert imported is not None and imported["path"] == "/"
    iam.USER.delete(api, state)
    iam.POLICY.delete(api, boundary)


def test_group_and_attachment(api: Api, unique: Unique) -> None:
    name = unique("grp")
    state = iam.GROUP.create(api, {"name": name, "path": "/cargohold/"})
    assert state["id"] == name and state["arn"].endswith(f":group/cargohold/{name}")
    read = iam.GROUP.read(api, state)
    _subset(read, state, ["id", "name", "path", "arn", "unique_id"])
    # moto changes a group's path only along with its name.
    api.iam.update_group(GroupName=name, NewGroupName=f"{name}-x", NewPath="/moved/")
    api.iam.update_group(GroupName=f"{name}-x", NewGroupName=name)
    drifted = iam.GROUP.read(api, state)
    assert drifted is not None and drifted["path"] == "/moved/"
    state = iam.GROUP.update(api, drifted, {**state, "path": "/cargohold/"})
    read = iam.GROUP.read(api, state)
    assert read is not None and read["path"] == "/cargohold/"
    _reimport(iam.GROUP, api, name, read)

    policy = _policy(api, unique("pol"))
    att = iam.GROUP_POLICY_ATTACHMENT.create(api, {"group": name, "policy_arn": policy["arn"]})
    assert att["id"].startswith(f"{name}-")
    att_read = iam.GROUP_POLICY_ATTACHMENT.read(api, att)
    _subset(att_read, att, ["id", "group", "policy_arn"])
    _reimport(iam.GROUP_POLICY_ATTACHMENT, api, f"{name}/{policy['arn']}", att_read)
    policy_read = iam.POLICY.read(api, policy)
    assert policy_read is not None and policy_read["attachment_count"] == 1

    api.iam.detach_group_policy(GroupName=name, PolicyArn=policy["arn"])
    assert iam.GROUP_POLICY_ATTACHMENT.read(api, att) is None
    api.iam.attach_group_policy(GroupName=name, PolicyArn=policy["arn"])
    iam.GROUP_POLICY_ATTACHMENT.delete(api, att)
    assert iam.GROUP_POLICY_ATTACHMENT.read(api, att) is None
    iam.GROUP_POLICY_ATTACHMENT.delete(api, att)

    iam.GROUP.delete(api, state)
    assert iam.GROUP.read(api, state) is None
    assert iam.GROUP_POLICY_ATTACHMENT.read(api, att) is None
    iam.GROUP.delete(api, state)
    iam.POLICY.delete(api, policy)


def test_policy_versions_drift_import_delete(api: Api, unique: Unique) -> None:
    name = unique("pol")
    planned = {
        "name": name,
        "path": "/cargohold/",
        "description": "cargohold grants",
        "policy": DOC,
        "tags": {"team": "lms"},
        "tags_all": {"team": "lms"},
    }
    state = iam.POLICY.create(api, planned)
    arn = state["arn"]
    assert state["id"] == arn and arn.endswith(f":policy/cargohold/{name}") and state["policy_id"]
    assert state["attachment_count"] == 0
    read = iam.POLICY.read(api, state)
    keys = ["id", "arn", "name", "path", "description", "policy", "policy_id", "attachment_count", "tags", "tags_all"]
    _subset(read, state, keys)

    api.iam.create_policy_version(PolicyArn=arn, PolicyDocument=_doc("s3:PutObject"), SetAsDefault=True)
    drifted = iam.POLICY.read(api, state)
    assert drifted is not None and json.loads(drifted["policy"]) == json.loads(_doc("s3:PutObject"))

    prior = drifted
    for i in range(5):  # past IAM's limit of 5 versions: the oldest non-default goes
        planned_i = {**planned, "policy": _doc(f"s3:Action{i}")}
        prior = {**iam.POLICY.update(api, prior, planned_i), "policy": planned_i["policy"]}
    versions = api.iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert len(versions) == 5
    read = iam.POLICY.read(api, prior)
    assert read is not None and read["policy"] == _doc("s3:Action4")
    _reimport(iam.POLICY, api, arn, read)

    iam.POLICY.delete(api, prior)
    assert iam.POLICY.read(api, prior) is None
    iam.POLICY.delete(api, prior)


def test_role_round_trip_drift_update_import_delete(api: Api, unique: Unique) -> None:
    name = unique("role")
    planned = {
        "name": name,
        "path": "/",
        "assume_role_policy": TRUST,
        "description": None,
        "max_session_duration": 3600,  # the plan fills the provider's defaults
        "permissions_boundary": None,
        "force_detach_policies": False,
        "tags": {"team": "lms"},
        "tags_all": {"team": "lms", "owner": "cargohold"},
    }
    state = iam.ROLE.create(api, planned)
    assert state["id"] == name and state["arn"].endswith(f":role/{name}") and state["create_date"].endswith("Z")
    read = iam.ROLE.read(api, state)
    keys = ["id", "name", "path", "assume_role_policy", "description", "max_session_duration"]
    _subset(read, state, [*keys, "permissions_boundary", "arn", "unique_id", "create_date", "tags_all"])
    assert read is not None and read["tags"] == {"team": "lms", "owner": "cargohold"}  # no default tags here

    changed = TRUST.replace("ecs-tasks", "lambda")
    api.iam.update_assume_role_policy(RoleName=name, PolicyDocument=changed)
    api.iam.update_role(RoleName=name, MaxSessionDuration=7200)
    drifted = iam.ROLE.read(api, state)
    assert drifted is not None and json.loads(drifted["assume_role_policy"]) == json.loads(changed)
    assert drifted["max_session_duration"] == 7200

    boundary = _policy(api, unique("boundary"))
    planned2 = {**planned, "description": "worker", "permissions_boundary": boundary["arn"], "tags_all": {"a": "b"}}
    state2 = iam.ROLE.update(api, {**state, **drifted}, planned2)
    read2 = iam.ROLE.read(api, state2)
    assert read2 is not None
    assert read2["assume_role_policy"] == TRUST and read2["description"] == "worker"
    assert read2["permissions_boundary"] == boundary["arn"] and read2["tags_all"] == {"a": "b"}
    assert read2["max_session_duration"] == 3600 or read2["max_session_duration"] is None

    policy = _policy(api, unique("pol"))
    att = iam.ROLE_POLICY_ATTACHMENT.create(api, {"role": name, "policy_arn": policy["arn"]})
    att_read = iam.ROLE_POLICY_ATTACHMENT.read(api, att)
    _subset(att_read, att, ["id", "role", "policy_arn"])
    _reimport(iam.ROLE_POLICY_ATTACHMENT, api, f"{name}/{policy['arn']}", att_read)

    inline = iam.ROLE_POLICY.create(api, {"name": "replication", "role": name, "policy": DOC})
    assert inline["id"] == f"{name}:replication"
    inline_read = iam.ROLE_POLICY.read(api, inline)
    _subset(inline_read, inline, ["id", "name", "role", "policy"])
    api.iam.put_role_policy(RoleName=name, PolicyName="replication", PolicyDocument=_doc("s3:Other"))
    drifted_inline = iam.ROLE_POLICY.read(api, inline)
    assert drifted_inline is not None and drifted_inline["policy"] == _doc("s3:Other")
    inline = iam.ROLE_POLICY.update(api, drifted_inline, {**inline, "policy": DOC})
    inline_read = iam.ROLE_POLICY.read(api, inline)
    assert inline_read is not None and inline_read["policy"] == DOC
    _reimport(iam.ROLE_POLICY, api, f"{name}:replication", inline_read)

    read3 = iam.ROLE.read(api, state2)
    assert read3 is not None and read3["managed_policy_arns"] == [policy["arn"]]
    _reimport(iam.ROLE, api, name, {**read3, "path": "/", "max_session_duration": 3600})

    profile = unique("ip")
    api.iam.create_instance_profile(InstanceProfileName=profile)
    api.iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=name)
    iam.ROLE.delete(api, {**read3, "force_detach_policies": True})
    assert iam.ROLE.read(api, state2) is None
    assert iam.ROLE_POLICY.read(api, inline) is None
    assert iam.ROLE_POLICY_ATTACHMENT.read(api, att) is None
    assert api.iam.get_instance_profile(InstanceProfileName=profile)["InstanceProfile"]["Roles"] == []
    iam.ROLE.delete(api, state2)
    iam.ROLE_POLICY.delete(api, inline)
    iam.ROLE_POLICY_ATTACHMENT.delete(api, att)
    for p in (policy, boundary):
        iam.POLICY.delete(api, p)
    api.iam.delete_instance_profile(InstanceProfileName=profile)


def test_role_without_path_or_description_reads_back_the_defaults(api: Api, unique: Unique) -> None:
    # The s3-bucket module's replication role writes neither path nor description: the plan gives the
    # provider's defaults (path "/", 3600 s), and a read (an import's too) reports them.
    name = unique("s3rep")
    planned: State = {"name": name, "path": "/", "assume_role_policy": TRUST, "tags": None, "tags_all": {}}
    state = iam.ROLE.create(api, planned)
    read = iam.ROLE.read(api, {**state, "description": None, "max_session_duration": None})
    assert read is not None
    assert (read["path"], read["description"], read["max_session_duration"], read["tags"]) == ("/", None, 3600, None)
    iam.ROLE.delete(api, state)


def test_role_delete_without_force_detach_reports_conflict(api: Api, unique: Unique) -> None:
    name = unique("role")
    state = iam.ROLE.create(api, {"name": name, "path": "/", "assume_role_policy": TRUST, "tags_all": {}})
    api.iam.put_role_policy(RoleName=name, PolicyName="foreign", PolicyDocument=DOC)
    with pytest.raises(ResourceError, match="DeleteConflict"):
        iam.ROLE.delete(api, state)
    api.iam.delete_role_policy(RoleName=name, PolicyName="foreign")
    iam.ROLE.delete(api, state)


def test_user_group_membership_manages_only_its_groups(api: Api, unique: Unique) -> None:
    user, mine, extra, other = unique("u"), unique("g"), unique("g"), unique("g")
    api.iam.create_user(UserName=user)
    for group in (mine, extra, other):
        api.iam.create_group(GroupName=group)
    api.iam.add_user_to_group(UserName=user, GroupName=other)  # not managed by the resource

    state = iam.USER_GROUP_MEMBERSHIP.create(api, {"user": user, "groups": [mine]})
    assert state["id"].startswith("terraform-")
    read = iam.USER_GROUP_MEMBERSHIP.read(api, state)
    _subset(read, state, ["id", "user", "groups"])
    _reimport(iam.USER_GROUP_MEMBERSHIP, api, f"{user}/{mine}", read)

    api.iam.remove_user_from_group(UserName=user, GroupName=mine)
    drifted = iam.USER_GROUP_MEMBERSHIP.read(api, state)
    assert drifted is not None and drifted["groups"] == []

    state = iam.USER_GROUP_MEMBERSHIP.update(api, drifted, {**state, "groups": [mine, extra]})
    read = iam.USER_GROUP_MEMBERSHIP.read(api, state)
    assert read is not None and sorted(read["groups"]) == sorted([mine, extra])

    iam.USER_GROUP_MEMBERSHIP.delete(api, state)
    live = [g["GroupName"] for g in api.iam.list_groups_for_user(UserName=user)["Groups"]]
    assert live == [other]
    api.iam.remove_user_from_group(UserName=user, GroupName=other)
    api.iam.delete_user(UserName=user)
    assert iam.USER_GROUP_MEMBERSHIP.read(api, state) is None
    iam.USER_GROUP_MEMBERSHIP.delete(api, state)
    for group in (mine, extra, other):
        api.iam.delete_group(GroupName=group)


def test_import_ids_are_checked() -> None:
    api = Api(region="us-east-1", endpoints={})
    for handler, bad in (
        (iam.ROLE_POLICY_ATTACHMENT, "role-only"),
        (iam.GROUP_POLICY_ATTACHMENT, "group/not-an-arn"),
        (iam.ROLE_POLICY, "role-without-name"),
        (iam.USER_GROUP_MEMBERSHIP, "user-only"),
    ):
        with pytest.raises(ResourceError):
            handler.import_state(api, bad)
    assert {h.type_name for h in iam.HANDLERS} == {
        "aws_iam_user",
        "aws_iam_group",
        "aws_iam_group_policy_attachment",
        "aws_iam_policy",
        "aws_iam_role",
        "aws_iam_role_policy",
        "aws_iam_role_policy_attachment",
        "aws_iam_user_group_membership",
    }
