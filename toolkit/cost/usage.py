"""What the estimate is computed from: measured usage per bucket and table (or a planning file).

`cargohold cost` measures it from the account (`toolkit.cost.measure`), or reads it from a file with
`--usage FILE` (YAML or JSON, this same shape; no AWS calls, no credentials). Sizes are bytes, or a
string with a unit: "50 GB", "1.5 TB", "300 MB" (1 GB = 2^30 bytes, as AWS bills). Example::

    # usage.yaml: plan what acme-lms would cost at launch
    buckets:
      student-docs:                    # a bucket key from config.yaml (or the bucket's AWS name)
        storage: {STANDARD: 50 GB, STANDARD_IA: 200 GB}
        objects: 120000
        requests: {get: 2000000, put: 50000, list: 1000}   # per month
        transfer_out: 20 GB            # per month, to the internet
        noncurrent: {STANDARD: 5 GB}   # of the storage above: noncurrent versions
        multipart_uploads:             # pending (incomplete) multipart uploads
          - {initiated: 2026-01-02T00:00:00Z, bytes: 2 GB}
    tables:
      courses:
        size: 3 GB
        items: 1000000
        billing_mode: PAY_PER_REQUEST  # or PROVISIONED with provisioned_rcu / provisioned_wcu
        read_units: 30000000           # request units per month
        write_units: 2000000
        pitr: true

Omitted facts about a bucket's configuration (versioning, lifecycle) come from config.yaml.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from cargohold_core.config import yamlsource
from cargohold_core.config.diagnostics import problems_from
from cargohold_core.errors import ConfigError, Problem

# The billing classes the price table knows; INTELLIGENT_TIERING alone means its frequent tier.
STORAGE_CLASSES = (
    "STANDARD",
    "STANDARD_IA",
    "ONEZONE_IA",
    "GLACIER_IR",
    "GLACIER",
    "DEEP_ARCHIVE",
    "INTELLIGENT_TIERING_FA",
    "INTELLIGENT_TIERING_IA",
    "INTELLIGENT_TIERING_AIA",
    "INTELLIGENT_TIERING_AA",
    "INTELLIGENT_TIERING_DAA",
)
_ALIASES = {"INTELLIGENT_TIERING": "INTELLIGENT_TIERING_FA", "REDUCED_REDUNDANCY": "STANDARD"}

_UNITS = {"B": 1, "KB": 2**10, "MB": 2**20, "GB": 2**30, "TB": 2**40, "PB": 2**50}
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGTP]?B)\s*$", re.IGNORECASE)


def parse_size(value: Any) -> Any:
    """Bytes from an int or a string such as "50 GB" (GB = 2^30 bytes); other values pass through to pydantic."""
    if isinstance(value, str):
        match = _SIZE.match(value)
        if not match:
            raise ValueError(f"'{value}' is not a size; write bytes (e.g. 1073741824) or e.g. '50 GB', '1.5 TB'")
        try:
            number = Decimal(match.group(1))
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
            raise ValueError(f"'{value}' is not a size") from None
        return int(number * _UNITS[match.group(2).upper()])
    return value


def storage_class(name: str) -> str:
    name = _ALIASES.get(name, name)
    if name not in STORAGE_CLASSES:
        raise ValueError(f"unknown storage class '{name}'; use one of {', '.join(STORAGE_CLASSES)}")
    return name


Size = Annotated[int, BeforeValidator(parse_size), Field(ge=0)]
Count = Annotated[int, Field(ge=0)]


def _classes(value: Any) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, size in value.items():
            name = storage_class(str(key))
            if name in out:  # e.g. INTELLIGENT_TIERING and INTELLIGENT_TIERING_FA: add them up
                before, extra = parse_size(out[name]), parse_size(size)
                out[name] = before + extra if isinstance(before, int) and isinstance(extra, int) else size
            else:
                out[name] = size
        return out
    return value


BytesByClass = Annotated[dict[str, Size], BeforeValidator(_classes)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Requests(Model):
    """Requests per month, by the names of S3's CloudWatch request metrics."""

    get: Count = 0
    put: Count = 0  # PUT and COPY
    post: Count = 0
    list: Count = 0
    head: Count = 0
    delete: Count = 0  # free
    other: Count = 0  # SELECT and everything else: priced like GET

    @property
    def tier1(self) -> int:
        return self.put + self.post + self.list

    @property
    def tier2(self) -> int:
        return self.get + self.head + self.other


