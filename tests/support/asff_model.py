"""ASFF findings held to AWS's own model of them: the securityhub service model botocore ships
(botocore/data/securityhub/*/service-2.json), shape AwsSecurityFinding and everything under it.

`problems(finding)` walks the finding against the shapes: required members present, no member the model does
not have, JSON types, enum values, patterns (searched, as Smithy patterns are: not anchored), list sizes,
and the length limits AWS states only in each member's documentation ("Length Constraints: Maximum length of
256", "Array Members: Maximum number of 32 items", "up to 50 key-value pairs ... the value can contain up to
2048 characters"), which are read from that text. `batch_problems` runs botocore's own client-side validation of
a BatchImportFindings request as well (it checks required members, types and minimums, not maximums or enums).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import botocore.session
from botocore.exceptions import ParamValidationError
from botocore.validate import validate_parameters

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
TIMESTAMPS = ("CreatedAt", "UpdatedAt", "FirstObservedAt", "LastObservedAt")
# The user guide's required top-level attributes: the model's `required` list plus Severity and Types.
REQUIRED_TOO = ("Severity", "Types")


@cache
def _model() -> dict[str, Any]:
    loader = botocore.session.get_session().get_component("data_loader")
    model: dict[str, Any] = loader.load_service_model("securityhub", "service-2")
    return model


def shapes() -> dict[str, Any]:
    found: dict[str, Any] = _model()["shapes"]
    return found


def _text(doc: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", doc or "").split())


def _number(pattern: str, doc: str) -> int | None:
    match = re.search(pattern, doc)
    return int(match.group(1)) if match else None


def _limits(shape: dict[str, Any], doc: str) -> tuple[int | None, int | None]:
    """(min, max) for a string, from the shape and the member's documentation."""
    exact = _number(r"Length Constraints: (\d+)\.", doc)
    low = _number(r"Minimum (?:length )?of (\d+)", doc) or shape.get("min")
    high = _number(r"Maximum (?:length )?of (\d+)", doc) or shape.get("max")
    return (exact, exact) if exact is not None else (low, high)


def problems(value: Any, shape_name: str = "AwsSecurityFinding", path: str = "", doc: str = "") -> list[str]:
    shape = shapes()[shape_name]
    kind = shape["type"]
    where = path or "finding"
    out: list[str] = []
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{where}: {shape_name} must be an object, not {type(value).__name__}"]
        for name in shape.get("required", []):
            if name not in value:
                out.append(f"{where}: required member {name} is missing")
        for name, item in value.items():
            member = shape["members"].get(name)
            if member is None:
                out.append(f"{where}: {shape_name} has no member {name}")
                continue
            out += problems(
                item, member["shape"], f"{path}.{name}" if path else name, _text(member.get("documentation"))
            )
    elif kind == "list":
        if not isinstance(value, list):
            return [f"{where}: must be a list"]
        low = _number(r"Minimum number of (\d+) item", doc) or shape.get("min")
        high = _number(r"Maximum number of (\d+) items", doc) or shape.get("max")
        if low is not None and len(value) < low:
            out.append(f"{where}: {len(value)} items, fewer than {low}")
        if high is not None and len(value) > high:
            out.append(f"{where}: {len(value)} items, more than {high}")
        for i, item in enumerate(value):
            out += problems(item, shape["member"]["shape"], f"{where}[{i}]")
    elif kind == "map":
        if not isinstance(value, dict):
            return [f"{where}: must be an object"]
        pairs = _number(r"up to (\d+) key-value pairs", doc)
        key_max = _number(r"key can contain up to (\d+) characters", doc)
        value_max = _number(r"value can contain up to (\d+) characters", doc)
        if pairs is not None and len(value) > pairs:
            out.append(f"{where}: {len(value)} pairs, more than {pairs}")
        for key, item in value.items():
            out += problems(key, shape["key"]["shape"], f"{where} key {key!r}")
            out += problems(item, shape["value"]["shape"], f"{where}[{key!r}]")
            if key_max is not None and len(key) > key_max:
                out.append(f"{where}: key {key[:40]!r}... is longer than {key_max}")
            if value_max is not None and isinstance(item, str) and len(item) > value_max:
                out.append(f"{where}[{key!r}]: {len(item)} characters, more than {value_max}")
    elif kind == "string":
        if not isinstance(value, str):
            return [f"{where}: must be a string, not {type(value).__name__}"]
        if "enum" in shape and value not in shape["enum"]:
            out.append(f"{where}: {value!r} is not one of {shape['enum']}")
        if "pattern" in shape and not re.search(shape["pattern"], value):
            out.append(f"{where}: {value!r} does not match {shape['pattern']}")
        low, high = _limits(shape, doc)
        if low is not None and len(value) < low:
            out.append(f"{where}: {len(value)} characters, fewer than {low}")
        if high is not None and len(value) > high:
            out.append(f"{where}: {len(value)} characters, more than {high}")
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"{where}: must be an integer"]
        if "min" in shape and value < shape["min"]:
            out.append(f"{where}: {value} is less than {shape['min']}")
        if "max" in shape and value > shape["max"]:
            out.append(f"{where}: {value} is more than {shape['max']}")
    elif kind in ("double", "float"):
        if not isinstance(value, int | float) or isinstance(value, bool):
            return [f"{where}: must be a number"]
    elif kind == "boolean":
        if not isinstance(value, bool):
            return [f"{where}: must be true or false"]
    else:
        out.append(f"{where}: shape type {kind} is not handled here")
    return out


def finding_problems(finding: dict[str, Any]) -> list[str]:
    """`problems` plus what the user guide requires beyond the model: Severity and Types present, Types in
    the documented namespaces, timestamps in RFC 3339."""
    out = problems(finding)
    out += [f"required attribute {name} is missing" for name in REQUIRED_TOO if name not in finding]
    doc = _text(shapes()["AwsSecurityFinding"]["members"]["Types"]["documentation"])
    spaces = [s.strip() for s in doc.split("Valid namespace values are:")[1].split("|")]
    spaces[-1] = spaces[-1].split(" Array Members")[0]
    for kind in finding.get("Types", []) + finding.get("FindingProviderFields", {}).get("Types", []):
        if kind.split("/")[0] not in spaces or kind.count("/") > 2:
            out.append(f"type {kind!r} is not namespace/category/classifier with a namespace of {spaces}")
    for name in TIMESTAMPS:
        if name in finding and not RFC3339.match(finding[name]):
            out.append(f"{name}: {finding[name]!r} is not an RFC 3339 date-time")
    if "Label" not in finding.get("Severity", {}):
        out.append("Severity.Label is missing")
    return out


def batch_problems(findings: list[dict[str, Any]]) -> list[str]:
    """botocore's own validation of a BatchImportFindings request with these findings (at most 100)."""
    operation = botocore.session.get_session().get_service_model("securityhub").operation_model("BatchImportFindings")
    try:
        validate_parameters({"Findings": findings}, operation.input_shape)
    except ParamValidationError as exc:
        return [str(exc)]
    return []
