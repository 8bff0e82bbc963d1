"""An audit read that fails must say why, in words: the error code and message AWS gave, or, when the
answer carried neither, its HTTP status; for an exception without a message, its type. Never an empty
message (issue 13: the account-level public-access-block error could read just "could not read what
this check needs: ").

The failures are injected by FaultyS3 in front of the module's moto server (moto itself answers
s3control:GetPublicAccessBlock properly): an answer with an empty Code and Message, and S3's
InternalError, on the account-level Block Public Access call only."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.audit.conftest import load
from tests.support.faulty_s3 import FaultyS3
from toolkit.audit.fetch import error_text
from toolkit.audit.run import audit
from toolkit.demo.emulator import Emulator
from toolkit.findings import Finding, Status

PREFIX = "could not read what this check needs: "


def _account_pab_call(method: str, path: str) -> bool:
    return path.startswith("/v20180820/configuration/publicAccessBlock")


def _account_pab(tmp_path: Path, account: Emulator, fault: str) -> Finding:
    with FaultyS3(account.endpoint, fraction=1.0, faults=[fault], match=_account_pab_call) as proxy:
        project, env = load(tmp_path / "config.yaml", proxy.endpoint)
        report = audit(project, env)
        assert proxy.injected[fault] > 0  # the fault reached the call under test
    [finding] = [f for f in report.findings if f.check.id == "s3.account-public-access-block"]
    return finding


def test_an_answer_without_code_or_message_is_named_by_its_http_status(tmp_path: Path, account: Emulator) -> None:
    finding = _account_pab(tmp_path, account, "bare")
    assert finding.status is Status.ERROR
    assert finding.message.startswith(PREFIX)
    why = finding.message[len(PREFIX) :]
    assert "HTTP 403" in why and "no error code or message" in why, finding.message
    assert "None" not in why


def test_an_aws_error_keeps_its_code_and_message(tmp_path: Path, account: Emulator) -> None:
    finding = _account_pab(tmp_path, account, "internal")
    assert finding.status is Status.ERROR
    assert "InternalError" in finding.message and "We encountered an internal error" in finding.message


@pytest.mark.parametrize("exc", [TimeoutError(), OSError(), RuntimeError("")])
def test_an_exception_without_a_message_is_named_by_its_type(exc: Exception) -> None:
    text = error_text(exc)
    assert text.startswith(type(exc).__name__) and "no message" in text and not text.endswith(": ")
