"""AWS naming rules, and the name template that turns a logical key into an AWS name.

Each `check_*` returns a list of reasons (empty when the name is valid), so the caller can say
every reason at once, located at the key that produced the name.
"""

from __future__ import annotations

import ipaddress
import re
import string

DEFAULT_TEMPLATE = "{project}-{env}-{name}"
TEMPLATE_FIELDS = frozenset({"project", "env", "name", "account", "region"})

# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
_BUCKET_CHARS = re.compile(r"^[a-z0-9.-]+$")
_BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_TABLE_CHARS = re.compile(r"^[A-Za-z0-9_.-]+$")
_IAM_CHARS = re.compile(r"^[A-Za-z0-9+=,.@_-]+$")
_IAM_PATH = re.compile(r"^/([\x21-\x7e]+/)?$")


def template_fields(template: str) -> list[str]:
    """The placeholders a template uses; raises ValueError on malformed braces."""
    return [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]


def render(template: str, *, project: str, env: str, name: str, account: str, region: str) -> str:
    return template.format(project=project, env=env, name=name, account=account, region=region)


def check_bucket(name: str) -> list[str]:
    reasons = []
    if not 3 <= len(name) <= 63:
        reasons.append(f"is {len(name)} characters long; bucket names must be 3-63")
    if not _BUCKET_CHARS.match(name):
        bad = sorted({c for c in name if not re.match(r"[a-z0-9.-]", c)})
        reasons.append(f"contains {' '.join(repr(c) for c in bad)}; only lowercase letters, digits, '.' and '-'")
    if name and not (name[0].isalnum() and name[-1].isalnum()):
        reasons.append("must begin and end with a lowercase letter or digit")
    if ".." in name:
        reasons.append("must not contain two adjacent periods")
    if ".-" in name or "-." in name:
        reasons.append("must not have a period next to a hyphen")
    try:
        ipaddress.IPv4Address(name)
        reasons.append("must not be formatted as an IP address")
    except ValueError:
        pass
    for prefix in _BUCKET_RESERVED_PREFIXES:
        if name.startswith(prefix):
            reasons.append(f"must not start with the reserved prefix '{prefix}'")
    for suffix in _BUCKET_RESERVED_SUFFIXES:
        if name.endswith(suffix):
            reasons.append(f"must not end with the reserved suffix '{suffix}'")
    return reasons


def check_table(name: str) -> list[str]:
    reasons = []
    if not 3 <= len(name) <= 255:
        reasons.append(f"is {len(name)} characters long; table names must be 3-255")
    if not _TABLE_CHARS.match(name):
        reasons.append("may contain only letters, digits, '_', '-' and '.'")
    return reasons


def check_index(name: str) -> list[str]:
    return [r.replace("table names", "index names") for r in check_table(name)]


def check_iam(name: str, *, kind: str, max_length: int = 64) -> list[str]:
    reasons = []
    if not 1 <= len(name) <= max_length:
        reasons.append(f"is {len(name)} characters long; IAM {kind} names must be 1-{max_length}")
    if not _IAM_CHARS.match(name):
        reasons.append("may contain only letters, digits and '+=,.@_-'")
    return reasons


def check_iam_path(path: str) -> list[str]:
    if len(path) > 512 or not _IAM_PATH.match(path):
        return ["must start and end with '/' and hold only printable ASCII (e.g. '/' or '/apps/')"]
    return []
