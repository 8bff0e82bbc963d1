"""Fixtures for the row-store tests: one `Backend` per real database (see rowstore_backends.py).

`backend` runs a test against SQLite (a file in tmp_path), PostgreSQL, MariaDB and DynamoDB (moto);
`sql_backend` against the three SQL databases; `dynamo_backend` against DynamoDB only. A database
that cannot be reached makes its tests skip with the reason (PostgreSQL first tries a throwaway
cluster). The servers' fixtures, `postgres_url` and `mysql_url`, are in tests/migrate/conftest.py
(the engine tests use them too).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import sqlalchemy as sa
from botocore.config import Config
from rowstore_backends import ALL_BACKENDS, SQL_BACKENDS, Backend

from toolkit.demo.emulator import Emulator

# ---------------------------------------------------------------------------------- backends


def _make_backend(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if name == "sqlite":
        url = f"sqlite:///{tmp_path / 'app.db'}"
    elif name == "postgresql":
        url = request.getfixturevalue("postgres_url")
    elif name == "mariadb":
        url = request.getfixturevalue("mysql_url")
    else:
        emulator: Emulator = request.getfixturevalue("moto")
        client = boto3.client(
            "dynamodb",
            endpoint_url=emulator.endpoint,
            region_name="us-east-1",
            config=Config(retries={"mode": "standard", "max_attempts": 2}),
        )
        return Backend(name=name, client=client)
    return Backend(name=name, url=url, admin=sa.create_engine(url))


@pytest.fixture(params=ALL_BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    made = _make_backend(request.param, request, tmp_path)
    try:
        yield made
    finally:
        made.drop_all()


@pytest.fixture(params=SQL_BACKENDS)
def sql_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    made = _make_backend(request.param, request, tmp_path)
    try:
        yield made
    finally:
        made.drop_all()


@pytest.fixture
def dynamo_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    made = _make_backend("dynamodb", request, tmp_path)
    try:
        yield made
    finally:
        made.drop_all()
