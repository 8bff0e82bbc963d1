"""The demo's adoption chapters: a setup made by hand the way the console guides make it, discovered,
audited, brought under config.yaml, and its pasted access key rotated into a 0600 .env."""

from __future__ import annotations

import re
import stat
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cargohold_core import aws
from cargohold_core.config.model import Environment, Project
from toolkit.audit.run import audit
from toolkit.credentials.keys import rotate
from toolkit.demo.legacy_setup import DYNAMODB_FULL_ACCESS, S3_FULL_ACCESS, LegacySetup, make_by_hand
from toolkit.discover.read import discover
from toolkit.discover.write import import_blocks, imports_for, load_discovered, render_fragment
from toolkit.provision import stack_run
from toolkit.terraform import workflow
from toolkit.terraform.locate import terraform_version
from toolkit.tfprovider.schema import VERSION as PROVIDER_VERSION

Say = Callable[[str], None]


def adopt(project: Project, env: Environment, work: Path, say: Say, *, first: int) -> dict[str, Any]:
    legacy = _by_hand(env, work, say, first)
    discovered_env, discovered, imports, removals = _discover(project, env, work, say, first + 1)
    before = audit(project, discovered_env)
    problems = before.problems()
    say(f"{first + 2}. Audit of the hand-made setup: {len(problems)} problems")
    for check, count in sorted(Counter(f.check.id for f in problems).items()):
        example = next(f for f in problems if f.check.id == check)
        say(f"     {count:2} x {check:32} e.g. {example.resource.rsplit(':', 1)[-1]}: {example.message}")
    applied = _apply(project, env, legacy, work, imports, removals, say, first + 3)
    rotated = _rotate(project, env, legacy, say, first + 4)
    return {
        "legacy": {"buckets": legacy.buckets, "tables": legacy.tables, "users": legacy.users},
        "discovered": discovered,
        "audit_before": {"problems": len(problems), "checks": sorted({f.check.id for f in problems})},
        "applied": applied,
        "rotated": rotated,
        "dotenv": str(legacy.dotenv[next(iter(legacy.dotenv))]),
    }


def _by_hand(env: Environment, work: Path, say: Say, number: int) -> LegacySetup:
    legacy = make_by_hand(env, work)
    say(
        f"{number}. A setup made by hand, the way the console guides make it: buckets {', '.join(legacy.buckets)} "
        "(public-read policy, Block Public Access off, ACLs on, CORS from any origin); tables "
        f"{', '.join(legacy.tables)} (console defaults); user {', '.join(legacy.users)} with AmazonS3FullAccess "
        "and AmazonDynamoDBFullAccess attached directly, its key pasted into a .env readable by anyone"
    )
    return legacy


# discover's advice for what exists live that config.yaml gives no resource for (Terraform leaves it).
_REMOVAL = re.compile(r"`aws s3api (delete-bucket-cors|delete-bucket-policy) --bucket (\S+)`")


def _discover(
    project: Project, env: Environment, work: Path, say: Say, number: int
) -> tuple[Environment, Any, str, list[tuple[str, str]]]:
    # Every resource is adopted, including those config.yaml already names (the compare mode).
    discovery = discover(project, env, include_declared=True)
    found = load_discovered(project, discovery)
    # The discovered environment keeps config.yaml's settings; the demo's points at its own emulator.
    found = found.at_endpoint(env.endpoint)
    # config.yaml is what the demo applies, so the import blocks address its resources.
    blocks = imports_for(env, discovery)
    imports = import_blocks(blocks, discovery)
    (work / "discovered.config.yaml").write_text(render_fragment(discovery), encoding="utf-8")
    (work / "imports.tf").write_text(imports, encoding="utf-8")
    by_category = Counter(r.category for r in discovery.remarks)
    say(
        f"{number}. Discovered {len(discovery.buckets)} buckets, {len(discovery.tables)} tables and "
        f"{len(discovery.principals)} principals: discovered.config.yaml reproduces them as they are, imports.tf "
        f"holds {len(blocks)} import blocks; {by_category.get('hardening', 0)} settings the first apply hardens"
    )
    unexpressed = [r for r in discovery.remarks if r.category == "could-not-express"]
    for remark in unexpressed:
        say(f"     cannot express: {remark.name}: {remark.message}")
    removals = [(m[1], m[2]) for r in unexpressed if (m := _REMOVAL.search(r.advice or ""))]
    return (
        found,
        {
            "buckets": sorted(d.name for d in discovery.buckets.values()),
            "tables": sorted(d.name for d in discovery.tables.values()),
            "principals": sorted(d.name for d in discovery.principals.values()),
            "import_blocks": len(blocks),
            "remarks": dict(by_category),
            "could_not_express": [f"{r.name}: {r.message}" for r in unexpressed],
        },
        imports,
        removals,
    )


