"""The uploader: local files into S3 with bounded concurrency, one read per file, checksums, retries, multipart.

    uploader = Uploader(bucket="media", region="eu-west-1", endpoint=None, session=boto3.Session(),
                        settings=TransferSettings(concurrency=32))
    uploader.upload_many(items, on_result=journal.record, stop=stop_event)
    uploader.close()

Each file is read once. While it streams in, the uploader computes the SHA-256 (or CRC32) and the MD5 of the
bytes; it sends them as `x-amz-checksum-sha256` (S3 verifies it and rejects a mismatch) and `Content-MD5`,
and it signs the payload with the same SHA-256. An upload is `ok` (verified) when S3 accepted it and the
ETag S3 returned equals the MD5 of the bytes sent (multipart: the MD5 of the parts' MD5s, "-N"). The file is
stat()ed before and after reading; a size or mtime change gives `changed_while_reading=True` (not ok,
retryable) and nothing is stored (single part: not sent; multipart: aborted).

Hot path: PUTs, multipart calls and aborts go through `cargohold_core.s3http` (SigV4 + keep-alive `http.client`,
0.3-0.4 ms of client CPU per small file, against 1.5-2 ms for boto3's put_object); HEAD, DeleteObjects and
endpoint/credential resolution go through boto3. `fast=False` sends PUTs through boto3 instead (a fallback
for endpoints the lean path does not handle, e.g. S3 Express directory buckets; it reads the CA bundle and
proxy settings botocore reads, see `cargohold_core.s3http.ca_bundle` and `proxy_for`).

Multipart uploads are resumable: with a `ledger` (the journal), each upload id is recorded before its
first part and each part S3 accepts after it; a later run that finds an open upload of the same file
(same size and mtime) lists its parts and sends only those S3 does not hold with the same MD5. Every
failure aborts the upload; what a kill leaves behind is resumed or aborted by the engine.

Addressing and retries are the audit's too (`s3http.bucket_address`, `cargohold_core.retry`). A bucket
in another region than the one configured is followed there once S3 says so (its redirect names the
region; the probe's HEAD usually learns it), and `region` then says where the bucket really is.

A dead endpoint, or a bucket or credentials no retry can fix, is recognised once for all workers (the
breaker): the run stops taking files, and what it had in hand comes back `fatal` (not the file's fault).

Threads: `upload_many` runs `concurrency` worker threads that each take the next item from the caller's
iterator when they are free (back-pressure without a read-ahead queue: the iterator is consumed only as
fast as uploads finish), plus a shared pool of `part_concurrency` threads for
multipart parts. `on_result` is called once per item taken from the iterator, from worker threads, but
never concurrently (a lock serialises the calls), so a callback need not be thread-safe.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import mimetypes
import os
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from cargohold_core.errors import CargoholdError
from cargohold_core.retry import Backoff, retryable_answer
from cargohold_core.s3http import (
    EMPTY_SHA256,
    UNSIGNED_PAYLOAD,
    ConnectionPool,
    Response,
    S3Address,
    SigV4Signer,
    TransportError,
    bucket_address,
    encode_query,
    is_aws_endpoint,
    redirect_region,
    xml_field,
)
from migrate.types import UploadItem, UploadResult

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

S3_MIN_PART = 5 * MiB  # every part but the last must be at least this big (real S3; moto checks it too)
S3_MAX_PART = 5 * GiB
S3_MAX_PARTS = 10_000
SMALL_BODY = 1 * MiB  # bodies up to this size skip the shared buffer budget (bounded by concurrency instead)

# Answers no retry and no other file will fix: the run stops at the first one.
FATAL_CODES = frozenset(
    {
        "NoSuchBucket",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
        "TokenRefreshRequired",
        "AccountProblem",
        "AllAccessDisabled",
        "PermanentRedirect",
        "AuthorizationHeaderMalformed",
    }
)
HINTS = {
    "AccessDenied": "the credentials in use may not s3:PutObject into this bucket/prefix (or the KMS key)",
    "NoSuchBucket": "the bucket does not exist at this endpoint/region: check the job's target bucket",
    "InvalidAccessKeyId": "the access key does not exist in this account (or at this endpoint)",
    "SignatureDoesNotMatch": "the secret key does not match the access key (or a proxy rewrote the request)",
    "BadDigest": "the bytes S3 received do not match Content-MD5: something altered the body in transit",
    "InvalidStorageClass": "the job's storage_class is not one S3 knows",
    "KMS.NotFoundException": "the KMS key in the job does not exist in this region",
    "PermanentRedirect": "the bucket is in another region: set the environment's region (or the job's) to the bucket's",
    "AuthorizationHeaderMalformed": "the region used to sign is not the bucket's region",
    "HTTP 301": "the bucket is in another region: set the environment's region (or the job's) to the bucket's",
    "HTTP 403": "the credentials in use may not read or write this bucket (s3:ListBucket, s3:PutObject)",
    "EndpointDown": "nothing answered: check the endpoint and the network; behind a proxy, HTTPS_PROXY/HTTP_PROXY "
    "and NO_PROXY (the settings the AWS CLI reads too)",
}


class PartLedger(Protocol):
    """Where multipart uploads are recorded so a killed one resumes (migrate.journal.Journal is one)."""

    def open_upload(self, key: str, *, size: int, mtime_ns: int) -> tuple[str, int] | None: ...

    def upload_begun(self, key: str, upload_id: str, *, size: int, mtime_ns: int, part_size: int) -> None: ...

    def part_sent(self, upload_id: str, *, number: int, size: int, etag: str, checksum: str | None) -> None: ...

    def upload_closed(self, upload_id: str, *, state: str, reused: int = 0) -> None: ...


class UploadError(CargoholdError):
    """An uploader call (not a single file's upload: those are reported as UploadResult) failed."""


@dataclass(frozen=True)
class TransferSettings:
    """Every tuning knob of the uploader, in one place.

    Memory the settings imply (see `memory_bound()`):
    - single-part bodies are held in memory while sent (the checksum headers must precede the body, and the
      file is read only once): files up to 1 MiB take at most `concurrency` x 1 MiB; bigger ones draw from
      a shared budget of `max_buffer_bytes` (a worker waits until its file fits);
    - multipart parts are buffered one part at a time, drawing from the same budget, so at most
      `max_buffer_bytes / part_size` parts are in flight across all files;
    - no item is read ahead: workers take the next UploadItem from the caller's iterator when free, so at
      most `concurrency` items are held.
    Defaults: 32 x 1 MiB + 128 MiB = 160 MiB worst case (only with files > 1 MiB); with small files only,
    about 32 x the file size. Measured peak RSS of a whole upload process: ~50 MiB for 5,000 x 16 KiB,
    ~290 MiB for 10 x 64 MiB (glibc keeps freed part buffers in its arenas; MALLOC_MMAP_THRESHOLD_=1048576
    in the environment returns them, at a small page-fault cost).
    Part size 8 MiB: on the benchmark (10 x 64 MiB on loopback) 8 MiB parts beat 16 MiB by 10-20%
    (better spread over the part threads); S3 allows 10,000 parts, so files over 80 GiB get bigger parts.
    """

    concurrency: int = 32  # files in flight (worker threads, one keep-alive connection each)
    multipart_threshold: int = 64 * MiB  # files of this size and above go multipart
    part_size: int = 8 * MiB  # raised automatically when a file would need more than 10,000 parts (80 GiB)
    part_concurrency: int = 8  # threads (and connections) for parts, shared by all multipart uploads
    max_buffer_bytes: int = 128 * MiB  # bytes of file contents held for bodies > 1 MiB and parts
    max_attempts: int = 8  # per request (PUT, each part, create/complete/abort), first try included
    backoff_base: float = 0.1  # seconds; after failure n wait uniform(0, min(cap, base * 2**(n-1))): retry.Backoff
    backoff_cap: float = 10.0
    connect_timeout: float = 10.0
    read_timeout: float = 120.0  # per socket operation (a stalled server), not per request
    checksum: Literal["sha256", "crc32"] = "sha256"
    # The endpoint is taken as down after this many connection failures in a row across all connections
    # with no HTTP answer between them (or 3 in a row spanning `dead_endpoint_seconds`, or one request
    # failing every attempt that way): the run stops instead of retrying every file 8 times.
    dead_endpoint_failures: int = 16
    dead_endpoint_seconds: float = 3.0
    # glibc only: allocate buffers >= 1 MiB with mmap, so freed part buffers go back to the OS instead of
    # staying in per-thread malloc arenas (measured: peak RSS 333 -> ~190 MiB on 10 x 64 MiB). Process-wide.
    return_memory: bool = True

    def __post_init__(self) -> None:
        problems = []
        if self.concurrency < 1 or self.part_concurrency < 1:
            problems.append("concurrency and part_concurrency must be at least 1")
        if not S3_MIN_PART <= self.part_size <= S3_MAX_PART:
            problems.append(f"part_size must be between 5 MiB and 5 GiB, not {self.part_size}")
        if self.multipart_threshold < S3_MIN_PART:
            problems.append(f"multipart_threshold must be at least 5 MiB, not {self.multipart_threshold}")
        if self.max_buffer_bytes < max(self.part_size, self.multipart_threshold):
            problems.append("max_buffer_bytes must hold at least one part and one file below multipart_threshold")
        if self.max_attempts < 1:
            problems.append("max_attempts must be at least 1")
        if self.checksum not in ("sha256", "crc32"):
            problems.append(f"checksum must be 'sha256' or 'crc32', not {self.checksum!r}")
        if problems:
            raise UploadError("invalid transfer settings: " + "; ".join(problems))

    def memory_bound(self) -> int:
        """Worst-case bytes of file contents held at once (excluding the interpreter, sockets and TLS)."""
        return self.concurrency * SMALL_BODY + self.max_buffer_bytes


class _ByteBudget:
    """A counting semaphore over bytes: bounds the file contents held in memory by all threads together."""

    def __init__(self, total: int) -> None:
        self._free = total
        self._total = total
        self._cond = threading.Condition()

    def acquire(self, n: int) -> int:
        n = min(n, self._total)
        with self._cond:
            while self._free < n:
                self._cond.wait()
            self._free -= n
        return n

    def release(self, n: int) -> None:
        with self._cond:
            self._free += n
            self._cond.notify_all()


class _Breaker:
    """Recognises, once for every worker, a problem no retry fixes: the endpoint is down (connections
    fail and nothing answers), or the bucket or credentials are wrong (FATAL_CODES)."""

    def __init__(self, *, failures: int, seconds: float) -> None:
        self.reason: str | None = None
        self._limit = failures
        self._seconds = seconds
        self._in_a_row = 0
        self._since = 0.0
        self._lock = threading.Lock()

    def answered(self) -> None:
        """An HTTP answer, whatever its status: the endpoint lives."""
        self._in_a_row = 0

    def connection_failed(self, what: str) -> None:
        with self._lock:
            now = time.monotonic()
            if self._in_a_row == 0:
                self._since = now
            self._in_a_row += 1
            spanned = self._in_a_row >= 3 and now - self._since >= self._seconds
            if self._in_a_row >= self._limit or spanned:
                self.trip(
                    f"the S3 endpoint is unreachable ({self._in_a_row} connection failures in a row; last: {what})"
                )

    def trip(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason


class _Failed(Exception):
    """A request failed for good (attempts exhausted or not retryable)."""

    def __init__(self, message: str, *, retryable: bool, code: str | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code


class _Stopped(Exception):
    pass


@dataclass
class _Read:
    """A file (or part) read once: its bytes and their digests."""

    data: bytes
    md5: bytes
    checksum: str  # base64 of SHA-256 or CRC32 (big-endian), the x-amz-checksum-* value
    sha256_hex: str  # payload hash for SigV4 (EMPTY when not computed: crc32 over https)


class Uploader:
    """Puts local files into one bucket. Thread-safe; `upload_many` may be called repeatedly."""

    def __init__(
        self,
        *,
        bucket: str,
        region: str | None = None,
        endpoint: str | None = None,
        session: Any | None = None,
        settings: TransferSettings | None = None,
        fast: bool = True,
        ledger: PartLedger | None = None,
    ) -> None:
        import boto3  # deferred: keeps `import migrate.upload` cheap

        self.bucket = bucket
        self.settings = settings or TransferSettings()
        self._session: Any = session or boto3.Session()
        self.region: str = region or self._session.region_name or "us-east-1"
        self._fast = fast
        credentials = self._session.get_credentials()
        if credentials is None:
            raise UploadError(
                "no AWS credentials found for the uploader",
                hint="set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws sso login`",
            )
        self._credentials = credentials
        self._client_lock = threading.Lock()
        self._client: Any = None
        self.endpoint = endpoint.rstrip("/") if endpoint else None
        # A custom endpoint from the environment or a profile (boto3 resolves them); on AWS the rule's
        # regional endpoint, which follows the bucket's region on a redirect.
        resolved = self.endpoint or self.client.meta.endpoint_url
        self._base = None if self.endpoint is None and is_aws_endpoint(resolved) else resolved
        # Where requests go and how they are signed, replaced as one on a region redirect.
        self._route = self._route_for(self.region)
        self._route_lock = threading.Lock()
        self._connections = ConnectionPool(
            max_idle=4 * self.settings.concurrency + 16,  # every worker and part thread may return one
            connect_timeout=self.settings.connect_timeout,
            read_timeout=self.settings.read_timeout,
            session=self._session,
        )
        self._backoff = Backoff(
            max_attempts=self.settings.max_attempts, base=self.settings.backoff_base, cap=self.settings.backoff_cap
        )
        self._budget = _ByteBudget(self.settings.max_buffer_bytes)
        if self.settings.return_memory:
            _mmap_big_buffers()
        self._parts_pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._closed = False
        self.ledger = ledger
        self._breaker = _Breaker(
            failures=self.settings.dead_endpoint_failures, seconds=self.settings.dead_endpoint_seconds
        )
        self.peak_taken = 0  # most items taken from `items` and not yet reported, in the last upload_many
        # Test seam: called with (path, bytes read so far) after each read of a file; lets tests change a
        # file mid-upload deterministically.
        self.after_read: Callable[[Path, int], None] | None = None

    # ------------------------------------------------------------------ boto3 side (HEAD, delete)

    @property
    def client(self) -> Any:
        """A boto3 S3 client for the same bucket/endpoint/credentials (created on first use)."""
        with self._client_lock:
            if self._client is None:
                from botocore.config import Config

                self._client = self._session.client(
                    "s3",
                    region_name=self.region,
                    endpoint_url=self.endpoint,
                    config=Config(
                        s3={"addressing_style": "path"} if self.endpoint else {},
                        retries={"mode": "standard", "max_attempts": self.settings.max_attempts},
                        max_pool_connections=max(10, self.settings.concurrency),
                        connect_timeout=self.settings.connect_timeout,
                        read_timeout=self.settings.read_timeout,
                    ),
                )
            return self._client

    def head(self, key: str) -> dict[str, Any] | None:
        """The object's size, etag (no quotes), checksums, version, type, metadata; None if it does not exist."""
        from botocore.exceptions import ClientError

        try:
            r = self.client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("404", "NoSuchKey", "NotFound"):
                return None
            raise UploadError(f"HEAD s3://{self.bucket}/{key}: {code}", hint=HINTS.get(code)) from exc
        return {
            "size": r.get("ContentLength", 0),
            "etag": str(r.get("ETag", "")).strip('"'),
            "checksum_sha256": r.get("ChecksumSHA256"),
            "checksum_crc32": r.get("ChecksumCRC32"),
            "version_id": r.get("VersionId"),
            "content_type": r.get("ContentType"),
            "cache_control": r.get("CacheControl"),
            "storage_class": r.get("StorageClass"),
            "sse": r.get("ServerSideEncryption"),
            "metadata": r.get("Metadata", {}),
            "last_modified": r.get("LastModified"),
        }

    def delete(self, keys: Sequence[str]) -> None:
        """Delete objects (DeleteObjects, 1,000 keys a call). Missing keys are fine; any other error raises."""
        errors: list[str] = []
        for i in range(0, len(keys), 1000):
            chunk = keys[i : i + 1000]
            r = self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
            )
            errors += [f"{e.get('Key')}: {e.get('Code')} {e.get('Message', '')}".strip() for e in r.get("Errors", [])]
        if errors:
            more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
            raise UploadError(
                f"could not delete {len(errors)} object(s) from s3://{self.bucket}: {'; '.join(errors[:5])}{more}",
                hint="the credentials may lack s3:DeleteObject",
            )

    @property
    def fatal(self) -> str | None:
        """Why the uploader stopped for good (endpoint down, no such bucket, bad credentials), or None."""
        return self._breaker.reason

    def probe(self, *, sse: str | None = None, kms_key_id: str | None = None) -> None:
        """Before the first upload: the bucket exists at this endpoint and these credentials may write
        to it. A zero-byte object `.cargohold-probe/<random>` is PUT and deleted again (its version too,
        where the bucket keeps versions and the credentials may). Raises UploadError saying what to fix."""
        stop = threading.Event()
        where = f"s3://{self.bucket} at {self.endpoint or self._route[0].url()}"
        try:
            got = self._call(
                "HEAD", self._route[0].root, "", {}, b"", EMPTY_SHA256, stop, what="HEAD bucket", ok_404=True
            )
            if got.status == 404:
                raise _Failed("HEAD bucket: NoSuchBucket (HTTP 404)", retryable=False, code="NoSuchBucket")
            key = f".cargohold-probe/{uuid.uuid4().hex}"
            item = UploadItem(
                key=key,
                path=Path(),
                size=0,
                mtime_ns=0,
                content_type="application/octet-stream",
                sse=sse,
                kms_key_id=kms_key_id,
            )
            headers = self._object_headers(item)
            headers["content-md5"] = base64.b64encode(hashlib.md5(b"").digest()).decode()  # noqa: S324
            put = self._call("PUT", self._object_path(key), "", headers, b"", EMPTY_SHA256, stop, what="PUT probe")
        except _Failed as exc:
            raise UploadError(
                f"cannot write to {where}: {exc}",
                hint=HINTS.get(exc.code or "", "check the bucket name, the region, the endpoint and the credentials"),
            ) from None
        version = put.headers.get("x-amz-version-id")
        versions = [version, None] if version and version != "null" else [None]
        for attempt in versions:  # the version itself first, so no delete marker is left behind
            query = encode_query({"versionId": attempt}) if attempt else ""
            try:
                self._call(
                    "DELETE",
                    self._object_path(key),
                    query,
                    {},
                    b"",
                    EMPTY_SHA256,
                    stop,
                    what="DELETE probe",
                    ok_404=True,
                )
                return
            except _Failed as exc:  # may not delete versions: a plain delete's marker is removed by lifecycle
                error = exc
        raise UploadError(
            f"could not delete the probe object s3://{self.bucket}/{key}: {error}",
            hint="the credentials need s3:DeleteObject on the bucket to migrate (and roll back) into it",
        )

    def incomplete_uploads(self) -> list[tuple[str, str]]:
        """(key, upload id) of every multipart upload in the bucket neither completed nor aborted."""
        found: list[tuple[str, str]] = []
        for page in self.client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket):
            found += [(str(u["Key"]), str(u["UploadId"])) for u in page.get("Uploads", [])]
        return found

    def abort_upload(self, key: str, upload_id: str) -> str | None:
        """Abort one multipart upload (gone already is fine). Returns an error text or None."""
        return self._abort_recorded(self._object_path(key), upload_id, key)

    def download(self, key: str, dest: Path, *, size: int, sha256: str | None, md5: str | None, mtime_ns: int) -> None:
        """Bring an object back to a local file: written beside `dest`, checked against the size and
        checksum the journal recorded, then renamed into place with its old mtime. Nothing is left at
        `dest` unless it matches."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.cargohold-{uuid.uuid4().hex[:8]}")
        sha, md = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
        got = 0
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
            with tmp.open("xb") as out:
                while chunk := body.read(1 << 20):
                    out.write(chunk)
                    sha.update(chunk)
                    md.update(chunk)
                    got += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            wrong = got != size
            wrong = wrong or (sha256 is not None and base64.b64encode(sha.digest()).decode() != sha256)
            wrong = wrong or (sha256 is None and md5 is not None and md.hexdigest() != md5)
            if wrong:
                raise UploadError(
                    f"s3://{self.bucket}/{key} does not match the journal ({got} bytes read, {size} recorded)",
                    hint="the object changed since the migration; it was not restored",
                )
            os.utime(tmp, ns=(mtime_ns, mtime_ns))
            tmp.replace(dest)
        finally:
            tmp.unlink(missing_ok=True)

    def close(self) -> None:
        """Close connections and thread pools. The uploader cannot be used afterwards."""
        self._closed = True
        with self._pool_lock:
            if self._parts_pool is not None:
                self._parts_pool.shutdown(wait=True)
                self._parts_pool = None
        self._connections.close()
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def __enter__(self) -> Uploader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ upload_many

    def upload_many(
        self,
        items: Iterable[UploadItem],
        *,
        on_result: Callable[[UploadResult], None],
        stop: threading.Event | None = None,
    ) -> None:
        """Upload every item; call `on_result` exactly once per item taken from `items`.

        Back-pressure: there is no read-ahead queue. A worker takes the next item from `items` (under a lock)
        only when it is free, so at most `concurrency` items are taken and not yet reported. When `stop` is
        set, no more items are taken; uploads in flight finish (multipart ones are aborted between parts, and
        a retry wait is cut short). An exception from `items` or `on_result` stops the run and is re-raised
        here after the workers have exited (results after a failed `on_result` are dropped).
        """
        if self._closed:
            raise UploadError("the uploader is closed")
        stop = stop or threading.Event()
        source = iter(items)
        take_lock = threading.Lock()  # workers take the next item under this lock: that is the back-pressure
        result_lock = threading.Lock()
        failure: list[BaseException] = []
        halt = threading.Event()  # internal: `items` or `on_result` raised
        self.peak_taken = 0
        outstanding = [0]

        def report(result: UploadResult) -> None:
            with result_lock:
                outstanding[0] -= 1
                if failure:
                    return
                try:
                    on_result(result)
                except BaseException as exc:
                    failure.append(exc)
                    halt.set()

        def take() -> UploadItem | None:
            with take_lock:
                if stop.is_set() or halt.is_set() or self._breaker.reason is not None:
                    return None
                try:
                    item = next(source)
                except StopIteration:
                    halt.set()  # exhausted: the other workers stop too
                    return None
                except BaseException as exc:
                    with result_lock:
                        failure.insert(0, exc)
                    halt.set()
                    return None
                with result_lock:
                    outstanding[0] += 1
                    self.peak_taken = max(self.peak_taken, outstanding[0])
                return item

        def worker() -> None:
            while True:
                item = take()
                if item is None:
                    return
                try:
                    result = self.upload_one(item, stop=stop)
                except BaseException as exc:  # a bug, not an S3 error: report it, keep the run alive
                    result = UploadResult(key=item.key, ok=False, error=f"internal error: {exc!r}", retryable=True)
                report(result)

        threads = [
            threading.Thread(target=worker, name=f"upload-{i}", daemon=True) for i in range(self.settings.concurrency)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if failure:
            raise failure[0]

    # ------------------------------------------------------------------ one file

    def upload_one(self, item: UploadItem, *, stop: threading.Event | None = None) -> UploadResult:
        """Upload one file (in the calling thread; multipart parts use the part pool). Never raises for S3 or
        file errors: they come back in the UploadResult."""
        stop = stop or threading.Event()
        path = item.path
        try:
            st0 = path.stat()
        except FileNotFoundError:
            return UploadResult(key=item.key, ok=False, error=f"file not found: {path}", retryable=False)
        except OSError as exc:
            return UploadResult(key=item.key, ok=False, error=f"cannot stat {path}: {exc}", retryable=False)
        try:
            if st0.st_size >= self.settings.multipart_threshold:
                return self._multipart(item, st0, stop)
            return self._single(item, st0, stop)
        except _Failed as exc:
            fatal = self._breaker.reason is not None  # the endpoint or bucket, not this file
            return UploadResult(key=item.key, ok=False, error=str(exc), retryable=exc.retryable, fatal=fatal)
        except _Stopped:
            return UploadResult(key=item.key, ok=False, error="stopped before the upload finished", retryable=True)
        except OSError as exc:
            return UploadResult(key=item.key, ok=False, error=f"cannot read {path}: {exc}", retryable=False)

    def _digest(self, data: bytes) -> _Read:
        md5 = hashlib.md5(data).digest()  # noqa: S324 - Content-MD5/ETag, not security
        if self.settings.checksum == "sha256":
            sha = hashlib.sha256(data).digest()
            return _Read(data, md5, base64.b64encode(sha).decode(), sha.hex())
        crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
        payload = UNSIGNED_PAYLOAD if self._route[0].scheme == "https" else hashlib.sha256(data).hexdigest()
        return _Read(data, md5, crc, payload)

    def _single(self, item: UploadItem, st0: os.stat_result, stop: threading.Event) -> UploadResult:
        size = st0.st_size
        held = self._budget.acquire(size) if size > SMALL_BODY else 0
        try:
            with item.path.open("rb", buffering=0) as f:
                data = f.read(size + 1) if size else f.read(1)
                if self.after_read is not None:
                    self.after_read(item.path, len(data))
                st1 = os.fstat(f.fileno())
            if len(data) != size or st1.st_size != size or st1.st_mtime_ns != st0.st_mtime_ns:
                return UploadResult(
                    key=item.key,
                    ok=False,
                    size=len(data),
                    mtime_ns=st1.st_mtime_ns,
                    changed_while_reading=True,
                    error=f"{item.path} changed while it was read (size {size} -> {st1.st_size}); not uploaded",
                    retryable=True,
                )
            read = self._digest(data)
            headers = self._object_headers(item)
            headers["content-md5"] = base64.b64encode(read.md5).decode()
            headers[self._checksum_header] = read.checksum
            path = self._object_path(item.key)
            if self._fast:
                resp = self._call("PUT", path, "", headers, data, read.sha256_hex, stop, what=f"PUT {item.key}")
                etag = resp.headers.get("etag", "").strip('"')
                version = resp.headers.get("x-amz-version-id")
                echoed = resp.headers.get(self._checksum_header)
            else:
                etag, version, echoed = self._boto3_put(item, read, stop)
        finally:
            if held:
                self._budget.release(held)
        md5_hex = read.md5.hex()
        ok, error = _verdict(etag, md5_hex, echoed, read.checksum, kms=item.sse not in (None, "AES256"))
        return UploadResult(
            key=item.key,
            ok=ok,
            size=size,
            mtime_ns=st1.st_mtime_ns,
            sha256=read.checksum if self.settings.checksum == "sha256" else None,
            md5=md5_hex,
            etag=etag or None,
            version_id=version,
            error=error,
            retryable=not ok,
        )

    def _resumable(self, item: UploadItem, st0: os.stat_result) -> tuple[str, int, dict[int, tuple[int, str]]] | None:
        """An open upload of this very file (same size and mtime) an earlier run began: (upload id, its
        part size, the parts S3 holds: number -> (size, ETag)). None when there is none to resume."""
        if self.ledger is None:
            return None
        found = self.ledger.open_upload(item.key, size=st0.st_size, mtime_ns=st0.st_mtime_ns)
        if found is None:
            return None
        upload_id, part_size = found
        from botocore.exceptions import BotoCoreError, ClientError

        held: dict[int, tuple[int, str]] = {}
        try:
            pages = self.client.get_paginator("list_parts").paginate(
                Bucket=self.bucket, Key=item.key, UploadId=upload_id
            )
            for page in pages:
                for part in page.get("Parts", []):
                    held[int(part["PartNumber"])] = (int(part["Size"]), str(part["ETag"]).strip('"'))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchUpload", "404"):
                self.ledger.upload_closed(upload_id, state="aborted")  # gone (aborted, or expired by lifecycle)
            return None  # cannot list it: begin afresh; the engine aborts the old one when the job is done
        except BotoCoreError:
            return None
        return upload_id, part_size, held

    def _multipart(self, item: UploadItem, st0: os.stat_result, stop: threading.Event) -> UploadResult:
        s = self.settings
        size = st0.st_size
        path = self._object_path(item.key)
        resumed = self._resumable(item, st0)
        held_parts: dict[int, tuple[int, str]] = {}
        if resumed is not None:
            upload_id, part_size, held_parts = resumed
        else:
            part_size = max(s.part_size, -(-size // S3_MAX_PARTS))
            headers = self._object_headers(item)
            headers["x-amz-checksum-algorithm"] = s.checksum.upper()
            resp = self._call("POST", path, "uploads=", headers, b"", EMPTY_SHA256, stop, what=f"create {item.key}")
            created = xml_field(resp.body, "UploadId")
            if not created:
                raise _Failed(f"CreateMultipartUpload {item.key}: no UploadId in the response", retryable=True)
            upload_id = created
            if self.ledger is not None:  # before any part: a kill from here on leaves a recorded upload
                self.ledger.upload_begun(item.key, upload_id, size=size, mtime_ns=st0.st_mtime_ns, part_size=part_size)
        reused = 0
        aborted = False
        try:  # the abort (in the except below) is registered before any part starts
            # SHA-256 of the whole object (what the journal and a local re-hash compare with), in the same read
            full_sha = hashlib.sha256() if s.checksum == "sha256" else None
            futures: list[Future[tuple[str, str]]] = []
            part_md5s: list[bytes] = []
            part_failed = threading.Event()
            changed = False
            read_total = 0
            pool = self._part_pool()
            with item.path.open("rb", buffering=0) as f:
                number = 0
                while read_total < size and not part_failed.is_set():
                    if stop.is_set():
                        part_failed.set()
                        _wait_all(futures)
                        raise _Stopped
                    want = min(part_size, size - read_total)
                    held = self._budget.acquire(want)
                    try:
                        data = _read_exactly(f, want)
                    except BaseException:
                        self._budget.release(held)
                        raise
                    read_total += len(data)
                    if self.after_read is not None:
                        self.after_read(item.path, read_total)
                    if len(data) != want:
                        self._budget.release(held)
                        changed = True
                        break
                    number += 1
                    read = self._digest(data)
                    part_md5s.append(read.md5)
                    if full_sha is not None:
                        full_sha.update(data)
                    if held_parts.get(number) == (len(data), read.md5.hex()):  # S3 has these very bytes
                        self._budget.release(held)
                        reused += 1
                        kept: Future[tuple[str, str]] = Future()
                        kept.set_result((read.md5.hex(), read.checksum))
                        futures.append(kept)
                        continue
                    futures.append(
                        pool.submit(self._put_part, path, upload_id, number, read, held, stop, part_failed, item.key)
                    )
                if not changed and f.read(1):
                    changed = True
                st1 = os.fstat(f.fileno())
            changed = changed or st1.st_size != size or st1.st_mtime_ns != st0.st_mtime_ns
            if changed:
                part_failed.set()  # parts not yet started are skipped
            parts: list[tuple[str, str]] = []
            first_error: BaseException | None = None
            for fut in futures:
                try:
                    parts.append(fut.result())
                except BaseException as exc:
                    first_error = first_error or exc
            if changed:
                abort_error = self._abort_recorded(path, upload_id, item.key)
                aborted = True
                return UploadResult(
                    key=item.key,
                    ok=False,
                    size=read_total,
                    mtime_ns=st1.st_mtime_ns,
                    changed_while_reading=True,
                    error=f"{item.path} changed while it was read (size {size} -> {st1.st_size}); upload aborted"
                    + (f"; {abort_error}" if abort_error else ""),
                    retryable=True,
                )
            if first_error is not None:
                raise first_error
            tag = self._checksum_tag
            body = (
                "<CompleteMultipartUpload>"
                + "".join(
                    f"<Part><PartNumber>{n}</PartNumber><ETag>&quot;{etag}&quot;</ETag><{tag}>{ck}</{tag}></Part>"
                    for n, (etag, ck) in enumerate(parts, start=1)
                )
                + "</CompleteMultipartUpload>"
            ).encode()
            expected = multipart_etag(part_md5s)
            etag, version = self._complete(path, upload_id, body, expected, stop, item.key)
        except BaseException as exc:
            if not aborted:
                abort_error = self._abort_recorded(path, upload_id, item.key)
                if abort_error and isinstance(exc, _Failed):
                    raise _Failed(f"{exc}; and {abort_error}", retryable=exc.retryable, code=exc.code) from exc
            raise
        if self.ledger is not None:
            self.ledger.upload_closed(upload_id, state="completed", reused=reused)
        ok = etag == expected
        return UploadResult(
            key=item.key,
            ok=ok,
            size=size,
            mtime_ns=st1.st_mtime_ns,
            sha256=base64.b64encode(full_sha.digest()).decode() if full_sha is not None else None,
            md5=None,  # no whole-object MD5 is computed for multipart uploads (the ETag covers the parts)
            etag=etag,
            version_id=version,
            parts=len(parts),
            error=None if ok else f"ETag {etag!r} does not match the parts' MD5s ({expected!r})",
            retryable=not ok,
            parts_reused=reused,
        )

    def _put_part(
        self,
        path: str,
        upload_id: str,
        number: int,
        read: _Read,
        held: int,
        stop: threading.Event,
        part_failed: threading.Event,
        key: str,
    ) -> tuple[str, str]:
        try:
            if part_failed.is_set():
                raise _Failed(f"part {number} of {key} skipped: another part failed", retryable=True)
            headers = {
                "content-md5": base64.b64encode(read.md5).decode(),
                self._checksum_header: read.checksum,
            }
            query = encode_query({"partNumber": str(number), "uploadId": upload_id})
            resp = self._call(
                "PUT", path, query, headers, read.data, read.sha256_hex, stop, what=f"part {number} of {key}"
            )
            etag = resp.headers.get("etag", "").strip('"')
            if etag != read.md5.hex():
                raise _Failed(f"part {number} of {key}: ETag {etag!r} is not the part's MD5", retryable=True)
            if self.ledger is not None:
                self.ledger.part_sent(upload_id, number=number, size=len(read.data), etag=etag, checksum=read.checksum)
            return etag, read.checksum
        except BaseException:
            part_failed.set()
            raise
        finally:
            self._budget.release(held)

    def _complete(
        self, path: str, upload_id: str, body: bytes, expected: str, stop: threading.Event, key: str
    ) -> tuple[str, str | None]:
        query = encode_query({"uploadId": upload_id})
        sha = hashlib.sha256(body).hexdigest()
        headers = {"content-type": "application/xml"}
        try:
            resp = self._call("POST", path, query, headers, body, sha, stop, what=f"complete {key}", xml_errors=True)
        except _Failed as exc:
            if exc.code != "NoSuchUpload":
                raise
            # An earlier attempt may have completed it and lost the response: accept the object if it matches.
            got = self._call("HEAD", path, "", {}, b"", EMPTY_SHA256, stop, what=f"HEAD {key}", ok_404=True)
            if got.status == 200 and got.headers.get("etag", "").strip('"') == expected:
                return expected, got.headers.get("x-amz-version-id")
            raise
        etag = (xml_field(resp.body, "ETag") or "").strip('"')
        return etag, resp.headers.get("x-amz-version-id")

    def _abort_recorded(self, path: str, upload_id: str, key: str) -> str | None:
        """Abort, and tell the ledger once S3 has confirmed it (else the engine tries again later)."""
        error = self._abort(path, upload_id, key)
        if error is None and self.ledger is not None:
            self.ledger.upload_closed(upload_id, state="aborted")
        return error

    def _abort(self, path: str, upload_id: str, key: str) -> str | None:
        """Abort a multipart upload (with retries, even when stopping). Returns an error text or None."""
        query = encode_query({"uploadId": upload_id})
        try:
            self._call(
                "DELETE", path, query, {}, b"", EMPTY_SHA256, threading.Event(), what=f"abort {key}", ok_404=True
            )
        except _Failed as exc:
            return f"AbortMultipartUpload failed too ({exc}); an incomplete upload {upload_id} may remain"
        return None

    # ------------------------------------------------------------------ requests

    @property
    def _checksum_header(self) -> str:
        return "x-amz-checksum-sha256" if self.settings.checksum == "sha256" else "x-amz-checksum-crc32"

    @property
    def _checksum_tag(self) -> str:
        return "ChecksumSHA256" if self.settings.checksum == "sha256" else "ChecksumCRC32"

    def _object_path(self, key: str) -> str:
        return self._route[0].object_path(key)

    def _route_for(self, region: str) -> tuple[S3Address, SigV4Signer]:
        return bucket_address(self.bucket, region, self._base), SigV4Signer(self._credentials, region)

    def _follow(self, region: str) -> None:
        """S3 says the bucket is in `region`: sign for it (and, on AWS, use its regional host) from now on.
        Paths stay valid: whether the bucket is in the host name depends on its name, not its region."""
        with self._route_lock:
            if region != self.region:
                self._route = self._route_for(region)
                self.region = region

    def _send(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes, payload_sha256: str
    ) -> Response:
        """Sign and send one request on a pooled connection; raises TransportError (the connection closed)."""
        address, signer = self._route
        signed = signer.sign(
            method=method,
            host=address.host_header,
            path=path,
            query=query,
            headers=dict(headers),
            payload_sha256=payload_sha256,
        )
        conn = self._connections.checkout(address.scheme, address.hostname, address.port)
        try:
            resp = conn.request(method, f"{path}?{query}" if query else path, signed, body)
        except TransportError:
            conn.close()
            raise
        self._connections.checkin(conn)
        return resp

    def _object_headers(self, item: UploadItem) -> dict[str, str]:
        headers = {"content-type": item.content_type or guess_content_type(item.key)}
        if item.storage_class:
            headers["x-amz-storage-class"] = item.storage_class
        if item.sse:
            headers["x-amz-server-side-encryption"] = item.sse
        if item.kms_key_id:
            headers["x-amz-server-side-encryption-aws-kms-key-id"] = item.kms_key_id
        if item.cache_control:
            headers["cache-control"] = item.cache_control
        for name, value in item.metadata.items():
            if not (name.isascii() and value.isascii()) or not name.replace("-", "").replace("_", "").isalnum():
                raise _Failed(
                    f"metadata {name!r}: S3 metadata names must be letters, digits, '-', '_' and values ASCII",
                    retryable=False,
                )
            headers[f"x-amz-meta-{name.lower()}"] = value
        for name, value in headers.items():
            if "\r" in value or "\n" in value or not value.isascii():
                raise _Failed(f"header {name}: {value!r} has a line break or non-ASCII characters", retryable=False)
        return headers

    def _call(
        self,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
        payload_sha256: str,
        stop: threading.Event,
        *,
        what: str,
        xml_errors: bool = False,
        ok_404: bool = False,
    ) -> Response:
        """One S3 request with retries (jittered exponential backoff). Returns a 2xx response or raises _Failed."""
        attempts = self._backoff.max_attempts
        last = ""
        answered = False
        for attempt in range(attempts):
            if self._breaker.reason is not None:
                raise _Failed(f"{what}: not sent: {self._breaker.reason}", retryable=True, code="EndpointDown")
            if attempt and stop.wait(self._backoff.delay(attempt)) and method != "DELETE":
                raise _Stopped
            try:
                resp = self._send(method, path, query, headers, body, payload_sha256)
                moved = None if 200 <= resp.status < 300 else redirect_region(resp)
                if moved is not None and moved != self.region:  # once per request, not counted as an attempt
                    self._follow(moved)
                    resp = self._send(method, path, query, headers, body, payload_sha256)
            except TransportError as exc:
                last = f"{what}: connection problem: {exc}"
                self._breaker.connection_failed(last)
                continue
            answered = True
            self._breaker.answered()
            if 200 <= resp.status < 300 or (ok_404 and resp.status == 404):
                code = xml_field(resp.body, "Code") if xml_errors and b"<Error>" in resp.body else None
                if code is None:
                    return resp
            else:
                code = xml_field(resp.body, "Code") or f"HTTP {resp.status}"
            message = xml_field(resp.body, "Message") or ""
            last = f"{what}: {code} (HTTP {resp.status}){': ' + message if message else ''}"
            if retryable_answer(resp.status, code):
                continue
            hint = HINTS.get(code or "")
            if code in FATAL_CODES:
                self._breaker.trip(last + (f" - {hint}" if hint else ""))
            raise _Failed(last + (f" - {hint}" if hint else ""), retryable=False, code=code)
        if not answered:  # every attempt failed to connect: the endpoint, not this request
            self._breaker.trip(f"the S3 endpoint is unreachable: {last}")
            # said the same way whether the breaker tripped just now or while these attempts ran
            raise _Failed(
                f"the S3 endpoint is unreachable: {last} (gave up after {attempts} attempts)",
                retryable=True,
                code="EndpointDown",
            )
        raise _Failed(f"{last} (gave up after {attempts} attempts)", retryable=True)

    def _boto3_put(self, item: UploadItem, read: _Read, stop: threading.Event) -> tuple[str, str | None, str | None]:
        """The fallback path: PutObject through boto3 (its own retries), same headers and checksums."""
        from botocore.exceptions import BotoCoreError, ClientError

        kwargs: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": item.key,
            "Body": read.data,
            "ContentType": item.content_type or guess_content_type(item.key),
            "ContentMD5": base64.b64encode(read.md5).decode(),
            "Metadata": dict(item.metadata),
        }
        kwargs["ChecksumSHA256" if self.settings.checksum == "sha256" else "ChecksumCRC32"] = read.checksum
        for arg, value in (
            ("StorageClass", item.storage_class),
            ("ServerSideEncryption", item.sse),
            ("SSEKMSKeyId", item.kms_key_id),
            ("CacheControl", item.cache_control),
        ):
            if value:
                kwargs[arg] = value
        try:
            r = self.client.put_object(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            retryable = retryable_answer(status, code)
            hint = HINTS.get(code)
            raise _Failed(
                f"PUT {item.key}: {exc}" + (f" - {hint}" if hint else ""), retryable=retryable, code=code
            ) from exc
        except BotoCoreError as exc:
            raise _Failed(f"PUT {item.key}: {exc}", retryable=True) from exc
        return str(r.get("ETag", "")).strip('"'), r.get("VersionId"), r.get("ChecksumSHA256") or r.get("ChecksumCRC32")

    def _part_pool(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._parts_pool is None:
                self._parts_pool = ThreadPoolExecutor(self.settings.part_concurrency, thread_name_prefix="upload-part")
            return self._parts_pool


# ---------------------------------------------------------------------- helpers


def guess_content_type(name: str) -> str:
    """The content type for an object name (mimetypes), application/octet-stream when unknown."""
    ctype, encoding = mimetypes.guess_type(name, strict=False)
    if ctype is None:
        return "application/octet-stream"
    if encoding == "gzip" and ctype != "application/gzip":
        return "application/gzip"
    return ctype


def multipart_etag(part_md5s: Sequence[bytes]) -> str:
    """The ETag S3 gives a multipart object: MD5 of the concatenated part MD5 digests, '-', the part count."""
    return hashlib.md5(b"".join(part_md5s)).hexdigest() + f"-{len(part_md5s)}"  # noqa: S324


def composite_checksum(part_digests: Sequence[bytes]) -> str:
    """S3's checksum of a multipart object (COMPOSITE type): base64 of the hash of the parts' raw digests, '-N'.

    This is what HeadObject(ChecksumMode=ENABLED) reports as ChecksumSHA256 for a multipart upload.
    """
    return base64.b64encode(hashlib.sha256(b"".join(part_digests)).digest()).decode() + f"-{len(part_digests)}"


def local_digests(path: Path, *, settings: TransferSettings) -> tuple[str, str | None, int]:
    """(etag, sha256, size) the uploader would record for this local file with these settings: for verify.

    etag: MD5 hex (single part) or MD5 of the part MD5s "-N" (multipart, with these settings' part size);
    sha256: base64 SHA-256 of the whole file either way (None in crc32 mode). Reads the file once, part by
    part (memory: one part).
    """
    size = path.stat().st_size
    with path.open("rb") as f:
        if size < settings.multipart_threshold:
            data = f.read()
            sha = base64.b64encode(hashlib.sha256(data).digest()).decode() if settings.checksum == "sha256" else None
            return hashlib.md5(data).hexdigest(), sha, len(data)  # noqa: S324
        part_size = max(settings.part_size, -(-size // S3_MAX_PARTS))
        md5s: list[bytes] = []
        full = hashlib.sha256()
        total = 0
        while chunk := f.read(part_size):
            total += len(chunk)
            md5s.append(hashlib.md5(chunk).digest())  # noqa: S324
            if settings.checksum == "sha256":
                full.update(chunk)
    sha = base64.b64encode(full.digest()).decode() if settings.checksum == "sha256" else None
    return multipart_etag(md5s), sha, total


def _verdict(etag: str, md5_hex: str, echoed: str | None, checksum: str, *, kms: bool) -> tuple[bool, str | None]:
    if echoed is not None and echoed != checksum:
        return False, f"S3 returned checksum {echoed}, expected {checksum}"
    if etag == md5_hex:
        return True, None
    if kms and etag:  # SSE-KMS ETags are not MD5s; S3 itself checked Content-MD5 and the checksum header
        return True, None
    return False, f"ETag {etag!r} does not match the MD5 of the bytes sent ({md5_hex})"


def _not_started(item: UploadItem) -> UploadResult:
    return UploadResult(key=item.key, ok=False, error="not started: the run was stopped", retryable=True)


def _read_exactly(f: Any, n: int) -> bytes:
    chunks: list[bytes] = []
    got = 0
    while got < n:
        chunk = f.read(n - got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _wait_all(futures: Sequence[Future[Any]]) -> None:
    for fut in futures:
        with contextlib.suppress(BaseException):  # the caller aborts the whole upload anyway
            fut.result()


_MMAP_SET = False


def _mmap_big_buffers() -> None:
    """mallopt(M_MMAP_THRESHOLD, 1 MiB) on glibc (fixes the threshold glibc otherwise raises after frees)."""
    global _MMAP_SET
    if _MMAP_SET:
        return
    _MMAP_SET = True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 1024 * 1024)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass  # not glibc: nothing to do


def iter_tree(root: Path, *, prefix: str = "") -> Iterator[UploadItem]:
    """Every regular file under `root` (streamed, no symlinks followed) as an UploadItem keyed prefix + relpath.

    A helper for the benchmark CLI and for quick scripts; the migration engine builds its items from
    `migrate.scan` and the job's key template instead.
    """
    root = Path(root)
    stack = [root]
    base = len(str(root)) + 1
    while stack:
        d = stack.pop()
        with os.scandir(d) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    stack.append(Path(e.path))
                elif e.is_file(follow_symlinks=False):
                    st = e.stat(follow_symlinks=False)
                    rel = e.path[base:].replace(os.sep, "/")
                    yield UploadItem(
                        key=prefix + rel,
                        path=Path(e.path),
                        size=st.st_size,
                        mtime_ns=st.st_mtime_ns,
                        content_type="",
                    )
