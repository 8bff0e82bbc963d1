"""The uploader against a real moto server over HTTP (and through the fault-injecting proxy)."""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from support.faulty_s3 import FaultyS3
from support.upload_helpers import FAST_RETRIES, SMALL_PARTS, item_for, run

from migrate.types import UploadItem, UploadResult
from migrate.upload import (
    MiB,
    TransferSettings,
    Uploader,
    UploadError,
    composite_checksum,
    guess_content_type,
    iter_tree,
    local_digests,
    multipart_etag,
)


def b64sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


NAMES = [
    "plain.txt",
    "with space.pdf",
    "hash#tag.png",
    "question?mark.jpg",
    "plus+sign.csv",
    "percent%20literal.txt",
    "ünïcødé/日本語ファイル.txt",
    "emoji 🎉/x.json",
    "amp&eq=semi;colon,comma.bin",
    "tilde~quote'paren(1).gz",
    "deep/a/b/c/d/e/f.html",
]


def test_small_files_and_awkward_names_round_trip(make_uploader: Any, s3: Any, bucket: str, tmp_path: Path) -> None:
    items = []
    contents = {}
    for i, name in enumerate(NAMES):
        path = tmp_path / f"f{i}"
        data = f"{name}\n".encode() * (i + 1)
        path.write_bytes(data)
        key = f"users/{i}/{name}"
        contents[key] = data
        items.append(item_for(path, key))
    long_key = "long/" + "ü" * 509 + "x"  # 5 + 1018 + 1 = 1024 bytes of UTF-8: S3's maximum
    assert len(long_key.encode()) == 1024
    (tmp_path / "long").write_bytes(b"long key")
    items.append(item_for(tmp_path / "long", long_key))
    contents[long_key] = b"long key"

    results = run(make_uploader(), items)

    assert set(results) == set(contents)
    for key, data in contents.items():
        r = results[key]
        assert r.ok, r
        assert r.size == len(data) and r.parts == 1
        assert r.md5 == hashlib.md5(data).hexdigest() == r.etag
        assert r.sha256 == b64sha(data)
        got = s3.get_object(Bucket=bucket, Key=key)
        assert got["Body"].read() == data
        assert got["ContentType"] == guess_content_type(key)
    listed = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert listed == set(contents)  # no key was mangled into another name


def test_many_small_files_from_a_tree(make_uploader: Any, s3: Any, bucket: str, tmp_path: Path) -> None:
    for i in range(200):
        d = tmp_path / "src" / f"u{i % 7}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"file {i}.txt").write_bytes(b"x" * (i * 37))
    results = run(make_uploader(settings=TransferSettings(concurrency=16)), iter_tree(tmp_path / "src", prefix="p/"))
    assert len(results) == 200 and all(r.ok for r in results.values())
    assert s3.list_objects_v2(Bucket=bucket, Prefix="p/")["KeyCount"] == 200