class MultipartUpload(Model):
    initiated: datetime
    bytes: Size | None = None  # None: not sized (beyond the cap on list_parts calls)
    storage_class: str = "STANDARD"
    key: str | None = None

    @field_validator("storage_class")
    @classmethod
    def _class(cls, value: str) -> str:
        return storage_class(value)


class BucketUsage(Model):
    name: str | None = None  # AWS name; from config.yaml when the file uses a bucket key
    storage: BytesByClass = {}  # all versions and pending upload parts, as CloudWatch counts them
    objects: Count | None = None
    requests: Requests | None = None  # None: no request metrics
    transfer_out: Size | None = None  # per month, to the internet
    retrieval: BytesByClass = {}  # per month
    versioning: Literal["Enabled", "Suspended", "Disabled"] | None = None  # None: from config.yaml
    noncurrent_expiration_days: int | None = None
    noncurrent_expiry_known: bool = False  # True when noncurrent_expiration_days was read (None = no rule)
    lifecycle_transitions: bool | None = None  # any enabled rule moving current versions; None: from config
    intelligent_tiering: bool | None = None
    noncurrent: BytesByClass | None = None  # part of `storage`; None: not measured
    noncurrent_versions: Count | None = None
    noncurrent_partial: bool = False  # the version listing stopped at its cap: at least this much
    multipart_uploads: list[MultipartUpload] | None = None  # None: not measured
    multipart_partial: bool = False
    errors: dict[str, str] = {}  # aspect (storage, requests, versions, multipart, lifecycle) -> why unread
    notes: list[str] = []


class TableUsage(Model):
    name: str | None = None
    size: Size = 0  # table plus global secondary indexes
    items: Count | None = None
    billing_mode: Literal["PAY_PER_REQUEST", "PROVISIONED"] = "PAY_PER_REQUEST"
    provisioned_rcu: Count = 0  # table plus global secondary indexes
    provisioned_wcu: Count = 0
    read_units: Annotated[float, Field(ge=0)] | None = None  # consumed per month; None: not measured
    write_units: Annotated[float, Field(ge=0)] | None = None
    pitr: bool = False
    table_class: Literal["STANDARD", "STANDARD_INFREQUENT_ACCESS"] = "STANDARD"
    errors: dict[str, str] = {}  # aspect (table, capacity, pitr) -> why unread
    notes: list[str] = []


class Undeclared(Model):
    """What the account holds that no environment of config.yaml declares (measured runs only): the
    buckets (every region) and the tables (of the environment's region), by AWS name."""

    buckets: dict[str, BucketUsage] = {}
    tables: dict[str, TableUsage] = {}
    error: str | None = None  # the account could not be listed: what it holds is unknown, not nothing


class Usage(Model):
    source: str = "measured"  # "measured" or the usage file's path
    buckets: dict[str, BucketUsage] = {}  # by config key (or AWS name for buckets not in config)
    tables: dict[str, TableUsage] = {}
    undeclared: Undeclared | None = None  # None: not looked for (a usage file plans declared resources only)
    measured_at: datetime | None = None
    api_calls: int = 0
    api_calls_by_operation: dict[str, int] = {}


def load_usage(path: Path) -> Usage:
    """Read a planning file (YAML or JSON); every problem is reported at once with file:line."""
    doc = yamlsource.load(path)
    if not isinstance(doc.data, dict):
        raise _usage_error([doc.problem((), "a usage file must be a mapping with `buckets:` and/or `tables:`", _HINT)])
    allowed = {"buckets", "tables"}
    problems = [
        doc.problem((key,), f"unknown key '{key}'", "a usage file has only `buckets:` and `tables:`")
        for key in doc.data
        if key not in allowed
    ]
    data = {k: v for k, v in doc.data.items() if k in allowed}
    try:
        usage = Usage.model_validate({**data, "source": str(path)})
    except ValidationError as exc:
        problems.extend(problems_from(exc, doc=doc, model=Usage))
        raise _usage_error(problems) from None
    if problems:
        raise _usage_error(problems)
    return usage


def _usage_error(problems: list[Problem]) -> ConfigError:
    error = ConfigError(problems)
    error.hint = "fix each problem listed above, then run `cargohold cost --usage` again"
    return error


_HINT = "see the example in toolkit/cost/usage.py (or toolkit/cost/README.md)"
