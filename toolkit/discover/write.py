"""The discovered resources as text: a config.yaml fragment with comments, and Terraform import blocks.

The fragment is checked by loading it into a whole config (the project and environments of the
given config.yaml), the same way `cargohold validate` does; a resource the loader refuses becomes a
comment with the reason. Import blocks are derived from `declared_resources` of that loaded config,
one per declared address that exists in the account, each with the id its resource type imports by.
"""

from __future__ import annotations

import copy
import json
import textwrap
from dataclasses import dataclass

import yaml

from cargohold_core.config.bucket_policy import bucket_policy_statements
from cargohold_core.config.load import resolve
from cargohold_core.config.model import Environment, Project
from cargohold_core.config.render import DeclaredResource, declared_resources
from cargohold_core.config.yamlsource import parse
from cargohold_core.errors import ConfigError
from toolkit.discover.grants import canonical
from toolkit.discover.read import CATEGORIES, CHANGE, HARDENING, UNEXPRESSED, Discovered, Discovery, Remark

_WIDTH = 116
_BY_NAME = ("aws_dynamodb_table", "aws_iam_user", "aws_iam_group", "aws_iam_role")


@dataclass(frozen=True)
class ImportBlock:
    address: str
    id: str

    def hcl(self) -> str:
        value = json.dumps(self.id).replace("${", "$${").replace("%{", "%%{")
        return f"import {{\n  to = {self.address}\n  id = {value}\n}}\n"

    def to_json(self) -> dict[str, str]:
        return {"to": self.address, "id": self.id}


# ---------------------------------------------------------------- the whole config, loaded


def full_config_text(project: Project, discovery: Discovery) -> str:
    """The given config.yaml with the discovered resources added (or, when the discovery includes the
    declared resources, in place of its resources, without the environments' overrides)."""
    data = yaml.safe_load(project.source.decode("utf-8")) or {}
    data.pop("migrations", None)
    if discovery.include_declared:
        for section in ("buckets", "tables", "principals"):
            data[section] = {}
        for env in (data.get("environments") or {}).values():
            if isinstance(env, dict):
                env.pop("overrides", None)
    for section, items in discovery.adopting().items():
        merged = dict(data.get(section) or {})
        merged.update({key: copy.deepcopy(d.spec) for key, d in items.items() if d.omitted is None})
        data[section] = merged
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def load_discovered(project: Project, discovery: Discovery) -> Environment:
    """Load the whole config with the discovered resources; a resource that does not validate is turned
    into a comment (with the loader's reasons) and the rest is loaded again."""
    for _ in range(1 + sum(len(s) for s in discovery.sections().values())):
        try:
            _, environments = resolve(parse(full_config_text(project, discovery), file="discovered.config.yaml"))
        except ConfigError as exc:
            if not _omit_invalid(discovery, exc):
                raise
            continue
        env = environments[discovery.env]
        _bucket_policy_layout(env, discovery)
        return env
    raise AssertionError("unreachable: every round omits at least one resource")  # pragma: no cover


def _omit_invalid(discovery: Discovery, exc: ConfigError) -> bool:
    omitted = False
    for problem in exc.problems:
        parts = problem.path.split(".")
        if len(parts) < 2:
            continue
        item = discovery.sections().get(parts[0], {}).get(parts[1].split("[")[0])
        if item is None or item.omitted is not None:
            continue
        item.omitted = f"config.yaml would refuse it: {problem.message}"
        if problem.hint:
            item.omitted += f" ({problem.hint})"
        discovery.remark(
            UNEXPRESSED,
            item,
            f"left out as a comment: {item.omitted}",
            "fix the commented block by hand, then add it to config.yaml",
        )
        omitted = True
    return omitted


def _bucket_policy_layout(env: Environment, discovery: Discovery) -> None:
    for key, item in discovery.buckets.items():
        if item.omitted is not None or item.live_policy is None or key not in env.buckets:
            continue
        want = {"Version": "2012-10-17", "Statement": bucket_policy_statements(env.buckets[key], env)}
        if canonical(want) != canonical(item.live_policy) and not any(
            r.category in (HARDENING, UNEXPRESSED) and "polic" in r.message for r in discovery.remarks_for(item)
        ):
            discovery.remark(CHANGE, item, "the bucket policy is rewritten in cargohold's layout (same effect)")


# ---------------------------------------------------------------- import blocks


def imports_for(env: Environment, discovery: Discovery) -> list[ImportBlock]:
    """An import block for every resource the stack declares for the discovered config that exists live;
    each declared resource that does not exist yet is noted as created by the apply."""
    out = []
    for resource in declared_resources(env):
        item = discovery.sections()[f"{resource.kind}s"].get(resource.key)
        if item is None:
            continue  # not in the account, or not read (declared in config.yaml, without --include-declared)
        # An item the fragment only comments on (omitted) is still imported where `env` declares it:
        # the first apply must adopt the user that exists, not try to create it again.
        local = resource.address.split("].", 1)[1]
        if local in item.exists:
            identity = import_id(resource, item)
            if resource.region is not None and resource.region != env.region:
                identity += f"@{resource.region}"  # the AWS provider 6 imports a resource of another region so
            out.append(ImportBlock(resource.address, identity))
        else:
            discovery.remark(CHANGE, item, f"{local} does not exist yet: apply creates it")
    _remark_unowned(env, discovery)
    return out


