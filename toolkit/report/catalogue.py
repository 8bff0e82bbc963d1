"""Every check of every command, loaded, and rendered as the reference page docs/checks.md."""

from __future__ import annotations

from toolkit.findings import CATALOGUE, Check
from toolkit.report.waivers import catalogue_ids

CATEGORIES = ("security", "drift", "health", "cost", "waiver")
# The id namespaces of the shipped checks: a check a test declares (e.g. "test.pitr") is not one.
NAMESPACES = ("account", "s3", "dynamodb", "iam", "drift", "health", "cost", "waiver")


def all_checks() -> list[Check]:
    catalogue_ids()  # imports every module that declares checks
    ours = [c for c in CATALOGUE if c.category in CATEGORIES and c.id.split(".", 1)[0] in NAMESPACES]
    return sorted(ours, key=lambda c: (CATEGORIES.index(c.category), c.id))


def markdown() -> str:
    lines = [
        "# Checks",
        "",
        "Generated from the check catalogue (`python -m toolkit.report.catalogue > docs/checks.md`); a test",
        "fails when this page and the code disagree. Waive a check for some resources in",
        "`cargohold-waivers.yaml` (see the README).",
        "",
    ]
    for category in CATEGORIES:
        checks = [c for c in all_checks() if c.category == category]
        lines += [f"## {category}", "", "| id | severity | title | Security Hub | checkov |", "|---|---|---|---|---|"]
        lines += [
            f"| `{c.id}` | {c.severity.label} | {c.title} | {', '.join(c.security_hub) or '-'} | "
            f"{', '.join(c.checkov) or '-'} |"
            for c in checks
        ]
        lines.append("")
        for c in checks:
            lines += [
                f"### `{c.id}`",
                "",
                c.remediation,
                "",
                f"Reads: {', '.join(f'`{p}`' for p in c.permissions) or 'nothing from AWS'}",
                "",
                "```yaml",
                c.config_fix,
                "```",
                "",
            ]
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(markdown(), end="")