def _apply(
    project: Project,
    env: Environment,
    legacy: LegacySetup,
    work: Path,
    imports: str,
    removals: list[tuple[str, str]],
    say: Say,
    number: int,
) -> dict[str, Any]:
    """`cargohold plan` + `apply` with discover's import blocks: real Terraform, the production modules,
    and the emulator provider (the hashicorp/aws schema, served for the emulator)."""
    run = stack_run(project, env, work_root=work / ".cargohold", imports=imports)
    planned = workflow.plan(run)
    outcome = workflow.apply(run)
    again = workflow.plan(run)
    binary = run.terraform
    version = terraform_version(binary) if binary else "?"
    counts = dict(planned.summary.counts)
    # Then the two steps discover said Terraform will not take (config.yaml does not own them).
    iam = aws.client(env, "iam")
    for user in legacy.users:
        for arn in (S3_FULL_ACCESS, DYNAMODB_FULL_ACCESS):
            iam.detach_user_policy(UserName=user, PolicyArn=arn)
    aws.block_public_access_for_account(env)
    # Terraform leaves what the stack does not declare (the legacy CORS '*' and public-read policies of
    # buckets config.yaml gives neither): discover said how to remove them, and the demo does.
    s3 = aws.client(env, "s3")
    for command, bucket in removals:
        (s3.delete_bucket_cors if command == "delete-bucket-cors" else s3.delete_bucket_policy)(Bucket=bucket)
    say(
        f"{number}. Applied config.yaml over the imported resources with Terraform {version} "
        f"({binary.path if binary else '?'}) "
        f"and the cargohold emulator provider (hashicorp/aws {PROVIDER_VERSION} schema): "
        + ", ".join(f"{n} {action}" for action, n in counts.items() if n)
        + f"; the next plan: {'changes' if again.has_changes else 'no changes'}. Block Public Access on, ACLs "
        "off, the public policy and CORS '*' replaced, lifecycle rules, PITR, grants through a group; then, as "
        "discover advised, detached the full-access policies, blocked public access account-wide and removed "
        f"what config.yaml does not declare: {', '.join(f'{c} {b}' for c, b in removals) or 'nothing'}"
    )
    return {
        "terraform": {"binary": str(binary.path) if binary else None, "version": version},
        "provider": f"cargohold emulator provider, hashicorp/aws {PROVIDER_VERSION} schema",
        "planned": counts,
        "applied": len(outcome.completed),
        "second_plan_has_changes": again.has_changes,
    }


def _rotate(project: Project, env: Environment, legacy: LegacySetup, say: Say, number: int) -> dict[str, Any]:
    principal = next(p for p in env.principals.values() if p.name in legacy.dotenv)
    path = legacy.dotenv[principal.name]
    mode_before = stat.S_IMODE(path.stat().st_mode)
    outcome = rotate(env, principal.key, project=project.name, path=path)
    mode_after = stat.S_IMODE(path.stat().st_mode)
    # On the emulator the probes cannot prove a key (it accepts any signature); on AWS they do.
    proof = (
        "proven by the health probes"
        if outcome.proof_unverified is None
        else "taken through the health probes (shown to be the user's; not verifiable beyond that on the emulator, "
        "which accepts any signature)"
    )
    say(
        f"{number}. Rotated the pasted key: new key ...{(outcome.key_id or '')[-4:]} {proof} "
        f"({outcome.proof_attempts} attempt(s)), {path.name} rewritten {oct(mode_before)} -> {oct(mode_after)}, "
        f"old key ...{(outcome.old_key_id or '')[-4:]} deactivated and deleted"
    )
    return {
        "mode_before": oct(mode_before),
        "mode_after": oct(mode_after),
        "proof_attempts": outcome.proof_attempts,
        "proof_verified": outcome.proof_unverified is None,
    }
