from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from support.upload_helpers import FAST_RETRIES

from migrate.upload import TransferSettings, Uploader
from toolkit.demo.emulator import Emulator


@pytest.fixture
def s3(moto: Emulator) -> Any:
    return boto3.client(
        "s3", endpoint_url=moto.endpoint, region_name="us-east-1", config=Config(s3={"addressing_style": "path"})
    )


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"up-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def make_uploader(moto: Emulator, bucket: str) -> Iterator[Callable[..., Uploader]]:
    made: list[Uploader] = []

    def make(*, endpoint: str | None = None, settings: TransferSettings | None = None, **kw: Any) -> Uploader:
        up = Uploader(
            bucket=kw.pop("bucket", bucket),
            region="us-east-1",
            endpoint=endpoint or moto.endpoint,
            session=boto3.Session(),
            settings=settings or TransferSettings(concurrency=8, **FAST_RETRIES),
            **kw,
        )
        made.append(up)
        return up

    yield make
    for up in made:
        up.close()
