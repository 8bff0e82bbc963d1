from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.health.credentials import CredentialsError, loose_permissions, parse_dotenv, read_credentials_file

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzzzSECRET"


def test_dotenv_reads_comments_exports_and_quotes() -> None:
    text = (
        f"# issued by cargohold\nexport AWS_ACCESS_KEY_ID=AKIA1234\nAWS_SECRET_ACCESS_KEY='{SECRET}'\n\n"
        'AWS_SESSION_TOKEN="tok" \nOTHER=x # note\n'
    )
    assert parse_dotenv(text) == {
        "AWS_ACCESS_KEY_ID": "AKIA1234",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_SESSION_TOKEN": "tok",
        "OTHER": "x",
    }


def test_file_credentials_never_show_the_secret(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(f"AWS_ACCESS_KEY_ID=AKIAEXAMPLE1234\nAWS_SECRET_ACCESS_KEY={SECRET}\n", encoding="utf-8")
    path.chmod(0o600)
    creds = read_credentials_file(path)
    assert creds.secret_access_key == SECRET and creds.session_token is None
    assert SECRET not in repr(creds) and creds.masked_key == "...1234"
    assert not loose_permissions(path)
    path.chmod(0o644)
    assert loose_permissions(path)


def test_missing_secret_or_bad_line_is_an_error_without_values(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("AWS_ACCESS_KEY_ID=AKIAEXAMPLE1234\n", encoding="utf-8")
    with pytest.raises(CredentialsError, match="AWS_SECRET_ACCESS_KEY"):
        read_credentials_file(path)
    path.write_text(f"{SECRET}\n", encoding="utf-8")
    with pytest.raises(CredentialsError) as info:
        read_credentials_file(path)
    assert SECRET not in str(info.value) and ":1: expected NAME=VALUE" in str(info.value)
    with pytest.raises(CredentialsError, match="cannot read"):
        read_credentials_file(tmp_path / "missing.env")


@pytest.mark.parametrize("external_id", [None, "vendor-issued-id"])
def test_assuming_a_role_passes_the_external_id_its_trust_asks_for(external_id: str | None) -> None:
    # moto does not evaluate trust policy conditions, so the request itself is what is checked here.
    import boto3
    from botocore.stub import Stubber

    from toolkit.health.credentials import ROLE_SESSION_NAME, assume_role

    session = boto3.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x", region_name="us-east-1")
    sts = session.client("sts")
    role = "arn:aws:iam::123456789012:role/vendor"
    expected = {"RoleArn": role, "RoleSessionName": ROLE_SESSION_NAME, "DurationSeconds": 900}
    if external_id is not None:
        expected["ExternalId"] = external_id
    credentials = {
        "AccessKeyId": "ASIAEXAMPLE0000000",
        "SecretAccessKey": "s" * 40,
        "SessionToken": "t",
        "Expiration": "2030-01-01T00:00:00Z",
    }
    with Stubber(sts) as stub:
        stub.add_response("assume_role", {"Credentials": credentials}, expected)
        operator = type("Operator", (), {"client": lambda self, *a, **k: sts})()
        got = assume_role(operator, role_arn=role, endpoint=None, region="us-east-1", external_id=external_id)
        stub.assert_no_pending_responses()
    assert got.session_token == "t"
