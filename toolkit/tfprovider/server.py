"""The tfplugin6 service Terraform talks to, and the go-plugin handshake that starts it.

Terraform runs the provider executable, reads one handshake line from its stdout
(`1|6|unix|<socket>|grpc|<server certificate>`), and calls the gRPC methods below over that socket.
Every failure becomes a diagnostic Terraform prints; nothing here raises into gRPC.
"""

from __future__ import annotations

import base64
import datetime
import os
import re
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterator
from concurrent import futures
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import grpc
from botocore.exceptions import BotoCoreError, ClientError
from tf.gen import tfplugin_pb2 as pb
from tf.gen import tfplugin_pb2_grpc as rpc

from cargohold_core.net import is_loopback
from toolkit.tfprovider import schema, values
from toolkit.tfprovider.resources.base import Api, ResourceError

PROVIDER_NAME = "cargohold emulator provider"
SERVICES = ("s3", "dynamodb", "iam", "sts", "applicationautoscaling", "kms")


def _error(summary: str, detail: str = "") -> Any:
    return pb.Diagnostic(severity=pb.Diagnostic.ERROR, summary=summary, detail=detail)


def _warning(summary: str, detail: str = "") -> Any:
    return pb.Diagnostic(severity=pb.Diagnostic.WARNING, summary=summary, detail=detail)


def _path(name: str) -> Any:
    return pb.AttributePath(steps=[pb.AttributePath.Step(attribute_name=name)])


def _guarded(method: Callable[..., Any]) -> Callable[..., Any]:
    """Turn any exception in a handler call into an error diagnostic on the method's response."""
    response_of = {
        "PlanResourceChange": pb.PlanResourceChange.Response,
        "ApplyResourceChange": pb.ApplyResourceChange.Response,
        "ReadResource": pb.ReadResource.Response,
        "ImportResourceState": pb.ImportResourceState.Response,
        "ConfigureProvider": pb.ConfigureProvider.Response,
        "UpgradeResourceState": pb.UpgradeResourceState.Response,
    }[method.__name__]

    def wrapper(self: Provider, request: Any, context: Any) -> Any:
        try:
            return method(self, request, context)
        except ResourceError as exc:
            return response_of(diagnostics=[_error(exc.summary, exc.detail)])
        except Exception as exc:  # reported to Terraform, which prints it for the user
            detail = "".join(traceback.format_exception(exc)) if os.environ.get("TF_LOG") else str(exc)
            return response_of(diagnostics=[_error(f"{PROVIDER_NAME}: {type(exc).__name__}: {exc}", detail)])

    wrapper.__name__ = method.__name__
    return wrapper


def _assume_role(blocks: list[dict[str, Any]], *, region: str, endpoint: str) -> tuple[str, str, str | None] | None:
    """The provider block's `assume_role`, done as hashicorp/aws does it: AssumeRole with the credentials
    Terraform was started with; the resources are then made with the role's."""
    if not blocks or not blocks[0].get("role_arn"):
        return None
    import boto3

    block = blocks[0]
    args: dict[str, Any] = {"RoleArn": block["role_arn"], "RoleSessionName": block.get("session_name") or "terraform"}
    if block.get("external_id"):
        args["ExternalId"] = block["external_id"]
    if block.get("duration"):
        from cargohold_core.config.schema import duration_seconds

        args["DurationSeconds"] = duration_seconds(block["duration"])
    answer = boto3.session.Session().client("sts", region_name=region, endpoint_url=endpoint).assume_role(**args)
    creds = answer["Credentials"]
    return (creds["AccessKeyId"], creds["SecretAccessKey"], creds.get("SessionToken"))


def loopback_problem(endpoints: dict[str, str]) -> str | None:
    """Why these endpoints are not all a loopback emulator, or None."""
    missing = [s for s in SERVICES if not endpoints.get(s)]
    if missing:
        return f"no endpoint for {', '.join(missing)}: this provider only talks to a local emulator"
    for service, url in sorted(endpoints.items()):
        if service in SERVICES and not is_loopback(urlsplit(url).hostname):
            return f"endpoint {service} = {url} is not on loopback: this provider only talks to a local emulator"
    return None


