"""Upload a directory tree with the AWS Common Runtime's S3 client (awscrt.s3.S3Client): the peer the
request-layer benchmark runs beside cargohold's uploader (bench/request_layer.py). Not a user command.

    python bench/crt_upload.py SRC --bucket B --prefix P --endpoint http://127.0.0.1:PORT [--concurrency 32]

Credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; path-style requests to the endpoint. Each
PUT carries a CRC32 checksum the client computes (its cheapest integrity option; cargohold's uploader
sends Content-MD5 and SHA-256). Exit 0 when every file was stored, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from pathlib import Path
from urllib.parse import quote, urlsplit

from awscrt import http, s3  # type: ignore[import-not-found]  # installed by bench/request_layer.py


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("src", type=Path)
    ap.add_argument("--bucket", required=True)
    ap.add_argument("--prefix", default="")
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--concurrency", type=int, default=32)
    a = ap.parse_args()
    host = urlsplit(a.endpoint).netloc
    key, secret = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
    credentials = s3.AwsCredentialsProvider.new_static(key, secret)
    client = s3.S3Client(
        region=a.region,
        credential_provider=credentials,
        tls_mode=s3.S3RequestTlsMode.DISABLED,
        max_active_connections_override=a.concurrency,
    )
    checksum = s3.S3ChecksumConfig(algorithm=s3.S3ChecksumAlgorithm.CRC32, location=s3.S3ChecksumLocation.HEADER)
    slots = threading.Semaphore(a.concurrency * 2)  # bounded in flight, as the uploader's queue is
    failed: list[str] = []
    pending: list[s3.S3Request] = []
    for path in sorted(p for p in a.src.rglob("*") if p.is_file()):
        key = f"{a.prefix}/{path.relative_to(a.src).as_posix()}".lstrip("/")
        headers = http.HttpHeaders(
            [("Host", host), ("Content-Length", str(path.stat().st_size)), ("Content-Type", "application/octet-stream")]
        )
        request = http.HttpRequest("PUT", f"/{a.bucket}/{quote(key, safe='/~')}", headers)
        slots.acquire()

        def done(error: BaseException | None = None, status_code: int | None = None, k: str = key, **_: object) -> None:
            if error is not None or (status_code or 0) >= 300:
                failed.append(f"{k}: {error or status_code}")
            slots.release()

        pending.append(
            client.make_request(
                type=s3.S3RequestType.PUT_OBJECT,
                request=request,
                send_filepath=str(path),
                checksum_config=checksum,
                on_done=done,
            )
        )
    for r in pending:
        r.finished_future.exception()  # waits; a failure was recorded by on_done
    for line in failed[:5]:
        print(f"failed: {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
