"""The audit's lean path for bucket-configuration GETs (GetBucketPolicy, GetPublicAccessBlock, ...).

Why not botocore for these: an audit sends about seven configuration GETs per bucket, and botocore's
per-request work (event hooks, endpoint rules, model-driven serialisation, its signer's header maps)
costs 1.5-2 ms of client CPU each; at a thousand buckets on a small machine that CPU competes with the
endpoint itself. This module sends the same GETs over `cargohold_core.s3http` (the uploader's byte-identical
SigV4 signer and minimal keep-alive HTTP/1.1 client) and parses the answers itself.

Same answers as boto3, by construction: each operation's output parser is compiled once from botocore's
own S3 service model and follows botocore's rest-xml parser rule for rule (member names and XML names,
flattened lists, attributes such as a grantee's `xsi:type`, ints, bools, timestamps, an empty body as
an empty structure, a string payload as the body's text). So `call("GetBucketCors", b)` equals boto3's
`get_bucket_cors(Bucket=b)` without its ResponseMetadata, and the boto3-named methods
(`get_bucket_cors(Bucket=b)`) can stand in for an S3 client in the inventory's reads.

Failures look like botocore's: an S3 error answer raises `ClientError` with the error's Code, Message
and HTTP status (so `fetch.read(..., absent=...)` works unchanged); a request that never got an answer
(after retries) or an unreadable answer raises a `BotoCoreError` subclass, which `fetch.read` also
reports as unreadable.

Addressing is the uploader's (`cargohold_core.s3http.bucket_address`): path style for a configured
endpoint (emulators and other S3-compatible servers); on AWS virtual-hosted style
(`https://{bucket}.s3.{region}.amazonaws.com/?policy`), path style on the regional host for names that
cannot be host names. Region redirects (`s3http.redirect_region`: 301 PermanentRedirect, 400
AuthorizationHeaderMalformed, 307) are followed once, signed for the bucket's region, which is remembered
for the bucket's other reads. Transport errors, 500/502/503/504 and throttling are retried (5 attempts in
all, with cargohold_core.retry's backoff).
"""

from __future__ import annotations

import base64
import http.client
import json
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any, cast

from botocore.exceptions import BotoCoreError, ClientError
from botocore.utils import parse_timestamp

from cargohold_core.config.model import Environment
from cargohold_core.retry import Backoff, retryable_answer
from cargohold_core.s3http import (
    EMPTY_SHA256,
    ConnectionPool,
    Response,
    SigV4Signer,
    TransportError,
    bucket_address,
    is_aws_endpoint,
    redirect_region,
)

# Operation -> the subresource that names it in the query string (GET /{bucket}?{subresource}).
SUBRESOURCES: dict[str, str] = {
    "GetPublicAccessBlock": "publicAccessBlock",
    "GetBucketPolicy": "policy",
    "GetBucketPolicyStatus": "policyStatus",
    "GetBucketOwnershipControls": "ownershipControls",
    "GetBucketAcl": "acl",
    "GetBucketEncryption": "encryption",
    "GetBucketVersioning": "versioning",
    "GetBucketLifecycleConfiguration": "lifecycle",
    "GetBucketCors": "cors",
    "GetBucketLogging": "logging",
    "GetBucketReplication": "replication",
    "GetBucketTagging": "tagging",
}

MAX_ATTEMPTS = 5  # per GET, first try included (a region redirect is not counted)
USER_AGENT = "cargohold-audit s3get"
_CONNECT_TIMEOUT = 10.0  # as cargohold_core.aws.RETRIES
_READ_TIMEOUT = 60.0
_AWS_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn")


# Names botocore would put in the host name (DNS-compatible, no dots: a dot would break the TLS wildcard).
class S3ReadError(BotoCoreError):
    """A bucket-configuration GET got no usable answer (the connection failed on every attempt, or the
    answer could not be parsed). A BotoCoreError, so `fetch.read` reports it as unreadable."""

    fmt = "{operation} for bucket {bucket}: {error}"


# --- the reader ---------------------------------------------------------------------------------


