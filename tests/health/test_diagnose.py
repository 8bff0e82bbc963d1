"""Every diagnosis the issue lists, from the error as AWS (or the emulators) send it."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, NoCredentialsError

from toolkit.health.diagnose import (
    Attempt,
    Failure,
    bucket_region,
    cors_refused,
    diagnose,
    diagnose_exception,
    from_client_error,
    from_http,
    region_mismatch,
)

PUT = Attempt(
    action="s3:PutObject",
    resource="arn:aws:s3:::docs/uploads/k",
    who="principal 'app'",
    principal="app",
    grant="{bucket: docs, actions: [write]}",
    region="us-east-1",
)


def client_error(code: str, message: str = "", status: int = 403) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}},
        },
        "PutObject",
    )


def test_access_denied_names_the_action_the_resource_and_the_grant() -> None:
    d = diagnose(Failure("AccessDenied", "Access Denied", 403), PUT)
    assert d.code == "access-denied"
    assert "s3:PutObject on arn:aws:s3:::docs/uploads/k" in d.summary
    assert d.config_fix is not None and "principals:\n  app:" in d.config_fix and "actions: [write]" in d.config_fix


def test_access_denied_from_moto_dynamodb_xml_body_names_the_action_in_the_message() -> None:
    body = (
        '<?xml version="1.0" encoding="utf-8"?>\n<ErrorResponse><Errors><Error><Code>AccessDenied</Code>'
        "<Message>User: arn:aws:iam::123456789012:user/app is not authorized to perform: dynamodb:PutItem"
        "</Message></Error></Errors></ErrorResponse>"
    )
    failure = from_client_error(client_error("403", body))
    assert failure.code == "AccessDenied"
    d = diagnose(failure, Attempt(action="dynamodb:PutItem", resource="arn:aws:dynamodb:us-east-1:1:table/t"))
    assert d.code == "access-denied" and "dynamodb:PutItem" in d.summary


def test_access_denied_with_aws_wording_takes_action_and_resource_from_the_message() -> None:
    message = (
        "User: arn:aws:iam::1:user/app is not authorized to perform: s3:GetObject on resource: "
        "arn:aws:s3:::docs/a.pdf because no identity-based policy allows the s3:GetObject action"
    )
    d = diagnose(Failure("AccessDenied", message, 403), PUT)
    assert "s3:GetObject on arn:aws:s3:::docs/a.pdf" in d.summary


def test_no_such_bucket() -> None:
    body = b"<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>"
    d = diagnose(from_http(404, {}, body), PUT)
    assert d.code == "no-such-bucket" and "cargohold apply" in d.fix


@pytest.mark.parametrize("code", ["InvalidAccessKeyId", "InvalidClientTokenId", "UnrecognizedClientException"])
def test_invalid_access_key(code: str) -> None:
    d = diagnose(Failure(code, "The AWS Access Key Id you provided does not exist in our records.", 403), PUT)
    assert d.code == "invalid-access-key" and "cargohold credentials issue" in d.fix


def test_signature_does_not_match() -> None:
    d = diagnose(Failure("SignatureDoesNotMatch", "The request signature we calculated does not match", 403), PUT)
    assert d.code == "signature-mismatch" and "Content-Type" in d.fix


@pytest.mark.parametrize(
    ("code", "message", "status"),
    [
        ("AccessDenied", "Request has expired", 403),  # AWS, an expired presigned URL
        (
            "AccessDenied",
            "The difference between the request time and the server's time exceeds the maximum allowed.",
            400,
        ),  # rclone serve s3
        ("ExpiredToken", "The provided token has expired.", 400),
        ("RequestTimeTooSkewed", "The difference between the request time and the current time is too large.", 403),
    ],
)
def test_expired_url_token_or_clock(code: str, message: str, status: int) -> None:
    d = diagnose(Failure(code, message, status), PUT)
    assert d.code == "expired" and "clock" in d.fix


def test_permanent_redirect_is_a_region_mismatch_with_the_bucket_region() -> None:
    body = (
        b"<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be "
        b"addressed using the specified endpoint.</Message><Endpoint>docs.s3.eu-west-1.amazonaws.com</Endpoint>"
        b"</Error>"
    )
    d = diagnose(from_http(301, {"x-amz-bucket-region": "eu-west-1"}, body), PUT)
    assert d.code == "region-mismatch" and "eu-west-1" in d.summary and d.config_fix == "region: eu-west-1"


def test_authorization_header_malformed_names_the_expected_region() -> None:
    message = "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'ap-south-1'"
    d = diagnose(Failure("AuthorizationHeaderMalformed", message, 400), PUT)
    assert d.code == "region-mismatch" and "ap-south-1" in d.summary


def test_presigned_post_to_the_global_endpoint_says_use_a_regional_client() -> None:
    body = (
        b"<Error><Code>TemporaryRedirect</Code><Message>Please re-send this request to the specified temporary "
        b"endpoint.</Message><Endpoint>docs.s3-eu-central-1.amazonaws.com</Endpoint></Error>"
    )
    attempt = Attempt(action="s3:PutObject", resource="arn:aws:s3:::docs/k", presigned_post=True)
    d = diagnose(from_http(307, {}, body), attempt)
    assert d.code == "global-endpoint-post"
    assert "region_name='eu-central-1'" in d.fix and "s3.amazonaws.com" in d.summary


def test_missing_credentials() -> None:
    d = diagnose_exception(NoCredentialsError(), PUT)
    assert d.code == "missing-credentials"
    assert "--credentials" in d.fix and "AWS_PROFILE" in d.fix


def test_cors_origin_not_allowed() -> None:
    d = cors_refused(
        "https://app.example",
        bucket="b-docs",
        bucket_key="docs",
        status=403,
        reason="AccessForbidden: CORSResponse: This CORS request is not allowed.",
    )
    assert d.code == "cors-origin-not-allowed"
    assert "buckets.docs.cors[].allowed_origins" in d.fix
    assert d.config_fix is not None and '"https://app.example"' in d.config_fix


def test_region_mismatch_and_legacy_locations() -> None:
    assert bucket_region(None) == "us-east-1" and bucket_region("EU") == "eu-west-1"
    assert bucket_region("ap-south-1") == "ap-south-1"
    d = region_mismatch("b", actual="eu-west-1", configured="us-east-1", bucket_key="docs")
    assert d.code == "region-mismatch" and d.config_fix == "region: eu-west-1"


def test_no_such_table_and_unknown_errors_still_say_something() -> None:
    assert diagnose(Failure("ResourceNotFoundException", "Requested resource not found", 400), PUT).code == (
        "no-such-table"
    )
    other = diagnose(Failure("InternalError", "boom", 500), PUT)
    assert other.code == "unexpected-error" and "HTTP 500" in other.summary
    assert diagnose_exception(ConnectionRefusedError("refused"), PUT).code == "unreachable"


def test_message_and_json_carry_the_fix() -> None:
    d = diagnose(Failure("NoSuchBucket", "", 404), PUT)
    assert d.message().endswith(d.fix) and "Fix: " in d.message()
    assert d.to_json()["diagnosis"] == "no-such-bucket"
