"""`cargohold demo`: the main job on embedded defaults, with no AWS account.

Starts a moto server on loopback, points the example config's `local` environment at it,
bootstraps the Terraform state backend there (twice, to show it is idempotent), validates every
bundled example, previews what the stack declares, stands the environment up, migrates a legacy
app's files into it, then audits it, checks its health and estimates its cost.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from cargohold_core import aws
from cargohold_core.config import declared_resources, load_project
from cargohold_core.config.model import Environment
from cargohold_core.errors import CargoholdError
from cargohold_core.paths import example_config, examples_dir
from toolkit.bootstrap import bootstrap
from toolkit.demo.emulator import moto_server

DEMO_ENV = "local"


def run_demo(*, config_path: Path | None = None, narrate: bool = True) -> dict[str, Any]:
    say: Callable[[str], None] = click.echo if narrate else (lambda _line: None)
    started = time.monotonic()
    path = config_path or example_config()
    project = load_project(path)
    if DEMO_ENV not in project.environments:
        raise CargoholdError(
            f"{path} has no '{DEMO_ENV}' environment for the demo",
            hint="add an environment named 'local' with an `endpoint:`",
        )
    say(f"1. Loaded {path}: project '{project.name}', environments {', '.join(project.environments)}")

    examples = _validate_examples()
    say(
        f"2. Validated {len(examples)} bundled examples: "
        + ", ".join(f"{e['name']} ({e['resources']} resources)" for e in examples)
    )

    # Preflights follow each bucket's CORS rules (moto otherwise allows every origin): health checks them.
    # AWS managed policies exist (the hand-made setup attaches AmazonS3FullAccess).
    emulator_env = {"MOTO_DISABLE_GLOBAL_CORS": "1", "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
    with moto_server(extra_env=emulator_env) as emulator, tempfile.TemporaryDirectory(prefix="cargohold-") as tmp:
        say(f"3. Started an AWS emulator (moto server) at {emulator.endpoint}")
        env = project.environment(DEMO_ENV).at_endpoint(emulator.endpoint)
        first = bootstrap(env)
        again = bootstrap(env)
        say("4. Bootstrapped the Terraform state backend into the emulator:")
        for step in first:
            say(f"     {step.action:9} {step.resource}")
        say("   ...and again, to show it is idempotent: " + ", ".join(f"{s.resource} {s.action}" for s in again))
        state = _describe_state(env)
        say(
            f"   state bucket: versioning {state['versioning']}, encryption {state['encryption']}, "
            f"public access blocked: {state['public_access_blocked']}; lock table key: {state['lock_key']}"
        )

        resources = declared_resources(env)
        by_type = Counter(r.type for r in resources)
        say(f"5. Preview of environment '{env.name}': the stack declares {len(resources)} resources")
        for kind, group in (("bucket", env.buckets), ("table", env.tables), ("principal", env.principals)):
            for key, item in group.items():
                say(f"     {kind:9} {key:18} -> {item.name}")
        for rtype, count in sorted(by_type.items()):
            say(f"     {count:3} x {rtype}")

        from toolkit.demo.adopt import adopt
        from toolkit.demo.operate import operate

        adopted = adopt(project, env, Path(tmp), say, first=6)
        migration = None
        chapter = 11
        if project.config.migrations:
            from toolkit.demo.migration import migrate_legacy_app

            migration = migrate_legacy_app(path, env, say, number=chapter)
            chapter += 1
        operated = operate(project, env, say, first=chapter, dotenv=Path(adopted.pop("dotenv")))
        _summarize(adopted, migration, operated, say)
    elapsed = time.monotonic() - started
    say(f"Done in {elapsed:.1f}s; the emulator and every temporary file are gone.")
    return {
        "config": str(path),
        "project": project.name,
        "environment": env.name,
        "emulator": emulator.endpoint,
        "examples": examples,
        "bootstrap": [s.to_json() for s in first],
        "bootstrap_again": [s.to_json() for s in again],
        "state_backend": state,
        "declared_resources": [r.to_json() for r in resources],
        "adoption": adopted,
        "migration": migration,
        **operated,
        "seconds": round(elapsed, 2),
    }


def _summarize(adopted: dict[str, Any], migration: dict[str, Any] | None, operated: dict[str, Any], say: Any) -> None:
    after = operated["audit"]["summary"]
    moved = (
        f"{migration['run']['uploaded']} files moved to S3 and {migration['run']['rows_updated']} rows updated, "
        if (migration)
        else ""
    )
    say(
        f"Summary: {adopted['audit_before']['problems']} problems in the hand-made setup -> {after['fail']} after "
        f"config.yaml ({after['waived']} waived); the pasted key rotated into a {adopted['rotated']['mode_after']} "
        f".env; {moved}every object verified."
    )


def _validate_examples() -> list[dict[str, Any]]:
    results = []
    for config in sorted(examples_dir().glob("*/config.yaml")):
        project = load_project(config)
        first = next(iter(project.environments.values()))
        results.append(
            {
                "name": config.parent.name,
                "project": project.name,
                "environments": list(project.environments),
                "resources": len(declared_resources(first)),
            }
        )
    return results


def _describe_state(env: Environment) -> dict[str, Any]:
    s3 = aws.client(env, "s3")
    ddb = aws.client(env, "dynamodb")
    bucket = env.state.bucket
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    table = ddb.describe_table(TableName=env.state.lock_table)["Table"]
    return {
        "bucket": bucket,
        "versioning": s3.get_bucket_versioning(Bucket=bucket).get("Status", "Off"),
        "encryption": rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"],
        "public_access_blocked": all(block.values()),
        "lock_table": env.state.lock_table,
        "lock_key": table["KeySchema"][0]["AttributeName"],
    }
