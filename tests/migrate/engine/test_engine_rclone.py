"""verify against a server that answers a multipart object's HEAD with a plain MD5 ETag
(`rclone serve s3`): the object is judged by what the server promises, not by an ETag shape."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import boto3
from botocore.config import Config
from engine_support import build_work, make_app_db, make_store

from migrate.engine import EngineSettings, run, verify
from migrate.journal import Journal
from migrate.upload import MiB, TransferSettings, Uploader
from tests.support.rclone_s3 import RcloneS3, rclone  # noqa: F401 - the fixture

BIG = "scans/big.tif"


def test_a_multipart_object_with_a_plain_md5_etag_verifies(tmp_path: Path, rclone: RcloneS3) -> None:  # noqa: F811
    session = boto3.Session(
        aws_access_key_id=rclone.access_key, aws_secret_access_key=rclone.secret_key, region_name="us-east-1"
    )
    bucket = f"rclone-{uuid.uuid4().hex[:10]}"
    session.client("s3", endpoint_url=rclone.endpoint, config=Config(s3={"addressing_style": "path"})).create_bucket(
        Bucket=bucket
    )
    source = tmp_path / "uploads"
    (source / "scans").mkdir(parents=True)
    (source / BIG).write_bytes(os.urandom(12 * MiB))
    (source / "small.txt").write_bytes(b"small")
    db = tmp_path / "app.db"
    make_app_db(db, [BIG, "small.txt"], shared_every=0)
    settings = TransferSettings(multipart_threshold=5 * MiB, part_size=5 * MiB, max_buffer_bytes=32 * MiB)
    uploader = Uploader(bucket=bucket, region="us-east-1", endpoint=rclone.endpoint, session=session, settings=settings)
    journal = Journal.open(f"sqlite:///{tmp_path / 'journal.sqlite'}", "rclone")
    store = make_store(db)
    try:
        report = run(build_work(source, db, bucket=bucket), journal=journal, store=store, uploader=uploader)
        assert report.exit_code == 0, report.to_json()
        big = journal.objects_by_key([f"files/{BIG}"])[f"files/{BIG}"]
        assert big.parts == 3 and big.etag is not None and big.etag.endswith("-3")
        head = uploader.head(f"files/{BIG}")
        assert head is not None and "-" not in head["etag"]  # the server's own ETag shape: a plain MD5

        checked = verify(journal, uploader=uploader, store=store, source_dir=source, settings=EngineSettings())
        assert checked.ok, checked.to_json()  # was: checksum_mismatch on correct bytes
        assert checked.size_only == [f"files/{BIG}"]  # said plainly: nothing but the size to compare there

        # the local file is still re-hashed against the journal: a change there is caught
        (source / BIG).write_bytes(os.urandom(12 * MiB))
        changed = verify(journal, uploader=uploader, store=store, source_dir=source, settings=EngineSettings())
        assert [(p.kind, p.key) for p in changed.problems] == [("local_changed", f"files/{BIG}")]
    finally:
        journal.close()
        store.close()
        uploader.close()