class Provider(rpc.ProviderServicer):  # type: ignore[misc]
    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop
        self.api: Api | None = None
        self._schemas: dict[str, Any] | None = None

    # --- schema

    def _resource_schemas(self) -> dict[str, Any]:
        if self._schemas is None:
            doc = schema.document()
            self._schemas = {
                name: pb.Schema(version=0, block=schema.block_pb(body, name, pb))
                for name, body in doc["resources"].items()
            }
        return self._schemas

    def GetMetadata(self, request: Any, context: Any) -> Any:
        return pb.GetMetadata.Response(
            server_capabilities=pb.ServerCapabilities(),
            resources=[pb.GetMetadata.ResourceMetadata(type_name=n) for n in schema.document()["resources"]],
        )

    def GetProviderSchema(self, request: Any, context: Any) -> Any:
        provider = pb.Schema(version=0, block=schema.block_pb(schema.document()["provider"], "aws", pb))
        return pb.GetProviderSchema.Response(
            provider=provider,
            resource_schemas=self._resource_schemas(),
            server_capabilities=pb.ServerCapabilities(),
        )

    def ValidateProviderConfig(self, request: Any, context: Any) -> Any:
        return pb.ValidateProviderConfig.Response()

    def ValidateResourceConfig(self, request: Any, context: Any) -> Any:
        from toolkit.tfprovider.resources import HANDLERS

        if request.type_name not in HANDLERS:
            detail = f"{request.type_name} is in the 6.66.0 schema but the emulator provider cannot make it"
            return pb.ValidateResourceConfig.Response(diagnostics=[_error(f"{PROVIDER_NAME}: not implemented", detail)])
        return pb.ValidateResourceConfig.Response()

    def ValidateDataResourceConfig(self, request: Any, context: Any) -> Any:
        return pb.ValidateDataResourceConfig.Response()

    def GetFunctions(self, request: Any, context: Any) -> Any:
        return pb.GetFunctions.Response()

    def StopProvider(self, request: Any, context: Any) -> Any:
        # Terraform asks in-flight calls to stop (Ctrl-C); each call here is one short boto3 request,
        # so there is nothing to interrupt. Shutting down is go-plugin's Shutdown, below.
        return pb.StopProvider.Response()

    # --- configuration

    @_guarded
    def ConfigureProvider(self, request: Any, context: Any) -> Any:
        config = values.decode(request.config) or {}
        endpoints: dict[str, str] = {}
        for block in config.get("endpoints") or []:
            endpoints.update({k: v for k, v in block.items() if isinstance(v, str) and v})
        problem = loopback_problem(endpoints)
        if problem:
            return pb.ConfigureProvider.Response(diagnostics=[_error(f"{PROVIDER_NAME}: refused", problem)])
        region = config.get("region") or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if not region:
            return pb.ConfigureProvider.Response(diagnostics=[_error(f"{PROVIDER_NAME}: no region set")])
        tags: dict[str, str] = {}
        for block in config.get("default_tags") or []:
            tags.update(block.get("tags") or {})
        try:
            assumed = _assume_role(config.get("assume_role") or [], region=region, endpoint=endpoints["sts"])
        except (BotoCoreError, ClientError, ValueError) as exc:  # the configuration's diagnostic, not a crash
            return pb.ConfigureProvider.Response(diagnostics=[_error(f"{PROVIDER_NAME}: cannot assume role", str(exc))])
        self.api = Api(region=region, endpoints=endpoints, default_tags=tags, credentials=assumed)
        notice = _warning(
            f"This is the {PROVIDER_NAME}, not HashiCorp's hashicorp/aws",
            f"It serves the hashicorp/aws {schema.VERSION} schema and makes every resource in the emulator at "
            f"{endpoints['s3']} (cargohold's toolkit/tfprovider). Against a real account, Terraform installs "
            "HashiCorp's provider instead.",
        )
        return pb.ConfigureProvider.Response(diagnostics=[notice])

    # --- resources

    def _handler(self, type_name: str) -> Any:
        from toolkit.tfprovider.resources import HANDLERS

        if type_name not in HANDLERS:
            raise ResourceError(f"{PROVIDER_NAME}: {type_name} is not implemented")
        return HANDLERS[type_name]

    def _configured(self) -> Api:
        if self.api is None:
            raise ResourceError(f"{PROVIDER_NAME}: the provider was not configured")
        return self.api

    @_guarded
    def UpgradeResourceState(self, request: Any, context: Any) -> Any:
        import json

        raw = json.loads(request.raw_state.json) if request.raw_state.json else {}
        block = schema.resource_schema(request.type_name)
        return pb.UpgradeResourceState.Response(upgraded_state=values.encode(schema.shape(block, raw), pb))

    @_guarded
    def ReadResource(self, request: Any, context: Any) -> Any:
        handler, api = self._handler(request.type_name), self._configured()
        block = schema.resource_schema(request.type_name)
        prior = values.decode(request.current_state)
        live = handler.read(api.in_region((prior or {}).get("region")), prior)
        new = None if live is None else schema.shape(block, {**prior, **live})
        return pb.ReadResource.Response(new_state=values.encode(new, pb), private=request.private)

    @_guarded
    def PlanResourceChange(self, request: Any, context: Any) -> Any:
        handler = self._handler(request.type_name)
        proposed = values.decode(request.proposed_new_state)
        if proposed is None:  # destroy
            return pb.PlanResourceChange.Response(planned_state=request.proposed_new_state, legacy_type_system=True)
        api = self._configured()
        planned, replace = values.plan(
            schema.resource_schema(request.type_name),
            values.decode(request.prior_state),
            proposed,
            region=api.region,
            default_tags=api.default_tags,
            # The AWS provider 6 moves no resource between regions: a new `region` is a new resource.
            replace_on=handler.replace_on | {"region"},
            defaults=handler.defaults,
        )
        return pb.PlanResourceChange.Response(
            planned_state=values.encode(planned, pb),
            requires_replace=[_path(name) for name in replace],
            planned_private=request.prior_private,
            legacy_type_system=True,
        )

    @_guarded
    def ApplyResourceChange(self, request: Any, context: Any) -> Any:
        handler, api = self._handler(request.type_name), self._configured()
        block = schema.resource_schema(request.type_name)
        prior, planned = values.decode(request.prior_state), values.decode(request.planned_state)
        api = api.in_region((planned or prior or {}).get("region"))
        if planned is None:
            handler.delete(api, prior)
            return pb.ApplyResourceChange.Response(new_state=values.encode(None, pb), legacy_type_system=True)
        known = values.without_unknowns(planned)
        made = handler.create(api, known) if prior is None else handler.update(api, prior, known)
        new = schema.shape(block, values.applied(planned, schema.shape(block, {**known, **made}) or {}))
        # As the SDKv2 provider ends every create and update: the state is what a read returns, so
        # values the emulator fills in (nested defaults, counts) are known now, not "drift" later.
        live = handler.read(api, new) if new is not None else None
        if new is not None and live is not None:
            new = schema.shape(block, {**new, **live})
        return pb.ApplyResourceChange.Response(
            new_state=values.encode(new, pb), private=request.planned_private, legacy_type_system=True
        )

    @_guarded
    def ImportResourceState(self, request: Any, context: Any) -> Any:
        handler, api = self._handler(request.type_name), self._configured()
        # `ID@REGION` imports a resource of another region, as the AWS provider 6 reads import ids.
        import_id, _, region = request.id.rpartition("@")
        regional = "region" in (schema.resource_schema(request.type_name).get("attributes") or {})
        if import_id and regional and re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d+", region):
            api = api.in_region(region)
        else:
            import_id, region = request.id, ""
        state = handler.import_state(api, import_id)
        if state is not None and region:
            state = {**state, "region": region}
        if state is None:
            raise ResourceError(
                f"Cannot import non-existent remote object: {request.type_name} {request.id!r}",
                "Nothing with that import id exists in the emulator.",
            )
        block = schema.resource_schema(request.type_name)
        imported = pb.ImportResourceState.ImportedResource(
            type_name=request.type_name, state=values.encode(schema.shape(block, state), pb)
        )
        return pb.ImportResourceState.Response(imported_resources=[imported])

    def MoveResourceState(self, request: Any, context: Any) -> Any:
        return pb.MoveResourceState.Response(diagnostics=[_error(f"{PROVIDER_NAME}: moving state is not supported")])

    def ReadDataSource(self, request: Any, context: Any) -> Any:
        return pb.ReadDataSource.Response(diagnostics=[_error(f"{PROVIDER_NAME}: no data sources")])


