"""The demo's adoption chapters: a setup made by hand the way the console guides make it, discovered,
audited, brought under config.yaml, and its pasted access key rotated into a 0600 .env."""

from __future__ import annotations

import stat
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from toolkit import aws
from toolkit.audit.run import audit
from toolkit.config.model import Environment, Project
from toolkit.credentials.keys import rotate
from toolkit.discover.read import discover
from toolkit.discover.write import import_blocks, imports_for, load_discovered, render_fragment
from toolkit.legacy_setup import DYNAMODB_FULL_ACCESS, S3_FULL_ACCESS, LegacySetup, make_by_hand
from toolkit.standin import block_public_access_for_account, materialize

Say = Callable[[str], None]


def adopt(project: Project, env: Environment, work: Path, say: Say, *, first: int) -> dict[str, Any]:
    legacy = _by_hand(env, work, say, first)
    discovered_env, discovered = _discover(project, env, work, say, first + 1)
    before = audit(project, discovered_env)
    problems = before.problems()
    say(f"{first + 2}. Audit of the hand-made setup: {len(problems)} problems")
    for check, count in sorted(Counter(f.check.id for f in problems).items()):
        example = next(f for f in problems if f.check.id == check)
        say(f"     {count:2} x {check:32} e.g. {example.resource.rsplit(':', 1)[-1]}: {example.message}")
    _apply(env, legacy, say, first + 3)
    rotated = _rotate(project, env, legacy, say, first + 4)
    return {
        "legacy": {"buckets": legacy.buckets, "tables": legacy.tables, "users": legacy.users},
        "discovered": discovered,
        "audit_before": {"problems": len(problems), "checks": sorted({f.check.id for f in problems})},
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


def _discover(project: Project, env: Environment, work: Path, say: Say, number: int) -> tuple[Environment, Any]:
    # Every resource is adopted, including those config.yaml already names (the compare mode).
    discovery = discover(project, env, include_declared=True)
    found = load_discovered(project, discovery)
    # The discovered environment keeps config.yaml's settings; the demo's points at its own emulator.
    found = found.at_endpoint(env.endpoint)
    blocks = imports_for(found, discovery)
    (work / "discovered.config.yaml").write_text(render_fragment(discovery), encoding="utf-8")
    (work / "imports.tf").write_text(import_blocks(blocks, discovery), encoding="utf-8")
    by_category = Counter(r.category for r in discovery.remarks)
    say(
        f"{number}. Discovered {len(discovery.buckets)} buckets, {len(discovery.tables)} tables and "
        f"{len(discovery.principals)} principals: discovered.config.yaml reproduces them as they are, imports.tf "
        f"holds {len(blocks)} import blocks; {by_category.get('hardening', 0)} settings the first apply hardens"
    )
    unexpressed = [r for r in discovery.remarks if r.category == "could-not-express"]
    for remark in unexpressed:
        say(f"     cannot express: {remark.name}: {remark.message}")
    return found, {
        "buckets": sorted(d.name for d in discovery.buckets.values()),
        "tables": sorted(d.name for d in discovery.tables.values()),
        "principals": sorted(d.name for d in discovery.principals.values()),
        "import_blocks": len(blocks),
        "remarks": dict(by_category),
        "could_not_express": [f"{r.name}: {r.message}" for r in unexpressed],
    }


def _apply(env: Environment, legacy: LegacySetup, say: Say, number: int) -> None:
    # The stand-in for `cargohold plan` + `apply` after the imports (no AWS provider here), without the
    # TLS-only policy moto cannot evaluate; then the two steps discover said Terraform will not take.
    materialize(env, tls_policy=False)
    iam = aws.client(env, "iam")
    for user in legacy.users:
        for arn in (S3_FULL_ACCESS, DYNAMODB_FULL_ACCESS):
            iam.detach_user_policy(UserName=user, PolicyArn=arn)
    block_public_access_for_account(env)
    say(
        f"{number}. Applied config.yaml over the imported resources (boto3 standing in for apply): Block Public "
        "Access on, ACLs off, the public policy and CORS '*' replaced, lifecycle rules, PITR, grants through a "
        "group; then, as discover advised, detached the full-access policies and blocked public access account-wide"
    )


def _rotate(project: Project, env: Environment, legacy: LegacySetup, say: Say, number: int) -> dict[str, Any]:
    principal = next(p for p in env.principals.values() if p.name in legacy.dotenv)
    path = legacy.dotenv[principal.name]
    mode_before = stat.S_IMODE(path.stat().st_mode)
    outcome = rotate(env, principal.key, project=project.name, path=path)
    mode_after = stat.S_IMODE(path.stat().st_mode)
    say(
        f"{number}. Rotated the pasted key: new key ...{(outcome.key_id or '')[-4:]} proven by the health probes "
        f"({outcome.proof_attempts} attempt(s)), {path.name} rewritten {oct(mode_before)} -> {oct(mode_after)}, "
        f"old key ...{(outcome.old_key_id or '')[-4:]} deactivated and deleted"
    )
    return {"mode_before": oct(mode_before), "mode_after": oct(mode_after), "proof_attempts": outcome.proof_attempts}
