"""`cargohold discover`: write config.yaml and import blocks for what an account already has."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cargohold_core.errors import CargoholdError
from toolkit.cli_options import command_options

FRAGMENT = "discovered.config.yaml"
IMPORTS = "imports.tf"


@click.command()
@click.option("--env", "-e", "env_name", required=True, help="The environment whose account to read.")
@click.option("--match", "pattern", help="Only AWS names matching this glob, e.g. 'lms-*'. Default: all.")
@click.option(
    "--output-dir",
    "-o",
    "output_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("discovered"),
    show_default=True,
    help=f"Where to write {FRAGMENT} and {IMPORTS}.",
)
@click.option("--force", is_flag=True, help="Overwrite files a previous discover wrote.")
@click.option("--include-declared", is_flag=True, help="Describe declared resources too (to compare).")
@click.option(
    "--workers", type=click.IntRange(1, 128), default=16, show_default=True, help="Concurrent read-only API calls."
)
@command_options
def discover(
    config_path: Path,
    fmt: str,
    env_name: str,
    pattern: str | None,
    output_dir: Path,
    force: bool,
    include_declared: bool,
    workers: int,
) -> None:
    """Describe an existing account's buckets, tables and principals as config.yaml, with import blocks.

    Read-only. Writes a config.yaml fragment that reproduces each resource as it is (with its AWS name) and
    Terraform import blocks for every resource the stack would declare that already exists. The report lists
    what config.yaml cannot express and the hardening the first apply turns on. Skips the environment's
    Terraform state bucket and lock table and AWS service-linked roles. A resource config.yaml already declares
    is not rewritten, but gets its import blocks where it exists live, so the first apply adopts it.
    """
    from cargohold_core.account import guard
    from cargohold_core.config import load_project
    from toolkit.discover.read import discover as run_discover
    from toolkit.discover.write import import_blocks, imports_for, load_discovered, render_fragment
    from toolkit.output import emit

    project = load_project(config_path)
    env = project.environment(env_name)
    guard(env)
    targets = [output_dir / FRAGMENT, output_dir / IMPORTS]
    existing = [str(p) for p in targets if p.exists()]
    if existing and not force:
        raise CargoholdError(
            f"{', '.join(existing)} already exist", hint="pass --force to overwrite, or another --output-dir"
        )
    discovery = run_discover(project, env, match=pattern, include_declared=include_declared, workers=workers)
    loaded = load_discovered(project, discovery)
    blocks = imports_for(loaded, discovery)
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        targets[0].write_text(render_fragment(discovery), encoding="utf-8")
        targets[1].write_text(import_blocks(blocks, discovery), encoding="utf-8")
    except OSError as exc:
        raise CargoholdError(
            f"cannot write into {output_dir}: {exc.strerror}", hint="pass a writable --output-dir"
        ) from None
    emit(summary(discovery, blocks, targets), fmt=fmt, text=report_text(discovery, blocks, targets))


def summary(discovery: Any, blocks: list[Any], files: list[Path]) -> dict[str, Any]:
    def adopted(items: dict[str, Any]) -> dict[str, str]:
        return {key: d.name for key, d in items.items() if d.omitted is None}

    return {
        "environment": discovery.env,
        "account": discovery.account,
        "region": discovery.region,
        "files": {"config": str(files[0]), "imports": str(files[1])},
        **{section: adopted(items) for section, items in discovery.adopting().items()},
        "declared": {
            f"{section}.{key}": d.name
            for section, items in discovery.sections().items()
            for key, d in items.items()
            if d.declared
        },
        "left_out": {
            f"{section}.{key}": d.omitted
            for section, items in discovery.adopting().items()
            for key, d in items.items()
            if d.omitted is not None
        },
        "imports": [b.to_json() for b in blocks],
        "remarks": [r.to_json() for r in discovery.remarks],
    }


_TITLES = {
    "could-not-express": "Could not express (act on these before applying)",
    "hardening": "Hardening the first apply turns on (the plan after import shows these)",
    "change": "Other changes the plan shows",
    "opt-in": "Off in the account, written as off (opt in by changing one line)",
    "skipped": "Not adopted",
    "declared": "Declared in config.yaml, found live (imported; `cargohold drift` compares them after)",
}


def report_text(discovery: Any, blocks: list[Any], files: list[Path]) -> str:
    counts = ", ".join(
        f"{sum(1 for d in items.values() if d.omitted is None)} {section}"
        for section, items in discovery.adopting().items()
    )
    lines = [
        f"discovered {counts} in account {discovery.account} ({discovery.region})",
        f"wrote {files[0]} and {files[1]} ({len(blocks)} import blocks)",
    ]
    for category, title in _TITLES.items():
        remarks = [r for r in discovery.remarks if r.category == category]
        if not remarks:
            continue
        lines += ["", f"{title}:"]
        for r in remarks:
            where = f"{r.section}.{r.key}" if r.key else (r.name or r.section)
            lines.append(f"  - {where}: {r.message}")
            if r.advice:
                lines.append(f"      -> {r.advice}")
    return "\n".join(lines)
