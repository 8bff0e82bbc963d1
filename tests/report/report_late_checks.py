"""A check module that only registers when imported, like the commands' own check modules."""

from __future__ import annotations

from toolkit.findings import define

LATE = define(
    id="test.late",
    title="Registered on import",
    category="health",
    service="account",
    severity="low",
    permissions=["sts:GetCallerIdentity"],
    remediation="Nothing to do.",
    config_fix="Nothing to change.",
    security_hub=[],
    checkov=[],
)
