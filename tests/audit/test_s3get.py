"""The lean bucket-configuration reader (toolkit.audit.s3get) answers exactly as boto3 does.

Against a real moto server over HTTP: a hardened environment (applied by real Terraform with the emulator provider) plus
buckets with planted variants, every read compared with the value the inventory derives through boto3
(values, types, the error codes of absent configurations) and the inventory's own BucketInfo built both
ways. Signatures are compared with botocore's S3SigV4Auth (moto does not check them). Redirects and
retries run against a small scripted HTTP server.
"""

from __future__ import annotations

import datetime
import http.server
import json
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from cargohold_core import aws
from cargohold_core.aws import FAKE_ACCESS_KEY, FAKE_SECRET_KEY
from cargohold_core.config.model import Environment
from cargohold_core.s3http import bucket_address
from tests.audit.conftest import load
from tests.support.botocore_signer import FixedTimeS3Auth
from tests.support.terraform_apply import provision
from toolkit.audit import inventory
from toolkit.audit.fetch import Fetched, Reader, read
from toolkit.audit.s3get import SUBRESOURCES, BucketConfigReader, S3ReadError
from toolkit.demo.emulator import Emulator

ACCOUNT = "123456789012"
DOCS, LOGS = "hard-test-docs", "hard-test-logs"


# --- the account: hardened buckets plus planted variants, made once for the module --------------


@dataclass
class World:
    env: Environment
    s3: Any  # the inventory's own boto3 client (toolkit.audit.fetch.Reader)
    reader: Reader
    buckets: list[str] = field(default_factory=list)