def test_zero_byte_file(make_uploader: Any, s3: Any, bucket: str, tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    r = run(make_uploader(), [item_for(path, "empty.txt")])["empty.txt"]
    assert r.ok and r.size == 0
    assert r.etag == "d41d8cd98f00b204e9800998ecf8427e"
    assert r.sha256 == b64sha(b"")
    assert local_digests(path, settings=TransferSettings()) == (r.etag, r.sha256, 0)
    head = s3.head_object(Bucket=bucket, Key="empty.txt")
    assert head["ContentLength"] == 0 and head["ContentType"] == "text/plain"


def test_headers_storage_class_sse_cache_control_metadata(make_uploader: Any, tmp_path: Path) -> None:
    path = tmp_path / "report"
    path.write_bytes(b"%PDF-1.4 ...")
    item = item_for(
        path,
        "reports/r.pdf",
        content_type="application/x-custom",
        storage_class="STANDARD_IA",
        sse="AES256",
        cache_control="max-age=3600, public",
        metadata={"origin": "legacy-app", "row-id": "42"},
    )
    up = make_uploader()
    assert run(up, [item])["reports/r.pdf"].ok
    head = up.head("reports/r.pdf")
    assert head is not None
    assert head["content_type"] == "application/x-custom"
    assert head["storage_class"] == "STANDARD_IA"
    assert head["sse"] == "AES256"
    assert head["cache_control"] == "max-age=3600, public"
    assert head["metadata"] == {"origin": "legacy-app", "row-id": "42"}
    assert head["size"] == path.stat().st_size and head["etag"] == hashlib.md5(path.read_bytes()).hexdigest()


def test_bad_metadata_is_a_clear_non_retryable_error(make_uploader: Any, tmp_path: Path) -> None:
    path = tmp_path / "a"
    path.write_bytes(b"a")
    r = run(make_uploader(), [item_for(path, "a", metadata={"x": "line\r\nInjected: yes"})])["a"]
    assert not r.ok and not r.retryable and "line break" in (r.error or "")


def test_multipart_upload(make_uploader: Any, s3: Any, bucket: str, tmp_path: Path) -> None:
    data = bytes(range(256)) * (12 * MiB // 256)  # 12 MiB: parts of 5 + 5 + 2 MiB
    path = tmp_path / "video.mp4"
    path.write_bytes(data)
    up = make_uploader(settings=SMALL_PARTS)
    r = run(up, [item_for(path, "media/video.mp4")])["media/video.mp4"]
    assert r.ok, r
    assert r.parts == 3 and r.size == len(data)
    part_md5s = [hashlib.md5(data[i : i + 5 * MiB]).digest() for i in range(0, len(data), 5 * MiB)]
    assert r.etag == multipart_etag(part_md5s) and r.etag.endswith("-3")
    assert r.sha256 == b64sha(data) and r.md5 is None  # SHA-256 of the whole object; no whole-object MD5
    part_shas = [hashlib.sha256(data[i : i + 5 * MiB]).digest() for i in range(0, len(data), 5 * MiB)]
    assert composite_checksum(part_shas).endswith("-3")  # what S3 reports for the object (moto: nothing)
    assert local_digests(path, settings=SMALL_PARTS) == (r.etag, r.sha256, len(data))
    head = s3.head_object(Bucket=bucket, Key="media/video.mp4")
    assert head["ContentLength"] == len(data) and head["ETag"].strip('"') == r.etag
    assert head["ContentType"] == "video/mp4"
    assert s3.get_object(Bucket=bucket, Key="media/video.mp4")["Body"].read() == data
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")


def test_multipart_part_failing_for_good_aborts_the_upload(
    make_uploader: Any, moto: Any, s3: Any, bucket: str, tmp_path: Path
) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(b"\x01" * (11 * MiB))
    settings = TransferSettings(
        concurrency=2, multipart_threshold=5 * MiB, part_size=5 * MiB, max_attempts=2, **FAST_RETRIES
    )
    with FaultyS3(moto.endpoint, fraction=1.0, faults=["internal"], match=lambda m, p: "partNumber=2" in p) as proxy:
        up = make_uploader(endpoint=proxy.endpoint, settings=settings)
        r = run(up, [item_for(path, "big.bin")])["big.bin"]
        assert proxy.injected["internal"] == 2  # part 2, twice (max_attempts)
        assert proxy.forwarded["DELETE"] == 1  # the abort
    assert not r.ok and r.retryable
    assert "part 2" in (r.error or "") and "InternalError" in (r.error or "")
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_file_changed_while_reading_single_part(make_uploader: Any, s3: Any, bucket: str, tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    path.write_bytes(b"first line\n")
    up = make_uploader()

    def append(p: Path, _n: int) -> None:
        with p.open("ab") as f:
            f.write(b"appended while uploading\n")

    up.after_read = append
    r = run(up, [item_for(path, "log.txt")])["log.txt"]
    assert not r.ok and r.changed_while_reading and r.retryable
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)  # nothing stale was stored


def test_file_changed_while_reading_multipart_is_aborted(
    make_uploader: Any, s3: Any, bucket: str, tmp_path: Path
) -> None:
    path = tmp_path / "growing.bin"
    path.write_bytes(b"\x02" * (12 * MiB))
    up = make_uploader(settings=SMALL_PARTS)

    def append_after_first_part(p: Path, n: int) -> None:
        if n == 5 * MiB:
            with p.open("ab") as f:
                f.write(b"more")

    up.after_read = append_after_first_part
    r = run(up, [item_for(path, "growing.bin")])["growing.bin"]
    assert not r.ok and r.changed_while_reading and r.retryable
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")
    # the next attempt (the engine re-queues it) uploads the new content
    up.after_read = None
    r2 = run(up, [item_for(path, "growing.bin")])["growing.bin"]
    assert r2.ok and r2.size == 12 * MiB + 4


def test_retries_through_a_faulty_proxy(make_uploader: Any, moto: Any, s3: Any, bucket: str, tmp_path: Path) -> None:
    items = []
    for i in range(60):
        p = tmp_path / f"f{i}.bin"
        p.write_bytes(f"{i}".encode() * 100)
        items.append(item_for(p, f"r/{i}.bin"))
    big = tmp_path / "big.bin"
    big.write_bytes(b"\x03" * (11 * MiB))
    items.append(item_for(big, "r/big.bin"))
    settings = TransferSettings(
        concurrency=8, multipart_threshold=5 * MiB, part_size=5 * MiB, max_attempts=12, **FAST_RETRIES
    )
    with FaultyS3(moto.endpoint, fraction=0.3, seed=3) as proxy:
        results = run(make_uploader(endpoint=proxy.endpoint, settings=settings), items)
    assert proxy.total_injected > 0
    assert set(proxy.injected) == {"slowdown", "internal", "drop"}
    failed = [r for r in results.values() if not r.ok]
    assert not failed, failed
    assert results["r/big.bin"].parts == 3
    assert s3.list_objects_v2(Bucket=bucket, Prefix="r/")["KeyCount"] == 61
    assert s3.get_object(Bucket=bucket, Key="r/7.bin")["Body"].read() == b"7" * 100
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")


def test_a_bucket_in_another_region_is_followed_there(
    make_uploader: Any, moto: Any, s3: Any, bucket: str, tmp_path: Path
) -> None:
    """The configured region is wrong: S3's redirect (played by the proxy: moto accepts any region) names
    the bucket's, and the probe, single PUTs and a multipart upload are then signed for it."""
    small, big = tmp_path / "a.txt", tmp_path / "big.bin"
    small.write_bytes(b"a" * 100)
    big.write_bytes(b"\x05" * (11 * MiB))
    settings = TransferSettings(concurrency=2, multipart_threshold=5 * MiB, part_size=5 * MiB, **FAST_RETRIES)
    with FaultyS3(moto.endpoint, fraction=0.0, bucket_region="eu-central-1") as proxy:
        up = make_uploader(endpoint=proxy.endpoint, settings=settings)
        up.probe()
        assert up.region == "eu-central-1" and proxy.injected["redirect"] == 1  # learnt once, at the HEAD
        results = run(up, [item_for(small, "moved/a.txt"), item_for(big, "moved/big.bin")])
        assert proxy.injected["redirect"] == 1
    assert all(r.ok for r in results.values()), results
    assert results["moved/big.bin"].parts == 3
    assert s3.get_object(Bucket=bucket, Key="moved/a.txt")["Body"].read() == b"a" * 100


def test_no_such_bucket_fails_fast_and_is_not_retryable(make_uploader: Any, moto: Any, tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"a")
    settings = TransferSettings(concurrency=2, backoff_base=5.0)  # a retry would take seconds
    with FaultyS3(moto.endpoint, fraction=0.0) as proxy:
        up = make_uploader(endpoint=proxy.endpoint, settings=settings, bucket="no-such-bucket-here")
        t0 = time.monotonic()
        r = run(up, [item_for(path, "a.txt")])["a.txt"]
        elapsed = time.monotonic() - t0
        assert proxy.forwarded["PUT"] == 1  # one request, no retries
    assert not r.ok and not r.retryable
    assert "NoSuchBucket" in (r.error or "") and "bucket does not exist" in (r.error or "")
    assert elapsed < 2


def test_missing_file_is_reported_not_raised(make_uploader: Any, tmp_path: Path) -> None:
    item = UploadItem(key="gone", path=tmp_path / "gone", size=1, mtime_ns=0, content_type="")
    r = run(make_uploader(), [item])["gone"]
    assert not r.ok and not r.retryable and "not found" in (r.error or "")


def test_back_pressure_does_not_materialize_the_iterator(make_uploader: Any, tmp_path: Path) -> None:
    produced = 0
    reported = 0
    peak = 0

    def items() -> Any:
        nonlocal produced, peak
        for i in range(10_000):
            produced += 1
            peak = max(peak, produced - reported)
            yield UploadItem(key=f"k{i}", path=tmp_path / "missing" / str(i), size=1, mtime_ns=0, content_type="")

    def on_result(r: UploadResult) -> None:
        nonlocal reported
        reported += 1

    up = make_uploader(settings=TransferSettings(concurrency=8))
    up.upload_many(items(), on_result=on_result)
    assert produced == reported == 10_000
    assert peak <= 8 + 1  # at most one item per worker (plus the one being yielded)
    assert up.peak_taken <= 8


def test_stop_event_stops_taking_items(make_uploader: Any, tmp_path: Path) -> None:
    path = tmp_path / "a"
    path.write_bytes(b"a")
    stop = threading.Event()
    taken = 0
    results: list[UploadResult] = []

    def items() -> Any:
        nonlocal taken
        for i in range(1000):
            taken += 1
            yield item_for(path, f"s/{i}")

    def on_result(r: UploadResult) -> None:
        results.append(r)
        if len(results) == 5:
            stop.set()

    make_uploader(settings=TransferSettings(concurrency=4)).upload_many(items(), on_result=on_result, stop=stop)
    assert 5 <= len(results) == taken < 20  # every item taken got exactly one result


def test_exception_in_on_result_is_raised_to_the_caller(make_uploader: Any, tmp_path: Path) -> None:
    path = tmp_path / "a"
    path.write_bytes(b"a")

    def boom(_r: UploadResult) -> None:
        raise RuntimeError("journal is gone")

    with pytest.raises(RuntimeError, match="journal is gone"):
        make_uploader().upload_many((item_for(path, f"e/{i}") for i in range(50)), on_result=boom)


def test_head_and_delete(make_uploader: Any, s3: Any, bucket: str, tmp_path: Path) -> None:
    up = make_uploader()
    assert up.head("nope") is None
    for i in range(3):
        s3.put_object(Bucket=bucket, Key=f"d/{i}", Body=b"x")
    calls = []
    real = up.client.delete_objects

    def spy(**kw: Any) -> Any:
        calls.append(len(kw["Delete"]["Objects"]))
        return real(**kw)

    up.client.delete_objects = spy
    up.delete([f"d/{i}" for i in range(2500)])  # 3 real keys and 2,497 missing ones (fine in S3)
    assert calls == [1000, 1000, 500]
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="d/")
    assert up.head("d/0") is None


def test_boto3_fallback_path(make_uploader: Any, s3: Any, bucket: str, tmp_path: Path) -> None:
    items = []
    for name, data in (("fb/zero", b""), ("fb/a b+c#d?.txt", b"hello")):
        p = tmp_path / str(len(items))
        p.write_bytes(data)
        items.append(item_for(p, name))
    results = run(make_uploader(fast=False), items)
    assert all(r.ok for r in results.values()), results
    assert s3.get_object(Bucket=bucket, Key="fb/a b+c#d?.txt")["Body"].read() == b"hello"


def test_crc32_checksum_mode(make_uploader: Any, s3: Any, bucket: str, tmp_path: Path) -> None:
    path = tmp_path / "c.txt"
    path.write_bytes(b"crc me")
    r = run(make_uploader(settings=TransferSettings(checksum="crc32")), [item_for(path, "c.txt")])["c.txt"]
    assert r.ok and r.sha256 is None and r.md5 == hashlib.md5(b"crc me").hexdigest()


def test_settings_are_validated() -> None:
    from migrate.upload import UploadError

    with pytest.raises(UploadError, match="part_size"):
        TransferSettings(part_size=1024)
    assert TransferSettings().memory_bound() == 32 * MiB + 128 * MiB


def test_credentials_come_from_the_session(moto: Any, bucket: str, tmp_path: Path, monkeypatch: Any) -> None:
    import boto3

    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    from migrate.upload import UploadError

    with pytest.raises(UploadError, match="no AWS credentials"):
        Uploader(bucket=bucket, endpoint=moto.endpoint, session=boto3.Session(region_name="us-east-1"))
    session = boto3.Session(aws_access_key_id="AKIAEXAMPLEEXAMPLE12", aws_secret_access_key="x" * 40)
    path = tmp_path / "a"
    path.write_bytes(b"a")
    with Uploader(bucket=bucket, endpoint=moto.endpoint, session=session) as up:
        assert run(up, [item_for(path, "cred")])["cred"].ok


def test_the_probe_leaves_nothing_behind_even_in_a_versioned_bucket(make_uploader: Any, s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    make_uploader().probe()
    listed = s3.list_object_versions(Bucket=bucket)
    assert listed.get("Versions", []) == [] and listed.get("DeleteMarkers", []) == []  # the version itself went


def test_the_probe_names_a_missing_bucket(make_uploader: Any, bucket: str) -> None:
    with pytest.raises(UploadError, match=f"{bucket}-nope.*NoSuchBucket") as raised:
        make_uploader(bucket=f"{bucket}-nope").probe()
    assert raised.value.hint and "bucket" in raised.value.hint
