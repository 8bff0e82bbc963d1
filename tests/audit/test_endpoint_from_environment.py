"""With only the global AWS_ENDPOINT_URL pointing at an emulator (no `endpoint:` in config.yaml), every
read goes there: S3 Control's account-level reads included, which botocore would otherwise send to
`<account>.127.0.0.1:<port>`, a host no emulator answers."""

from __future__ import annotations

from pathlib import Path

from cargohold_core.config import load_project
from toolkit.audit.run import audit
from toolkit.demo.emulator import Emulator
from toolkit.findings import Status


def test_account_public_access_block_is_read_through_aws_endpoint_url(tmp_path: Path, account: Emulator) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        'version: 1\nproject: plain\nenvironments:\n  dev: {region: us-east-1, account: "123456789012"}\n',
        encoding="utf-8",
    )
    project = load_project(config)
    env = project.environment("dev")
    assert env.endpoint is None  # only AWS_ENDPOINT_URL (set by the fixture) says where the emulator is
    findings = [f for f in audit(project, env).findings if f.check.id == "s3.account-public-access-block"]
    assert [(f.status, f.message) for f in findings if f.status is Status.ERROR] == []
    assert [f.status for f in findings] == [Status.FAIL]  # read, and found off (a fresh account)