# --- go-plugin


def _certificate() -> tuple[bytes, bytes, bytes]:
    """A throwaway self-signed server certificate: (key PEM, cert PEM, cert DER). Never cached."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM), cert.public_bytes(serialization.Encoding.DER)


def _plugin_services(stop: threading.Event) -> list[Any]:
    """go-plugin's controller (Shutdown) and stdio services, which carry only empty messages."""

    def shutdown(request: bytes, context: Any) -> bytes:
        stop.set()
        return b""

    def stream_stdio(request: bytes, context: Any) -> Iterator[bytes]:
        return iter(())

    identity: Callable[[bytes], bytes] = lambda raw: raw  # noqa: E731 (empty messages: no decoding)
    return [
        grpc.method_handlers_generic_handler(
            "plugin.GRPCController",
            {"Shutdown": grpc.unary_unary_rpc_method_handler(shutdown, identity, identity)},
        ),
        grpc.method_handlers_generic_handler(
            "plugin.GRPCStdio",
            {"StreamStdio": grpc.unary_stream_rpc_method_handler(stream_stdio, identity, identity)},
        ),
    ]


def attached(socket_path: Path) -> tuple[Any, str]:
    """A provider server in this process that Terraform attaches to instead of starting one per command
    (Terraform's TF_REATTACH_PROVIDERS, as provider debuggers use it): (server, the variable's value).
    Plaintext on a private unix socket: go-plugin's reattach carries no certificate. Stop the server
    when done; concurrent Terraform runs must not share it (each configures it)."""
    import json

    stop = threading.Event()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    rpc.add_ProviderServicer_to_server(Provider(stop), server)
    server.add_generic_rpc_handlers(_plugin_services(stop))
    server.add_insecure_port(f"unix://{socket_path}")
    server.start()
    address = {"Network": "unix", "String": str(socket_path)}
    reattach = {
        "registry.terraform.io/hashicorp/aws": {
            "Protocol": "grpc",
            "ProtocolVersion": 6,
            "Pid": os.getpid(),
            "Test": True,
            "Addr": address,
        }
    }
    return server, json.dumps(reattach)


def main() -> None:
    if os.environ.get("TF_PLUGIN_MAGIC_COOKIE") is None:
        print(
            "This is the cargohold emulator provider for Terraform: Terraform runs it, not you.",
            file=sys.stderr,
        )
        raise SystemExit(1)
    stop = threading.Event()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    rpc.add_ProviderServicer_to_server(Provider(stop), server)
    server.add_generic_rpc_handlers(_plugin_services(stop))
    key_pem, cert_pem, cert_der = _certificate()
    with tempfile.TemporaryDirectory(prefix="cargohold-tfprovider-") as folder:
        socket_path = str(Path(folder) / "plugin.sock")
        server.add_secure_port(f"unix://{socket_path}", grpc.ssl_server_credentials([(key_pem, cert_pem)]))
        server.start()
        certificate = base64.b64encode(cert_der).decode().rstrip("=")
        print(f"1|6|unix|{socket_path}|grpc|{certificate}", flush=True)
        try:
            while not stop.wait(0.05):
                pass
        except KeyboardInterrupt:
            pass
        server.stop(grace=0.2)


if __name__ == "__main__":
    main()
