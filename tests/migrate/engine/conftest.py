from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from engine_support import Setup, make_app_db, make_bucket, make_tree

from toolkit.demo.emulator import Emulator


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
