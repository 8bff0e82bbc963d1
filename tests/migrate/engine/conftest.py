from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from engine_support import make_app_db, make_bucket, make_store, make_tree, make_uploader

from migrate.journal import Journal
from toolkit.emulator import Emulator


@dataclass
class Setup:
    source: Path
    db: Path
    journal_url: str
    bucket: str
    endpoint: str
    relpaths: list[str]
    job: str

    def journal(self, **kwargs: Any) -> Journal:
        return Journal.open(self.journal_url, self.job, **kwargs)

    def store(self) -> Any:
        return make_store(self.db)

    def uploader(self, concurrency: int = 8) -> Any:
        return make_uploader(bucket=self.bucket, endpoint=self.endpoint, concurrency=concurrency)


@pytest.fixture
def setup(tmp_path: Path, moto: Emulator) -> Setup:
    source = tmp_path / "uploads"
    source.mkdir()
    relpaths = make_tree(source, count=40)
    db = tmp_path / "app.db"
    make_app_db(db, relpaths)
    bucket = f"engine-{uuid.uuid4().hex[:12]}"
    make_bucket(moto.endpoint, bucket, versioned=True)
    return Setup(
        source=source,
        db=db,
        journal_url=f"sqlite:///{tmp_path / 'journal' / 'job.sqlite'}",
        bucket=bucket,
        endpoint=moto.endpoint,
        relpaths=relpaths,
        job="attachments",
    )
