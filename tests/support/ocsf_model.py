"""OCSF events read back with py-ocsf-models, the models prowler builds its own OCSF output with.

`problems(event)` validates one event as a Detection Finding, then dumps the model again and reports every
value that did not come back as written: a key the model does not know (pydantic drops it), a number
written as a string, an enum value written under another name.
"""

from __future__ import annotations

from typing import Any

from py_ocsf_models import OCSF_VERSION as MODELS_OCSF_VERSION
from py_ocsf_models.events.findings.detection_finding import DetectionFinding
from pydantic import ValidationError

__all__ = ["MODELS_OCSF_VERSION", "problems"]


def _differences(written: Any, read: Any, path: str) -> list[str]:
    if isinstance(written, dict) and isinstance(read, dict):
        out = [f"{path}.{key}: not in the model (dropped)" for key in written if key not in read]
        return out + [
            d for key in written if key in read for d in _differences(written[key], read[key], f"{path}.{key}")
        ]
    if isinstance(written, list) and isinstance(read, list) and len(written) == len(read):
        return [
            d for i, (w, r) in enumerate(zip(written, read, strict=True)) for d in _differences(w, r, f"{path}[{i}]")
        ]
    if written != read or type(written) is not type(read):
        return [f"{path}: wrote {written!r}, the model reads {read!r}"]
    return []


def problems(event: dict[str, Any]) -> list[str]:
    try:
        model = DetectionFinding.model_validate(event)
    except ValidationError as exc:
        return [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
    return _differences(event, model.model_dump(mode="json", exclude_none=True), "event")