class BucketConfigReader:
    """Bucket-configuration GETs without botocore's per-request cost. Thread-safe.

    `credentials`: a botocore Credentials object (refreshable ones refresh as usual).
    `on_request`: called before every HTTP attempt (retries and redirects included), like the
    `before-send` counter on the inventory's boto3 clients.
    `service_model`: botocore's S3 service model (e.g. `client.meta.service_model`); loaded once per
    process when not given (about 0.3 s).
    `endpoint`: the endpoint boto3 resolved for S3 (`client.meta.endpoint_url`); used only when the
    environment has none and it is not an AWS host (AWS_ENDPOINT_URL or a profile's endpoint_url).
    """

    def __init__(
        self,
        env: Environment,
        credentials: Any,
        on_request: Callable[[], None] = lambda: None,
        *,
        service_model: Any = None,
        endpoint: str | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        backoff_base: float = 0.1,
        backoff_cap: float = 10.0,
        max_idle_connections: int = 64,
    ) -> None:
        if credentials is None:
            raise ValueError("BucketConfigReader needs credentials (a botocore Credentials object)")
        self._credentials = credentials
        self._on_request = on_request
        self._region = env.region
        self._backoff = Backoff(max_attempts=max(1, max_attempts), base=backoff_base, cap=backoff_cap)
        self._parsers = _parsers(service_model)
        self._signers: dict[str, SigV4Signer] = {}
        self._regions: dict[str, str] = {}  # bucket -> its region, where it is not the environment's
        self._lock = threading.Lock()
        self._pool = ConnectionPool(
            max_idle=max_idle_connections, connect_timeout=_CONNECT_TIMEOUT, read_timeout=_READ_TIMEOUT
        )
        self._endpoint = env.endpoint or (endpoint if endpoint and not is_aws_endpoint(endpoint) else None)

    # --- boto3-named reads (boto3's keyword too): the whole output, without ResponseMetadata -------

    def get_public_access_block(self, *, Bucket: str) -> dict[str, Any]:
        return self.call("GetPublicAccessBlock", Bucket)

    def get_bucket_policy(self, *, Bucket: str) -> dict[str, Any]:
        return self.call("GetBucketPolicy", Bucket)

    def get_bucket_policy_status(self, *, Bucket: str) -> dict[str, Any]:
        return self.call("GetBucketPolicyStatus", Bucket)

    def get_bucket_ownership_controls(self, *, Bucket: str) -> dict[str, Any]:
        return self.call("GetBucketOwnershipControls", Bucket)

    def get_bucket_acl(self, *, Bucket: str) -> dict[str, Any]:
        return self.call("GetBucketAcl", Bucket)

    def get_bucket_encryption(self, *, Bucket: str) -> dict[str, Any]:
        return self.call("GetBucketEncryption", Bucket)

    def get_bucket_versioning(self, *, Bucket: str) -> dict[str, Any]:
        return self.call("GetBucketVersioning", Bucket)

    def get_bucket_lifecycle_configuration(self, *, Bucket: str) -> dict[str, Any]:
        return self.call("GetBucketLifecycleConfiguration", Bucket)

    def get_bucket_cors(self, *, Bucket: str) -> dict[str, Any]:
        return self.call("GetBucketCors", Bucket)

    def get_bucket_logging(self, *, Bucket: str) -> dict[str, Any]:
        return self.call("GetBucketLogging", Bucket)

    def get_bucket_replication(self, *, Bucket: str) -> dict[str, Any]:
        return self.call("GetBucketReplication", Bucket)

    def get_bucket_tagging(self, *, Bucket: str) -> dict[str, Any]:
        return self.call("GetBucketTagging", Bucket)

    # --- the values the inventory keeps (same expressions as its boto3 lambdas) -----------------

    def public_access_block(self, bucket: str) -> dict[str, bool]:
        return cast("dict[str, bool]", self.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"])

    def policy(self, bucket: str) -> dict[str, Any]:
        return cast("dict[str, Any]", json.loads(self.get_bucket_policy(Bucket=bucket)["Policy"]))

    def policy_is_public(self, bucket: str) -> bool:
        return bool(self.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"])

    def ownership(self, bucket: str) -> str | None:
        rules = self.get_bucket_ownership_controls(Bucket=bucket).get("OwnershipControls", {}).get("Rules", [])
        return cast("str | None", rules[0].get("ObjectOwnership")) if rules else None

    def acl_grants(self, bucket: str) -> list[dict[str, Any]]:
        return cast("list[dict[str, Any]]", self.get_bucket_acl(Bucket=bucket)["Grants"])

    def encryption(self, bucket: str) -> dict[str, Any] | None:
        rules = self.get_bucket_encryption(Bucket=bucket).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
        if not rules:
            return None
        default = rules[0].get("ApplyServerSideEncryptionByDefault", {})
        return {
            "algorithm": default.get("SSEAlgorithm"),
            "kms_key_arn": default.get("KMSMasterKeyID"),
            "bucket_key": bool(rules[0].get("BucketKeyEnabled", False)),
        }

    def versioning(self, bucket: str) -> str | None:
        return cast("str | None", self.get_bucket_versioning(Bucket=bucket).get("Status"))

    def lifecycle(self, bucket: str) -> list[dict[str, Any]]:
        return cast("list[dict[str, Any]]", self.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"])

    def cors(self, bucket: str) -> list[dict[str, Any]]:
        return cast("list[dict[str, Any]]", self.get_bucket_cors(Bucket=bucket)["CORSRules"])

    def logging(self, bucket: str) -> dict[str, Any] | None:
        return cast("dict[str, Any] | None", self.get_bucket_logging(Bucket=bucket).get("LoggingEnabled"))

    def replication(self, bucket: str) -> dict[str, Any]:
        return cast("dict[str, Any]", self.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"])

    # --- the request -----------------------------------------------------------------------------

    def remember_region(self, bucket: str, region: str | None) -> None:
        """Sign this bucket's reads for `region` from the start (e.g. ListBuckets' BucketRegion), which
        saves the redirect round trip for a bucket outside the environment's region."""
        if region:
            self._regions[bucket] = region

    def call(self, operation: str, bucket: str) -> dict[str, Any]:
        """One configuration GET; the parsed output as boto3 gives it, without ResponseMetadata."""
        subresource = SUBRESOURCES[operation]
        parse = self._parsers[operation]
        query = f"{subresource}="  # the canonical form of the bare `?subresource` (as botocore signs it)
        redirected = False
        attempt = 0
        while True:
            region = self._regions.get(bucket, self._region)
            address = bucket_address(bucket, region, self._endpoint)
            headers = self._signer(region).sign(
                method="GET",
                host=address.host_header,
                path=address.root,
                query=query,
                headers={"user-agent": USER_AGENT},
                payload_sha256=EMPTY_SHA256,
            )
            self._on_request()
            conn = self._pool.checkout(address.scheme, address.hostname, address.port)
            try:
                resp = conn.request("GET", f"{address.root}?{subresource}", headers, b"")
            except TransportError as exc:
                attempt += 1
                if attempt >= self._backoff.max_attempts:
                    raise S3ReadError(
                        operation=operation, bucket=bucket, error=f"{exc} (gave up after {attempt} attempts)"
                    ) from exc
                time.sleep(self._backoff.delay(attempt))
                continue
            self._pool.checkin(conn)
            if 200 <= resp.status < 300:
                try:
                    return parse(resp)
                except (ET.ParseError, ValueError, IndexError) as exc:
                    raise S3ReadError(operation=operation, bucket=bucket, error=f"unreadable answer: {exc}") from exc
            error = error_response(resp)
            details = error["Error"]
            code = details.get("Code")
            if not redirected:
                new_region = redirect_region(resp)
                if new_region is not None and new_region != region:
                    redirected = True
                    self._regions[bucket] = new_region
                    continue
            if retryable_answer(resp.status, code):
                attempt += 1
                if attempt < self._backoff.max_attempts:
                    time.sleep(self._backoff.delay(attempt))
                    continue
            raise ClientError(cast(Any, error), operation)

    def close(self) -> None:
        """Close every idle connection (connections in use close when their thread returns them)."""
        self._pool.close()

    def __enter__(self) -> BucketConfigReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- internals -------------------------------------------------------------------------------

    def _signer(self, region: str) -> SigV4Signer:
        signer = self._signers.get(region)
        if signer is None:
            with self._lock:
                signer = self._signers.setdefault(region, SigV4Signer(self._credentials, region))
        return signer


# --- errors, as botocore's rest-xml parser reads them --------------------------------------------


def error_response(resp: Response) -> dict[str, Any]:
    """The `ClientError.response` botocore would build for this S3 error answer."""
    status, body, headers = resp.status, resp.body, resp.headers
    metadata: dict[str, Any] = {}
    if "x-amz-request-id" in headers:
        metadata["RequestId"] = headers["x-amz-request-id"]
        metadata["HostId"] = headers.get("x-amz-id-2", "")
    stripped = body.strip()
    error: dict[str, Any] | None = None
    if status >= 500 and (not stripped or stripped.startswith(b"<html>")):
        error = {"Code": str(status), "Message": http.client.responses.get(status, "")}
    elif body:
        try:
            root = ET.fromstring(body)  # noqa: S314 - the answer of the S3 endpoint we chose
        except ET.ParseError:
            root = None
        if root is not None:
            parsed = _replace_nodes(_children(root))
            if root.tag == "Error":  # S3's form
                parsed.pop("RequestId", "")
                parsed.pop("HostId", "")
                error = parsed
            else:  # <ErrorResponse><Error>...</Error></ErrorResponse> (other rest-xml services)
                inner = parsed.get("Error")
                error = {"Message": "", "Code": "", **(inner if isinstance(inner, dict) else {})}
    if error is None:
        error = {"Code": str(status), "Message": http.client.responses.get(status, "")}
    metadata["HTTPStatusCode"] = status
    metadata["HTTPHeaders"] = dict(headers)
    return {"Error": error, "ResponseMetadata": metadata}


def _replace_nodes(parsed: dict[str, Any]) -> dict[str, Any]:
    for key, value in parsed.items():
        parsed[key] = _replace_nodes(_children(value)) if len(value) else value.text
    return parsed


# --- answers, parsed by botocore's rest-xml rules from its service model --------------------------

_Convert = Callable[[Any], Any]  # an XML element (or a list of repeated ones, or a header's text) -> value
_HEADER_LOCATIONS = ("header", "headers", "statusCode")

_model_lock = threading.Lock()
_default_model: Any = None
_compiled: dict[int, tuple[Any, dict[str, Callable[[Response], dict[str, Any]]]]] = {}


def _parsers(service_model: Any) -> dict[str, Callable[[Response], dict[str, Any]]]:
    """Each operation's output parser, compiled once per service model."""
    global _default_model
    with _model_lock:
        if service_model is None:
            if _default_model is None:
                import botocore.session

                _default_model = botocore.session.get_session().get_service_model("s3")
            service_model = _default_model
        cached = _compiled.get(id(service_model))
        if cached is not None and cached[0] is service_model:
            return cached[1]
        shapes: dict[tuple[str, str], _Convert] = {}
        made = {op: _compile_output(service_model.operation_model(op).output_shape, shapes) for op in SUBRESOURCES}
        _compiled[id(service_model)] = (service_model, made)  # keeps the model alive, so its id stays unique
        return made


def _compile_output(shape: Any, shapes: dict[tuple[str, str], _Convert]) -> Callable[[Response], dict[str, Any]]:
    header_members = [
        (name, str(member.serialization.get("name", name)).lower(), _scalar(member))
        for name, member in shape.members.items()
        if member.serialization.get("location") == "header" and member.type_name in _SCALARS
    ]
    payload = shape.serialization.get("payload")
    body: Callable[[bytes], dict[str, Any]]
    if payload is not None:
        payload_shape = shape.members[payload]
        if payload_shape.type_name == "string":
            body = lambda raw: {payload: raw.decode("utf-8")}  # noqa: E731
        elif payload_shape.type_name == "blob":
            body = lambda raw: {payload: raw}  # noqa: E731
        else:
            convert = _compile(payload_shape, shapes)
            body = lambda raw: {payload: convert(_root(raw))}  # noqa: E731
    else:
        convert_output = _compile(shape, shapes)  # header members are skipped by the structure
        body = lambda raw: convert_output(_root(raw))  # noqa: E731

    def parse(resp: Response) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, header, convert_header in header_members:
            if header in resp.headers:
                out[name] = convert_header(resp.headers[header])
        out.update(body(resp.body))
        return out

    return parse


def _root(raw: bytes) -> ET.Element:
    if not raw:
        return ET.Element("")  # botocore: an empty body is an empty structure
    return ET.fromstring(raw)  # noqa: S314 - the answer of the S3 endpoint we chose


def _local_name(tag: str) -> str:
    return tag[tag.rfind("}") + 1 :] if tag[:1] == "{" else tag


def _children(node: Any) -> dict[str, Any]:
    """botocore's _build_name_to_xml_node: child elements by local name, repeated ones in a list."""
    if isinstance(node, list):
        node = node[0]
    out: dict[str, Any] = {}
    for child in node:
        tag = child.tag
        if tag[:1] == "{":
            tag = tag[tag.rfind("}") + 1 :]
        seen = out.get(tag)
        if seen is None:
            out[tag] = child
        elif isinstance(seen, list):
            seen.append(child)
        else:
            out[tag] = [seen, child]
    return out


def _text(node: Any) -> Any:
    if hasattr(node, "text"):
        text = node.text
        return "" if text is None else text  # <Foo></Foo> is "", not None
    return node  # a header's value


_SCALARS: dict[str, _Convert] = {
    "string": _text,
    "character": _text,
    "boolean": lambda node: _text(node) == "true",
    "integer": lambda node: int(_text(node)),
    "long": lambda node: int(_text(node)),
    "float": lambda node: float(_text(node)),
    "double": lambda node: float(_text(node)),
    "timestamp": lambda node: parse_timestamp(_text(node)),
    "blob": lambda node: base64.b64decode(_text(node)),
}


def _scalar(shape: Any) -> _Convert:
    return _SCALARS[shape.type_name]


def _compile(shape: Any, shapes: dict[tuple[str, str], _Convert]) -> _Convert:
    kind = shape.type_name
    if kind in _SCALARS:
        return _SCALARS[kind]
    key = (shape.name, repr(sorted((str(k), repr(v)) for k, v in shape.serialization.items())))
    known = shapes.get(key)
    if known is not None:
        return known
    late: list[_Convert] = []
    shapes[key] = lambda node: late[0](node)  # a recursive shape reaches itself through this
    if kind == "structure":
        made = _structure(shape, shapes)
    elif kind == "list":
        made = _list(shape, shapes)
    elif kind == "map":
        made = _map(shape, shapes)
    else:
        made = _identity  # botocore's _default_handle
    late.append(made)
    shapes[key] = made
    return made


def _identity(node: Any) -> Any:
    return node


def _member_xml_name(member: Any, name: str) -> str:
    # A flattened list is named by its member's locationName (botocore's _member_key_name).
    if member.type_name == "list" and member.serialization.get("flattened"):
        inner = member.member.serialization.get("name")
        if inner is not None:
            return str(inner)
    return str(member.serialization.get("name", name))


def _structure(shape: Any, shapes: dict[tuple[str, str], _Convert]) -> _Convert:
    # (member name, XML name or None for an attribute, attribute name, attribute prefix, converter)
    members: list[tuple[str, str | None, str, str, _Convert]] = []
    for name, member in shape.members.items():
        if member.serialization.get("location") in _HEADER_LOCATIONS or member.serialization.get("eventheader"):
            continue
        convert = _compile(member, shapes)
        if member.serialization.get("xmlAttribute"):
            attribute = str(member.serialization["name"])
            members.append((name, None, attribute, attribute.split(":")[0] + ":", convert))
        else:
            members.append((name, _member_xml_name(member, name), "", "", convert))
    union = bool(getattr(shape, "is_tagged_union", False))
    union_names = {xml for _, xml, _, _, _ in members if xml is not None}

    def convert_structure(node: Any) -> dict[str, Any]:
        found = _children(node)
        if union:
            present = [tag for tag, value in found.items() if value is not None and tag != "__type"]
            if len(present) != 1:
                raise ValueError(f"{shape.name} must have one and only one member set")
            if present[0] not in union_names:
                return {"SDK_UNKNOWN_MEMBER": {"name": present[0]}}
        out: dict[str, Any] = {}
        for name, xml_name, attribute, prefix, convert in members:
            if xml_name is not None:
                child = found.get(xml_name)
                if child is not None:
                    out[name] = convert(child)
                continue
            element = node[0] if isinstance(node, list) else node
            for raw, value in element.attrib.items():
                if (prefix + _local_name(raw) if raw[:1] == "{" else raw) == attribute:
                    out[name] = value
        return out

    return convert_structure


def _list(shape: Any, shapes: dict[tuple[str, str], _Convert]) -> _Convert:
    flattened = bool(shape.serialization.get("flattened"))
    convert = _compile(shape.member, shapes)

    def convert_list(node: Any) -> list[Any]:
        if flattened and not isinstance(node, list):
            node = [node]
        return [None if item is None else convert(item) for item in node]

    return convert_list


def _map(shape: Any, shapes: dict[tuple[str, str], _Convert]) -> _Convert:
    key_name = shape.key.serialization.get("name") or "key"
    value_name = shape.value.serialization.get("name") or "value"
    flattened = bool(shape.serialization.get("flattened"))
    convert_key = _compile(shape.key, shapes)
    convert_value = _compile(shape.value, shapes)

    def convert_map(node: Any) -> dict[Any, Any]:
        if flattened and not isinstance(node, list):
            node = [node]
        out: dict[Any, Any] = {}
        for entry in node:
            key: Any = None
            value: Any = None
            for part in entry:
                tag = _local_name(part.tag)
                if tag == key_name:
                    key = convert_key(part)
                elif tag == value_name:
                    value = convert_value(part)
                else:
                    raise ValueError(f"unknown tag in a map: {tag}")
            out[key] = value
        return out

    return convert_map
