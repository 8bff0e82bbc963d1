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