# What exists live that `env` gives no resource for: Terraform leaves it as it is, so say how to remove it.
_UNOWNED_ADVICE = {
    "aws_s3_bucket_cors_configuration": ("CORS rules", "aws s3api delete-bucket-cors --bucket {name}"),
    "aws_s3_bucket_lifecycle_configuration": ("lifecycle rules", "aws s3api delete-bucket-lifecycle --bucket {name}"),
    "aws_s3_bucket_policy": ("a bucket policy", "aws s3api delete-bucket-policy --bucket {name}"),
    "aws_s3_bucket_logging": (
        "access logging",
        "aws s3api put-bucket-logging --bucket {name} --bucket-logging-status '{{}}'",
    ),
}


def _remark_unowned(env: Environment, discovery: Discovery) -> None:
    declared: dict[tuple[str, str], set[str]] = {}
    for resource in declared_resources(env):
        declared.setdefault((f"{resource.kind}s", resource.key), set()).add(resource.address.split("].", 1)[1])
    for section, items in discovery.sections().items():
        for key, item in items.items():
            if (section, key) not in declared:
                continue
            for local in sorted(item.exists - declared[(section, key)]):
                what, command = _UNOWNED_ADVICE.get(local.split(".")[0], (local, ""))
                discovery.remark(
                    UNEXPRESSED,
                    item,
                    f"{what} exist{'s' if what.startswith('a ') else ''} live but config.yaml declares none for "
                    f"{section}.{key}: Terraform leaves them as they are",
                    (f"remove them: `{command.format(name=item.name)}`" if command else "remove it by hand")
                    + ", or declare them in config.yaml",
                )


def import_id(resource: DeclaredResource, item: Discovered) -> str:
    """The id `terraform import` takes for this resource type."""
    name = resource.name
    kind = resource.type
    local = resource.address.split("].", 1)[1]
    if kind == "aws_s3_bucket_intelligent_tiering_configuration":
        return f"{name}:cargohold"
    if kind == "aws_iam_role" and local.startswith("aws_iam_role.replication"):
        return item.context["replication_role"]
    if kind == "aws_iam_role_policy":
        return f"{item.context['replication_role']}:replication"
    if kind.startswith("aws_s3_bucket") or kind in _BY_NAME:
        return name
    if kind == "aws_iam_policy":
        return item.context["policy_arn"]
    if kind in ("aws_iam_group_policy_attachment", "aws_iam_role_policy_attachment"):
        return f"{name}/{item.context['policy_arn']}"
    if kind == "aws_iam_user_group_membership":
        return f"{name}/{name}"
    if kind in ("aws_appautoscaling_target", "aws_appautoscaling_policy"):
        dim = "Read" if "read[" in local else "Write"
        scaled = f"table/{name}"
        dimension = f"dynamodb:table:{dim}CapacityUnits"
        if ".index_" in local:  # index_read["NAME"]: a global index's own
            scaled += "/index/" + local.split('["', 1)[1].rsplit('"]', 1)[0]
            dimension = f"dynamodb:index:{dim}CapacityUnits"
        target = f"dynamodb/{scaled}/{dimension}"
        if kind == "aws_appautoscaling_target":
            return target
        return f"{target}/DynamoDB{dim}CapacityUtilization:{scaled}"
    raise ValueError(f"no import id rule for {kind}")  # a new module resource: add its rule here


def import_blocks(blocks: list[ImportBlock], discovery: Discovery) -> str:
    head = (
        f"# Terraform import blocks for the resources `cargohold discover --env {discovery.env}` adopted.\n"
        "# Put this file next to the stack's main.tf (terraform/stack) and run `cargohold plan`: the plan imports\n"
        "# them, and shows only the changes listed in the discover report (hardening, layout, tags).\n"
        "# Needs Terraform >= 1.5. Delete the file after the first apply.\n"
    )
    return head + "".join("\n" + b.hcl() for b in blocks)


# ---------------------------------------------------------------- the config.yaml fragment


def render_fragment(discovery: Discovery) -> str:
    lines = [
        f"# Discovered by `cargohold discover --env {discovery.env}` in account {discovery.account} "
        f"({discovery.region}).",
        "# Paste these sections into config.yaml. Every resource keeps its AWS name (`name:`); the values",
        "# reproduce the live settings, so the plan after import changes only what the comments say.",
        "# Legend: could-not-express = act before applying; hardening = cargohold's defaults the first apply",
        "# turns on; opt-in = off in the account, written as off; change = other changes the plan shows.",
    ]
    for section, items in discovery.adopting().items():
        lines.append("")
        if not items:
            lines.append(f"{section}: {{}}")
            continue
        lines.append(f"{section}:")
        for key, item in items.items():
            lines += _resource_lines(key, item, discovery.remarks_for(item))
    return "\n".join(lines) + "\n"


def _resource_lines(key: str, item: Discovered, remarks: list[Remark]) -> list[str]:
    out = []
    for remark in sorted(remarks, key=lambda r: CATEGORIES.index(r.category)):
        out += _comment(f"{remark.category}: {remark.message}", "  # ")
        if remark.advice:
            out += _comment(f"-> {remark.advice}", "  #    ")
    body = yaml.safe_dump(
        {key: item.spec}, sort_keys=False, allow_unicode=True, width=_WIDTH, default_flow_style=None
    ).splitlines()
    if item.omitted is not None:
        out += _comment(f"LEFT OUT: {item.omitted}", "  # ")
        out += ["  # " + line for line in body]
    else:
        out += ["  " + line for line in body]
    return out


def _comment(text: str, prefix: str) -> list[str]:
    return textwrap.wrap(
        text,
        width=_WIDTH - len(prefix),
        initial_indent=prefix,
        subsequent_indent=prefix + "  ",
        break_on_hyphens=False,
        break_long_words=False,
    ) or [prefix.rstrip()]
