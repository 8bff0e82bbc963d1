"""What a resource handler is: plain functions from Terraform state values to emulator calls.

A state value is a dict keyed by the resource schema's attribute and block names. Attributes are
plain Python values (None when unset); every block, whatever its nesting (list, set, or at most one),
is a list of dicts. A handler may leave keys out: the server fills them from the schema (None, []).

- `create(api, planned)` makes the resource from the planned values (computed ones are None) and
  returns its state, computed values filled in (id, arn...).
- `read(api, state)` returns what the emulator holds now, in the same shape, or None when the
  resource is gone. Keys it leaves out keep their prior value (arguments the API does not echo, such
  as force_destroy). It must report a setting the way the configuration writes it, so that a second
  plan after apply is empty, and report a change made behind Terraform's back as that change.
- `update(api, prior, planned)` changes the resource in place and returns its new state.
- `delete(api, state)` removes it; a resource already gone is not an error.
- `import_state(api, import_id)` returns the minimal state (at least `id`) that `read` completes,
  from the import id the real provider documents for the type; None when nothing has that id.
- `replace_on`: top-level arguments whose change forces a new resource, as the real provider marks them.
- `defaults`: top-level arguments the real provider gives a default when the configuration leaves them
  out (path "/", force_destroy false...). The committed schema carries no defaults; the plan fills these
  in, so a planned value is never null where the real provider's would not be.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

State = dict[str, Any]


def error_code(exc: Exception) -> str:
    """The AWS error code of a failed botocore call ("" for anything else). Kept here, not imported from
    cargohold_core.aws, so the provider process starts without the config model (Terraform starts it often)."""
    response = getattr(exc, "response", None)
    return str((response or {}).get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def integral(value: Any) -> Any:
    """A whole float as an int (Terraform's numbers arrive as either)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def first_block(blocks: Any) -> dict[str, Any]:
    """The one block of a block list that holds at most one, or {}."""
    return dict(blocks[0]) if blocks else {}


class ResourceError(Exception):
    """A failure to report to Terraform as an error diagnostic (summary, detail)."""

    def __init__(self, summary: str, detail: str = "") -> None:
        super().__init__(summary)
        self.summary = summary
        self.detail = detail


def aws_failure(action: str, exc: Exception) -> ResourceError:
    """The error diagnostic for a failed AWS call: what was being done and the AWS error code, then AWS's
    message (the shape the real provider's diagnostics have)."""
    code = error_code(exc)
    response = getattr(exc, "response", None)
    message = str(response.get("Error", {}).get("Message", "")) if isinstance(response, dict) else ""
    return ResourceError(f"{action}: {code}" if code else action, message or str(exc))


class Api:
    """boto3 clients for the emulator, made on first use, plus the provider settings handlers need."""

    def __init__(
        self,
        *,
        region: str,
        endpoints: Mapping[str, str],
        account_id: str | None = None,
        default_tags: Mapping[str, str] | None = None,
        credentials: tuple[str, str, str | None] | None = None,
    ) -> None:
        self.region = region
        self.endpoints = dict(endpoints)
        self.credentials = credentials  # the assumed role's, when the provider block assumes one
        self.default_tags = dict(default_tags or {})  # the provider block's default_tags
        self._account_id = account_id

    def in_region(self, region: str | None) -> Api:
        """The same provider settings in another region: a resource's own `region` argument (the AWS
        provider 6's per-resource region) wins over the provider block's. None or the same: this one."""
        if not region or region == self.region:
            return self
        return Api(
            region=region,
            endpoints=self.endpoints,
            account_id=self._account_id,
            default_tags=self.default_tags,
            credentials=self.credentials,
        )

    def tags_for(self, tags_all: Mapping[str, str] | None) -> dict[str, str] | None:
        """`tags` as the real provider reads it back: the live tags minus the provider's default
        tags (same key and value); None when nothing is left."""
        own = {k: v for k, v in (tags_all or {}).items() if self.default_tags.get(k) != v}
        return own or None

    def client(self, service: str) -> Any:
        return _client(service, self.region, self.endpoints.get(service), self.credentials)

    @property
    def s3(self) -> Any:
        return self.client("s3")

    @property
    def dynamodb(self) -> Any:
        return self.client("dynamodb")

    @property
    def iam(self) -> Any:
        return self.client("iam")

    @property
    def autoscaling(self) -> Any:
        return self.client("applicationautoscaling")

    @property
    def account_id(self) -> str:
        if self._account_id is None:
            self._account_id = str(self.client("sts").get_caller_identity()["Account"])
        return self._account_id


_clients: dict[tuple[Any, ...], Any] = {}
_clients_lock = threading.Lock()


def _client(service: str, region: str, endpoint: str | None, given: tuple[str, str, str | None] | None = None) -> Any:
    """One client per service and credentials, from one session: a session loads the service models
    once, and client creation is not thread-safe (Terraform applies up to ten resources at a time).
    The credentials are the environment's at the call, so a provider serving several Terraform runs
    (tests attach one) uses each run's; `given` (an assumed role's) wins over them."""
    credentials = given or tuple(
        os.environ.get(n) for n in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    )
    key = (service, region, endpoint, credentials)
    with _clients_lock:
        if key not in _clients:
            from botocore.config import Config

            name = {"applicationautoscaling": "application-autoscaling"}.get(service, service)
            config = Config(retries={"mode": "standard", "max_attempts": 3}, s3={"addressing_style": "path"})
            explicit = dict(
                zip(("aws_access_key_id", "aws_secret_access_key", "aws_session_token"), credentials, strict=True)
            )
            _clients[key] = _session().client(
                name,
                region_name=region,
                endpoint_url=endpoint,
                config=config,
                **(explicit if credentials[0] else {}),
            )
        return _clients[key]


@functools.cache
def _session() -> Any:
    import boto3

    return boto3.session.Session()


@dataclass(frozen=True)
class Handler:
    type_name: str
    create: Callable[[Api, State], State]
    read: Callable[[Api, State], State | None]
    update: Callable[[Api, State, State], State]
    delete: Callable[[Api, State], None]
    import_state: Callable[[Api, str], State | None]
    replace_on: frozenset[str] = field(default_factory=frozenset)
    defaults: Mapping[str, Any] = field(default_factory=dict)