def _plant(s3: Any) -> list[str]:
    made: list[str] = []

    def bucket(name: str) -> str:
        s3.create_bucket(Bucket=name)
        made.append(name)
        return name

    bucket("v-nothing")  # nothing configured at all

    b = bucket("v-public-policy")  # no PAB, a public policy (policy status is read)
    s3.put_bucket_policy(
        Bucket=b,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{b}/*"}
                ],
            }
        ),
    )

    b = bucket("v-acl")  # ACLs on, public-read plus a named grantee
    s3.put_bucket_ownership_controls(Bucket=b, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    s3.put_bucket_acl(Bucket=b, ACL="public-read")
    s3.put_public_access_block(
        Bucket=b,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": False,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": True,
        },
    )

    b = bucket("v-cors")  # several rules; one-element lists; every field
    s3.put_bucket_tagging(Bucket=b, Tagging={"TagSet": [{"Key": "team", "Value": "data"}, {"Key": "a:b", "Value": ""}]})
    s3.put_bucket_cors(
        Bucket=b,
        CORSConfiguration={
            "CORSRules": [
                {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]},
                {
                    "ID": "app",
                    "AllowedOrigins": ["https://a.example.com", "https://b.example.com"],
                    "AllowedMethods": ["PUT", "POST", "DELETE"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag"],
                    "MaxAgeSeconds": 3000,
                },
                {
                    "AllowedOrigins": ["https://c.example.com"],
                    "AllowedMethods": ["HEAD"],
                    "AllowedHeaders": ["x-amz-meta-a", "content-type"],
                    "ExposeHeaders": ["x-amz-request-id", "x-amz-id-2"],
                    "MaxAgeSeconds": 1,
                },
            ]
        },
    )

    b = bucket("v-lifecycle")  # transitions, noncurrent, abort, expiration, filters
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(
        Bucket=b,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "archive",
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "Transitions": [
                        {"Days": 30, "StorageClass": "STANDARD_IA"},
                        {"Days": 90, "StorageClass": "GLACIER"},
                    ],
                    "NoncurrentVersionTransitions": [
                        {"NoncurrentDays": 30, "StorageClass": "GLACIER", "NewerNoncurrentVersions": 2}
                    ],
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 365, "NewerNoncurrentVersions": 3},
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                },
                {
                    "ID": "tmp",
                    "Status": "Enabled",
                    "Filter": {"Prefix": "tmp/"},
                    "Expiration": {"Days": 1},
                },
                {
                    "ID": "tagged",
                    "Status": "Disabled",
                    "Filter": {
                        "And": {
                            "Prefix": "logs/",
                            "Tags": [{"Key": "class", "Value": "scratch"}, {"Key": "team", "Value": "data"}],
                        }
                    },
                    "Expiration": {"Days": 10},
                },
                {
                    "ID": "one-tag",
                    "Status": "Enabled",
                    "Filter": {"Tag": {"Key": "ttl", "Value": "short"}},
                    "Expiration": {"Date": datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)},
                },
                {
                    "ID": "markers",
                    "Status": "Enabled",
                    "Filter": {"Prefix": "old/"},
                    "Expiration": {"ExpiredObjectDeleteMarker": True},
                },
            ]
        },
    )

    target = bucket("v-log-target")  # only the log-delivery grant: moto refuses a target with "*" statements
    s3.put_bucket_policy(
        Bucket=target,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "logging.s3.amazonaws.com"},
                        "Action": "s3:PutObject",
                        "Resource": f"arn:aws:s3:::{target}/*",
                    }
                ],
            }
        ),
    )
    b = bucket("v-logging")
    s3.put_bucket_logging(
        Bucket=b, BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": target, "TargetPrefix": "v-logging/"}}
    )

    b = bucket("v-replication")
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    target = bucket("v-replica")
    s3.put_bucket_versioning(Bucket=target, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(
        Bucket=b,
        ReplicationConfiguration={
            "Role": f"arn:aws:iam::{ACCOUNT}:role/replication",
            "Rules": [
                {
                    "ID": "all",
                    "Priority": 1,
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "DeleteMarkerReplication": {"Status": "Disabled"},
                    "Destination": {"Bucket": f"arn:aws:s3:::{target}", "StorageClass": "STANDARD_IA"},
                },
                {
                    "ID": "reports",
                    "Priority": 2,
                    "Status": "Enabled",
                    "Filter": {"And": {"Prefix": "reports/", "Tags": [{"Key": "k", "Value": "v"}]}},
                    "DeleteMarkerReplication": {"Status": "Enabled"},
                    "Destination": {"Bucket": f"arn:aws:s3:::{target}", "Account": ACCOUNT},
                },
            ],
        },
    )

    b = bucket("v-kms")
    s3.put_bucket_encryption(
        Bucket=b,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )

    b = bucket("v-suspended")
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Suspended"})

    bucket("v.dotted.name")  # path style everywhere; the name is part of the signed path
    return made


@pytest.fixture(scope="module")
def world(account_server: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    import urllib.request

    patch = pytest.MonkeyPatch()
    for name, value in account_server.client_env().items():
        patch.setenv(name, value)
    try:
        request = urllib.request.Request(f"{account_server.endpoint}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=30).close()
        folder = tmp_path_factory.mktemp("s3get")
        _, env = load(folder / "config.yaml", account_server.endpoint)
        provision(env, folder / "terraform")
        aws.block_public_access_for_account(env)
        reader = Reader(env)
        s3 = reader.client("s3")
        planted = _plant(s3)
        yield World(env, s3, reader, [DOCS, LOGS, *planted])
        reader.close()
    finally:
        patch.undo()


@pytest.fixture
def fast(world: World) -> Iterator[BucketConfigReader]:
    creds = Credentials(FAKE_ACCESS_KEY, FAKE_SECRET_KEY)
    with BucketConfigReader(world.env, creds, service_model=world.s3.meta.service_model) as made:
        yield made


# The inventory's reads (toolkit/audit/inventory.py), as (boto3 expression, fast method, absent, default).
READS: dict[str, tuple[Callable[[Any, str], Any], Callable[[BucketConfigReader, str], Any], tuple[str, ...], Any]] = {
    "pab": (
        lambda s3, n: s3.get_public_access_block(Bucket=n)["PublicAccessBlockConfiguration"],
        BucketConfigReader.public_access_block,
        inventory.NO_PAB,
        None,
    ),
    "policy": (
        lambda s3, n: json.loads(s3.get_bucket_policy(Bucket=n)["Policy"]),
        BucketConfigReader.policy,
        inventory.NO_POLICY,
        None,
    ),
    "ownership": (
        lambda s3, n: inventory._ownership(s3.get_bucket_ownership_controls(Bucket=n)),
        BucketConfigReader.ownership,
        inventory.NO_OWNERSHIP,
        None,
    ),
    "encryption": (
        lambda s3, n: inventory._encryption(s3.get_bucket_encryption(Bucket=n)),
        BucketConfigReader.encryption,
        inventory.NO_ENCRYPTION,
        None,
    ),
    "versioning": (
        lambda s3, n: s3.get_bucket_versioning(Bucket=n).get("Status"),
        BucketConfigReader.versioning,
        (),
        None,
    ),
    "lifecycle": (
        lambda s3, n: s3.get_bucket_lifecycle_configuration(Bucket=n)["Rules"],
        BucketConfigReader.lifecycle,
        inventory.NO_LIFECYCLE,
        [],
    ),
    "cors": (
        lambda s3, n: s3.get_bucket_cors(Bucket=n)["CORSRules"],
        BucketConfigReader.cors,
        inventory.NO_CORS,
        [],
    ),
    "logging": (
        lambda s3, n: s3.get_bucket_logging(Bucket=n).get("LoggingEnabled"),
        BucketConfigReader.logging,
        (),
        None,
    ),
    "replication": (
        lambda s3, n: s3.get_bucket_replication(Bucket=n)["ReplicationConfiguration"],
        BucketConfigReader.replication,
        inventory.NO_REPLICATION,
        None,
    ),
    "policy_status": (
        lambda s3, n: bool(s3.get_bucket_policy_status(Bucket=n)["PolicyStatus"]["IsPublic"]),
        BucketConfigReader.policy_is_public,
        (),
        None,
    ),
    "acl": (
        lambda s3, n: s3.get_bucket_acl(Bucket=n)["Grants"],
        BucketConfigReader.acl_grants,
        (),
        None,
    ),
}


def _outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        value = call()
    except ClientError as exc:
        err = exc.response["Error"]
        return ("error", err.get("Code"), err.get("Message"), exc.response["ResponseMetadata"]["HTTPStatusCode"])
    return ("ok", value, _types(value))


def _types(value: Any) -> Any:
    """The value's shape with its types, so 1 and True or "1" and 1 never compare equal."""
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    return type(value).__name__


BUCKETS = [
    DOCS,
    LOGS,
    "v-nothing",
    "v-public-policy",
    "v-acl",
    "v-cors",
    "v-lifecycle",
    "v-log-target",
    "v-logging",
    "v-replication",
    "v-replica",
    "v-kms",
    "v-suspended",
    "v.dotted.name",
    "no-such-bucket-here",
]


@pytest.mark.parametrize("bucket", BUCKETS)
def test_every_read_gives_the_value_the_inventory_derives_through_boto3(
    bucket: str, world: World, fast: BucketConfigReader
) -> None:
    assert set(world.buckets) == set(BUCKETS) - {"no-such-bucket-here"}
    for key, (boto3_read, fast_read, absent, default) in READS.items():
        by_boto3, by_fast = partial(boto3_read, world.s3, bucket), partial(fast_read, fast, bucket)
        assert _outcome(by_fast) == _outcome(by_boto3), key
        # ... and through fetch.read, as the inventory uses them
        assert read(by_fast, absent=absent, default=default) == read(by_boto3, absent=absent, default=default), key


@pytest.mark.parametrize("bucket", BUCKETS)
def test_whole_outputs_and_errors_equal_boto3(bucket: str, world: World, fast: BucketConfigReader) -> None:
    for operation in SUBRESOURCES:
        method = re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()
        try:
            expected: Any = getattr(world.s3, method)(Bucket=bucket)
            expected.pop("ResponseMetadata")
        except ClientError as exc:
            expected = (exc.response["Error"], exc.response["ResponseMetadata"]["HTTPStatusCode"], exc.operation_name)
        try:
            got: Any = getattr(fast, method)(Bucket=bucket)
        except ClientError as exc:
            got = (exc.response["Error"], exc.response["ResponseMetadata"]["HTTPStatusCode"], exc.operation_name)
        assert got == expected, operation
        assert _types(got) == _types(expected), operation


def test_the_planted_values_have_boto3_types(world: World, fast: BucketConfigReader) -> None:
    """Spot checks of what the comparisons above cover, so a moto that returned nothing would show."""
    assert fast.public_access_block(DOCS) == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )
    cors = fast.cors("v-cors")
    assert cors[0] == {"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}
    assert cors[1]["MaxAgeSeconds"] == 3000 and cors[1]["ExposeHeaders"] == ["ETag"]
    rules = {r["ID"]: r for r in fast.lifecycle("v-lifecycle")}
    assert rules["archive"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    assert rules["archive"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 365
    assert rules["archive"]["Transitions"][1] == {"Days": 90, "StorageClass": "GLACIER"}
    assert rules["tagged"]["Filter"]["And"]["Tags"][1] == {"Key": "team", "Value": "data"}
    assert isinstance(rules["one-tag"]["Expiration"]["Date"], datetime.datetime)
    assert rules["markers"]["Expiration"]["ExpiredObjectDeleteMarker"] is True
    assert fast.encryption("v-kms") == {
        "algorithm": "aws:kms",
        "kms_key_arn": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "bucket_key": True,
    }
    assert fast.versioning("v-suspended") == "Suspended"
    assert fast.versioning("v-nothing") is None
    assert fast.ownership("v-acl") == "ObjectWriter"
    grants = fast.acl_grants("v-acl")
    assert {
        "Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
        "Permission": "READ",
    } in grants
    assert any(g["Grantee"]["Type"] == "CanonicalUser" and "ID" in g["Grantee"] for g in grants)
    assert fast.logging("v-logging") == {"TargetBucket": "v-log-target", "TargetPrefix": "v-logging/"}
    assert fast.logging("v-nothing") is None
    assert fast.replication("v-replication")["Rules"][0]["Priority"] == 1
    assert fast.policy_is_public("v-public-policy") is True


ABSENT = {
    "pab": "NoSuchPublicAccessBlockConfiguration",
    "policy": "NoSuchBucketPolicy",
    "encryption": "ServerSideEncryptionConfigurationNotFoundError",
    "lifecycle": "NoSuchLifecycleConfiguration",
    "cors": "NoSuchCORSConfiguration",
    "replication": "ReplicationConfigurationNotFoundError",
    "ownership": "OwnershipControlsNotFoundError",
}


def _code(call: Callable[[], Any]) -> str | None:
    try:
        call()
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return None


def test_absent_configurations_raise_the_codes_the_inventory_maps(world: World, fast: BucketConfigReader) -> None:
    # moto gives a new bucket SSE-S3 by default, as AWS does; take it away to see the absent code.
    world.s3.create_bucket(Bucket="v-bare")
    try:
        world.s3.delete_bucket_encryption(Bucket="v-bare")
        for key, code in ABSENT.items():
            _, fast_read, absent, default = READS[key]
            assert _code(partial(fast_read, fast, "v-bare")) == code, key
            assert code in absent
            assert read(partial(fast_read, fast, "v-bare"), absent=absent, default=default) == Fetched(default)
        for key, (_, fast_read, _, _) in READS.items():
            assert _code(partial(fast_read, fast, "no-such-bucket-here")) == "NoSuchBucket", key
    finally:
        world.s3.delete_bucket(Bucket="v-bare")


def test_the_inventory_builds_the_same_bucket_info_either_way(world: World, fast: BucketConfigReader) -> None:
    """The inventory's own reads (unchanged lambdas), through a boto3 client and through the fast reader."""
    boto3_client = world.reader.client("s3")

    def build(client: Any) -> list[inventory.BucketInfo]:
        return [
            inventory._finish_bucket(
                world.reader,
                n,
                None,
                inventory._submit_bucket_reads(world.reader, n, client, detailed=True, tagged=True),
                client,
            )
            for n in world.buckets
        ]

    by_fast = build(fast)
    assert by_fast == build(boto3_client)
    assert any(b.policy_is_public.value for b in by_fast) and any(b.acl_grants.value for b in by_fast)
    assert {"team": "data", "a:b": ""} in [b.tags.value for b in by_fast]


def test_counts_every_request_and_is_thread_safe(world: World) -> None:
    sent: list[int] = []
    lock = threading.Lock()

    def count() -> None:
        with lock:
            sent.append(1)

    creds = Credentials(FAKE_ACCESS_KEY, FAKE_SECRET_KEY)
    jobs = [(b, key) for b in world.buckets for key in ("pab", "cors", "lifecycle", "versioning")] * 4
    with BucketConfigReader(world.env, creds, count, service_model=world.s3.meta.service_model) as reader:

        def one(job: tuple[str, str]) -> Fetched[Any]:
            _, fast_read, absent, default = READS[job[1]]
            return read(lambda: fast_read(reader, job[0]), absent=absent, default=default)

        with ThreadPoolExecutor(16) as pool:
            got = list(pool.map(one, jobs))
    expected = [read(partial(READS[k][0], world.s3, b), absent=READS[k][2], default=READS[k][3]) for b, k in jobs]
    assert got == expected
    assert len(sent) == len(jobs)


# --- signatures: byte-identical to botocore's for the request botocore itself would send ---------


class _Captured(Exception):
    def __init__(self, url: str) -> None:
        self.url = url


def _botocore_url(operation: str, bucket: str, region: str, endpoint: str | None) -> str:
    """The URL botocore's S3 client sends this GET to (captured before it leaves)."""
    config: dict[str, Any] = {"ignore_configured_endpoint_urls": True}  # (not in the stubs' Config yet)
    if endpoint:
        config["s3"] = {"addressing_style": "path"}
    client = boto3.client(
        "s3",
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="AKID",
        aws_secret_access_key="SECRET",
        config=Config(**config),
    )

    def capture(request: Any, **_: Any) -> None:
        raise _Captured(request.url)

    client.meta.events.register("before-send", capture)
    method = re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()
    with pytest.raises(_Captured) as caught:
        getattr(client, method)(Bucket=bucket)
    return caught.value.url


@pytest.mark.parametrize("token", [None, "session-token/+="])
@pytest.mark.parametrize(
    ("bucket", "region", "endpoint"),
    [
        ("media-prod", "eu-west-1", None),  # virtual-hosted
        ("media.example.com", "eu-west-1", None),  # dots: path style on the regional host
        ("media-prod", "us-east-1", "http://127.0.0.1:9000"),  # an emulator
    ],
)
@pytest.mark.parametrize("operation", ["GetBucketPolicy", "GetPublicAccessBlock", "GetBucketLifecycleConfiguration"])
def test_signature_matches_botocore(
    operation: str, bucket: str, region: str, endpoint: str | None, token: str | None
) -> None:
    from urllib.parse import urlsplit

    from cargohold_core.s3http import EMPTY_SHA256, SigV4Signer

    creds = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", token)
    amz_date = "20261122T001500Z"
    url = _botocore_url(operation, bucket, region, endpoint)
    env: Any = SimpleNamespace(region=region, endpoint=endpoint)  # all the reader reads of an Environment
    reader = BucketConfigReader(env, creds, service_model=boto3.client("s3", region_name=region).meta.service_model)
    address = bucket_address(bucket, region, reader._endpoint)
    sub = SUBRESOURCES[operation]
    parts = urlsplit(url)
    # Same place as botocore: scheme, host, path and the bare subresource.
    assert f"{address.url()}?{sub}" == url
    ours = SigV4Signer(creds, region).sign(
        method="GET",
        host=address.host_header,
        path=address.root,
        query=f"{sub}=",
        headers={"user-agent": "x"},
        payload_sha256=EMPTY_SHA256,
        amz_date=amz_date,
    )
    request = AWSRequest(method="GET", url=url, headers={"User-Agent": "y"})
    FixedTimeS3Auth(creds, region, amz_date).add_auth(request)
    assert parts.netloc == address.host_header
    assert ours["authorization"] == request.headers["Authorization"]
    assert ours["x-amz-content-sha256"] == request.headers["X-Amz-Content-SHA256"] == EMPTY_SHA256
    assert ours.get("x-amz-security-token") == request.headers.get("X-Amz-Security-Token")


def test_aws_addresses() -> None:
    assert bucket_address("media-prod", "eu-west-1").host_header == "media-prod.s3.eu-west-1.amazonaws.com"
    assert bucket_address("media-prod", "eu-west-1").root == "/"
    dotted = bucket_address("a.b.c", "us-west-2")
    assert (dotted.host_header, dotted.root) == ("s3.us-west-2.amazonaws.com", "/a.b.c")
    legacy = bucket_address("Old_Bucket", "us-east-1")
    assert (legacy.host_header, legacy.root) == ("s3.us-east-1.amazonaws.com", "/Old_Bucket")
    assert bucket_address("data", "cn-north-1").host_header == "data.s3.cn-north-1.amazonaws.com.cn"
    # an AWS endpoint given (FIPS here) is kept; a custom one is path style, with its own path prefix
    fips = bucket_address("media-prod", "us-east-1", "https://s3-fips.us-east-1.amazonaws.com")
    assert (fips.host_header, fips.object_path("a b")) == ("media-prod.s3-fips.us-east-1.amazonaws.com", "/a%20b")
    custom = bucket_address("media-prod", "us-east-1", "http://127.0.0.1:9000/s3/")
    assert (custom.url(), custom.object_path("k")) == ("http://127.0.0.1:9000/s3/media-prod", "/s3/media-prod/k")


# --- redirects and retries, against a scripted server ---------------------------------------------


@dataclass
class Seen:
    path: str
    region: str
    headers: dict[str, str]


Script = Callable[[Seen, int], "tuple[int, dict[str, str], bytes] | None"]  # None: drop the connection


class _Server:
    def __init__(self, script: Script) -> None:
        self.seen: list[Seen] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = 65536  # one write per answer (flushed after each request), no delayed-ACK stalls

            def do_GET(self) -> None:
                auth = self.headers.get("Authorization", "")
                m = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/s3/aws4_request", auth)
                seen = Seen(self.path, m.group(1) if m else "", {k.lower(): v for k, v in self.headers.items()})
                outer.seen.append(seen)
                answer = script(seen, len(outer.seen))
                if answer is None:
                    self.close_connection = True
                    return
                status, headers, body = answer
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def scripted(tmp_path: Path) -> Iterator[Callable[..., tuple[_Server, BucketConfigReader, list[int]]]]:
    made: list[tuple[_Server, BucketConfigReader]] = []

    def make(script: Script, **kwargs: Any) -> tuple[_Server, BucketConfigReader, list[int]]:
        server = _Server(script)
        _, env = load(tmp_path / f"config{len(made)}.yaml", server.endpoint)
        counted: list[int] = []
        reader = BucketConfigReader(
            env, Credentials("AKID", "SECRET"), lambda: counted.append(1), backoff_base=0.001, **kwargs
        )
        made.append((server, reader))
        return server, reader, counted

    yield make
    for server, reader in made:
        reader.close()
        server.close()


VERSIONING = b'<?xml version="1.0"?>\n<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>'


def _error(code: str, message: str, **extra: str) -> bytes:
    more = "".join(f"<{k}>{v}</{k}>" for k, v in extra.items())
    return f"<Error><Code>{code}</Code><Message>{message}</Message>{more}<RequestId>r</RequestId></Error>".encode()


def test_follows_a_permanent_redirect_once_and_remembers_the_region(scripted: Any) -> None:
    def script(seen: Seen, n: int) -> tuple[int, dict[str, str], bytes]:
        if seen.region != "eu-west-1":
            return 301, {"x-amz-bucket-region": "eu-west-1"}, _error("PermanentRedirect", "elsewhere")
        return 200, {}, VERSIONING

    server, reader, counted = scripted(script)
    assert reader.versioning("b") == "Enabled"
    assert [s.region for s in server.seen] == ["us-east-1", "eu-west-1"]
    assert server.seen[0].path == "/b?versioning"
    assert reader.versioning("b") == "Enabled"  # signed for eu-west-1 from the start now
    assert [s.region for s in server.seen] == ["us-east-1", "eu-west-1", "eu-west-1"]
    assert len(counted) == 3


def test_follows_a_wrong_signing_region_named_in_the_body(scripted: Any) -> None:
    def script(seen: Seen, n: int) -> tuple[int, dict[str, str], bytes]:
        if seen.region != "ap-south-1":
            return 400, {}, _error("AuthorizationHeaderMalformed", "wrong region", Region="ap-south-1")
        return 200, {}, VERSIONING

    server, reader, _ = scripted(script)
    assert reader.versioning("b") == "Enabled"
    assert [s.region for s in server.seen] == ["us-east-1", "ap-south-1"]


def test_a_redirect_is_followed_only_once(scripted: Any) -> None:
    regions = iter(["eu-west-1", "eu-west-2", "eu-west-3"])

    def script(seen: Seen, n: int) -> tuple[int, dict[str, str], bytes]:
        return 301, {"x-amz-bucket-region": next(regions)}, _error("PermanentRedirect", "elsewhere")

    server, reader, _ = scripted(script)
    with pytest.raises(ClientError) as caught:
        reader.versioning("b")
    assert caught.value.response["Error"]["Code"] == "PermanentRedirect"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 301
    assert len(server.seen) == 2


def test_retries_throttling_server_errors_and_dropped_connections(scripted: Any) -> None:
    def script(seen: Seen, n: int) -> tuple[int, dict[str, str], bytes] | None:
        if n == 1:
            return 503, {}, _error("SlowDown", "Please reduce your request rate.")
        if n == 2:
            return None
        if n == 3:
            return 500, {}, b""
        return 200, {}, VERSIONING

    server, reader, counted = scripted(script)
    assert reader.versioning("b") == "Enabled"
    assert len(server.seen) == len(counted) == 4


def test_gives_up_after_five_attempts(scripted: Any) -> None:
    server, reader, _ = scripted(lambda seen, n: (503, {}, _error("SlowDown", "Please reduce your request rate.")))
    with pytest.raises(ClientError) as caught:
        reader.versioning("b")
    assert caught.value.response["Error"] == {"Code": "SlowDown", "Message": "Please reduce your request rate."}
    assert caught.value.operation_name == "GetBucketVersioning"
    assert len(server.seen) == 5
    assert read(lambda: reader.versioning("b")) == Fetched(error="SlowDown: Please reduce your request rate.")

    server, reader, _ = scripted(lambda seen, n: None)
    with pytest.raises(S3ReadError):
        reader.versioning("b")
    assert len(server.seen) == 5
    got = read(lambda: reader.versioning("b"))
    assert got.error is not None and got.error.startswith("S3ReadError: GetBucketVersioning for bucket b:")


def test_does_not_retry_other_errors(scripted: Any) -> None:
    server, reader, _ = scripted(lambda seen, n: (403, {}, _error("AccessDenied", "Access Denied")))
    assert read(lambda: reader.policy("b"), absent=inventory.NO_POLICY) == Fetched(error="AccessDenied: Access Denied")
    assert len(server.seen) == 1
    assert server.seen[0].path == "/b?policy"
    assert server.seen[0].headers["x-amz-content-sha256"] == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_keeps_connections_alive(scripted: Any) -> None:
    ports: set[int] = set()

    def script(seen: Seen, n: int) -> tuple[int, dict[str, str], bytes]:
        return 200, {}, VERSIONING

    server, reader, _ = scripted(script)
    real = server.httpd.RequestHandlerClass

    class Counting(real):  # type: ignore[valid-type, misc]
        def setup(self) -> None:
            super().setup()
            ports.add(self.client_address[1])

    server.httpd.RequestHandlerClass = Counting
    for _ in range(20):
        assert reader.versioning("b") == "Enabled"
    assert len(ports) == 1
