"""The resolved configuration: one `Environment` per environment, every name final.

This is the single source of truth for the desired state of each bucket, table and principal.
Terraform variables, the offline preview, the IAM policies and (later) the audit all derive from it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cargohold_core.config.schema import BucketSpec, ConfigFile, EnvironmentSpec, Grant, PrincipalSpec, TableSpec
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


def policy_document(
    spec: PrincipalSpec, *, buckets: dict[str, Bucket], tables: dict[str, Table], region: str
) -> dict[str, Any]:
    """The principal's policy, statement for statement what the iam-principal module renders. `region` is
    the environment's (a bucket's requests to KMS come through S3 there; a table's region is in its ARN)."""
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
        key = grant_key(grant, buckets=buckets, tables=tables, region=region)
        if key is not None:
            field = "kms_client_side" if grant.client_side_encryption else "kms"
            kms_actions = {a for word in grant.actions for a in words[word][field]}
            if kms_actions:
                statements.append(kms_statement(f"G{index}Kms", kms_actions, key))
    return {"Version": "2012-10-17", "Statement": statements}


@dataclass(frozen=True)
class GrantKey:
    """The KMS key a grant's data is encrypted with, and the service its use must come through (None: the
    application calls KMS itself, client-side encryption)."""

    arn: str
    via_service: str | None


def grant_key(grant: Grant, *, buckets: dict[str, Bucket], tables: dict[str, Table], region: str) -> GrantKey | None:
    """The key whose use the grant's words need in IAM: the grant's own `kms_key_arn`, else the bucket's
    sse-kms key or the table's customer-kms key. None when IAM needs nothing: SSE-S3, DynamoDB's AWS
    owned key, and the AWS managed keys aws/s3 and aws/dynamodb (sse-kms without `kms_key_arn`,
    `aws-managed`), whose key policies already allow every principal of the account through the service."""
    if grant.bucket is not None:
        encryption = buckets[grant.bucket].spec.encryption
        service, service_region = "s3", buckets[grant.bucket].region or region  # the bucket's own region
        own = encryption.kms_key_arn if encryption.type == "sse-kms" else None
    else:
        table = tables[str(grant.table)]
        service, service_region = "dynamodb", table.arn.split(":")[3]
        own = table.spec.encryption.kms_key_arn if table.spec.encryption.type == "customer-kms" else None
    arn = grant.kms_key_arn or own
    if arn is None:
        return None
    if grant.client_side_encryption:
        return GrantKey(arn=arn, via_service=None)
    return GrantKey(arn=arn, via_service=via_service(service, service_region))


def via_service(service: str, region: str) -> str:
    """The `kms:ViaService` value of requests a service makes to KMS on a caller's behalf."""
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{service}.{region}.{suffix}"


def kms_statement(sid: str, actions: set[str], key: GrantKey) -> dict[str, Any]:
    """Use of one KMS key. IAM authorises key use on the key's ARN only: a key named by an alias ARN becomes
    every key of that account and region that carries the alias (`kms:ResourceAliases`)."""
    condition: dict[str, Any] = {}
    resource = key.arn
    if ":alias/" in key.arn:
        head, alias = key.arn.split(":alias/", 1)
        resource = f"{head}:key/*"
        condition["ForAnyValue:StringEquals"] = {"kms:ResourceAliases": f"alias/{alias}"}
    if key.via_service is not None:
        condition["StringEquals"] = {"kms:ViaService": key.via_service}
    return _statement(sid, actions, [resource], condition or None)


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
