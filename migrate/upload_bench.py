"""Upload a directory tree with the cargohold Uploader: the benchmark's candidate command (not a user command).

    python -m migrate.upload_bench SRC --bucket B --prefix P [--endpoint URL] [--concurrency 32]

Credentials and region come from the environment (a boto3 Session); the endpoint from --endpoint, else
AWS_ENDPOINT_URL / S3_ENDPOINT_URL. Items are streamed from the tree (flat memory). Exit 0 when every file
was uploaded and verified, 1 otherwise; one summary line on stderr (with peak RSS).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

from migrate.types import UploadResult
from migrate.upload import MiB, TransferSettings, Uploader, iter_tree


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m migrate.upload_bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("src", type=Path)
    ap.add_argument("--bucket", required=True)
    ap.add_argument("--prefix", default="")
    ap.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("S3_ENDPOINT_URL"))
    ap.add_argument("--region", default=None)
    ap.add_argument("--concurrency", type=int, default=TransferSettings.concurrency)
    ap.add_argument("--part-size-mib", type=int, default=TransferSettings.part_size // MiB)
    ap.add_argument("--threshold-mib", type=int, default=TransferSettings.multipart_threshold // MiB)
    ap.add_argument("--part-concurrency", type=int, default=TransferSettings.part_concurrency)
    ap.add_argument("--buffer-mib", type=int, default=TransferSettings.max_buffer_bytes // MiB)
    ap.add_argument("--checksum", choices=["sha256", "crc32"], default="sha256")
    ap.add_argument("--boto3", action="store_true", help="send PUTs through boto3 (the fallback path)")
    a = ap.parse_args(argv)

    import boto3

    settings = TransferSettings(
        concurrency=a.concurrency,
        part_size=a.part_size_mib * MiB,
        multipart_threshold=a.threshold_mib * MiB,
        part_concurrency=a.part_concurrency,
        max_buffer_bytes=a.buffer_mib * MiB,
        checksum=a.checksum,
    )
    prefix = a.prefix.strip("/") + "/" if a.prefix.strip("/") else ""
    counts = {"ok": 0, "failed": 0, "bytes": 0}
    errors: list[str] = []

    def on_result(r: UploadResult) -> None:
        if r.ok:
            counts["ok"] += 1
            counts["bytes"] += r.size
        else:
            counts["failed"] += 1
            if len(errors) < 10:
                errors.append(f"{r.key}: {r.error}")

    t0 = time.monotonic()
    with Uploader(
        bucket=a.bucket,
        region=a.region,
        endpoint=a.endpoint,
        session=boto3.Session(),
        settings=settings,
        fast=not a.boto3,
    ) as up:
        up.upload_many(iter_tree(a.src, prefix=prefix), on_result=on_result)
    wall = time.monotonic() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for e in errors:
        print(f"error: {e}", file=sys.stderr)
    print(
        f"uploaded {counts['ok']} files ({counts['bytes'] / MiB:.1f} MiB), {counts['failed']} failed, "
        f"{wall:.2f}s, peak RSS {rss:.0f} MiB",
        file=sys.stderr,
    )
    return 0 if counts["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
