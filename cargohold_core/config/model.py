"""The resolved configuration: one `Environment` per environment, every name final.

This is the single source of truth for the desired state of each bucket, table and principal.
Terraform variables, the offline preview, the IAM policies and (later) the audit all derive from it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cargohold_core.config.schema import BucketSpec, ConfigFile, EnvironmentSpec, PrincipalSpec, TableSpec
from cargohold_core.paths import grant_vocabulary

MANAGED_BY = "cargohold"


@dataclass(frozen=True)
class Bucket:
    key: str
    name: str
    spec: BucketSpec
    region: str  # the bucket's own `region:`, else the environment's

    @property
    def arn(self) -> str:
        return f"arn:aws:s3:::{self.name}"


@dataclass(frozen=True)
class Table:
    key: str
    name: str
    arn: str
    spec: TableSpec
    region: str  # the table's own `region:`, else the environment's


@dataclass(frozen=True)
class Principal:
    key: str
    name: str
    arn: str
    spec: PrincipalSpec
    policy: dict[str, Any]


@dataclass(frozen=True)
class StateBackend:
    bucket: str
    key: str
    region: str
    lock_table: str
    encrypt: bool


@dataclass(frozen=True)
class Environment:
    project: str
    name: str
    spec: EnvironmentSpec
    tags: dict[str, str]
    state: StateBackend
    buckets: dict[str, Bucket] = field(default_factory=dict)
    tables: dict[str, Table] = field(default_factory=dict)
    principals: dict[str, Principal] = field(default_factory=dict)

    @property
    def region(self) -> str:
        return self.spec.region

    @property
    def account(self) -> str:
        return self.spec.account

    @property
    def endpoint(self) -> str | None:
        return self.spec.endpoint

    @property
    def regions(self) -> list[str]:
        """Every region the environment has resources in: its own first, then the others sorted."""
        others = {b.region for b in self.buckets.values()} | {t.region for t in self.tables.values()}
        others.discard(self.region)
        return [self.region, *sorted(others)]

    def at_endpoint(self, endpoint: str | None) -> Environment:
        """The same environment, reached through another endpoint (the demo's own emulator)."""
        return dataclasses.replace(self, spec=self.spec.model_copy(update={"endpoint": endpoint}))

    def principal(self, key: str) -> Principal:
        """The principal with this config key, or one clear error naming the ones there are."""
        from cargohold_core.config.diagnostics import did_you_mean
        from cargohold_core.errors import CargoholdError

        if key in self.principals:
            return self.principals[key]
        guess = did_you_mean(key, self.principals)
        raise CargoholdError(
            f"no principal '{key}' in environment '{self.name}'" + (f"; did you mean '{guess}'?" if guess else ""),
            hint=f"principals defined: {', '.join(self.principals) or 'none'}",
        )


@dataclass(frozen=True)
class Project:
    name: str
    file: Path
    source: bytes  # the config file's bytes: part of every plan's fingerprint
    config: ConfigFile
    environments: dict[str, Environment]

    def environment(self, name: str) -> Environment:
        from cargohold_core.config.diagnostics import did_you_mean
        from cargohold_core.errors import CargoholdError

        if name in self.environments:
            return self.environments[name]
        guess = did_you_mean(name, self.environments)
        raise CargoholdError(
            f"no environment '{name}' in {self.file}" + (f"; did you mean '{guess}'?" if guess else ""),
            hint=f"environments defined: {', '.join(self.environments)}",
        )


# ---------------------------------------------------------------- IAM policy from grants


def policy_document(spec: PrincipalSpec, *, buckets: dict[str, Bucket], tables: dict[str, Table]) -> dict[str, Any]:
    """The principal's policy, statement for statement what the iam-principal module renders."""
    vocabulary = grant_vocabulary()
    statements: list[dict[str, Any]] = []
    for index, grant in enumerate(spec.grants):
        kind = "bucket" if grant.bucket is not None else "table"
        words = vocabulary[kind]
        by_scope: dict[str, set[str]] = {}
        for action in grant.actions:
            entry = words[action]
            by_scope.setdefault(entry["scope"], set()).update(entry["actions"])
        if kind == "bucket":
            arn = buckets[str(grant.bucket)].arn
            prefix = grant.prefix or ""
            if "object" in by_scope:
                statements.append(_statement(f"G{index}Objects", by_scope["object"], [f"{arn}/{prefix}*"]))
            if "bucket" in by_scope:
                bucket_actions = by_scope["bucket"]
                if grant.prefix and "list" in grant.actions:
                    listing = {a for a in bucket_actions if a in words["list"]["actions"]}
                    statements.append(
                        _statement(f"G{index}Bucket", listing, [arn], {"StringLike": {"s3:prefix": [f"{prefix}*"]}})
                    )
                    rest = bucket_actions - listing
                    if rest:
                        statements.append(_statement(f"G{index}Locate", rest, [arn]))
                else:
                    statements.append(_statement(f"G{index}Bucket", bucket_actions, [arn]))
        else:
            arn = tables[str(grant.table)].arn
            statements.append(_statement(f"G{index}Table", by_scope["table"], [arn, f"{arn}/index/*"]))
    return {"Version": "2012-10-17", "Statement": statements}


def trust_document(spec: PrincipalSpec) -> dict[str, Any] | None:
    """A role's trust policy, statement for statement what the iam-principal module renders (None for a
    user). The external id is a condition on the statement of `assume_role_arns` only: services pass none."""
    if spec.kind != "role":
        return None
    statements: list[dict[str, Any]] = []
    if spec.assume_role_services:
        statements.append(
            {
                "Sid": "Services",
                "Effect": "Allow",
                "Principal": {"Service": list(spec.assume_role_services)},
                "Action": "sts:AssumeRole",
            }
        )
    if spec.assume_role_arns:
        principals: dict[str, Any] = {
            "Sid": "Principals",
            "Effect": "Allow",
            "Principal": {"AWS": list(spec.assume_role_arns)},
            "Action": "sts:AssumeRole",
        }
        if spec.assume_role_external_id is not None:
            principals["Condition"] = {"StringEquals": {"sts:ExternalId": spec.assume_role_external_id}}
        statements.append(principals)
    return {"Version": "2012-10-17", "Statement": statements}


def _statement(
    sid: str, actions: set[str], resources: list[str], condition: dict[str, Any] | None = None
) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources}
    if condition:
        statement["Condition"] = condition
    return statement
