"""Fixtures for the row-store tests: one `Backend` per real database (see rowstore_backends.py).

`backend` runs a test against SQLite (a file in tmp_path), PostgreSQL, MariaDB and DynamoDB (moto);
`sql_backend` against the three SQL databases; `dynamo_backend` against DynamoDB only. A database
that cannot be reached makes its tests skip with the reason (PostgreSQL first tries a throwaway
cluster).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import sqlalchemy as sa
from botocore.config import Config
from rowstore_backends import (
    ALL_BACKENDS,
    DEFAULT_MYSQL,
    DEFAULT_POSTGRES,
    SQL_BACKENDS,
    Backend,
    answers,
    throwaway_postgres,
)

from toolkit.emulator import Emulator


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    wanted = os.environ.get("CARGOHOLD_TEST_POSTGRES_URL", "").strip()
    reasons: list[str] = []
    if wanted != "throwaway":
        url = wanted or DEFAULT_POSTGRES
        why = answers(url)
        if why is None:
            yield url
            return
        reasons.append(f"{sa.make_url(url).render_as_string(hide_password=True)}: {why}")
    cluster, why_not = throwaway_postgres()
    if cluster is None:
        reasons.append(f"throwaway cluster: {why_not}")
        pytest.skip("no PostgreSQL for the row-store tests: " + "; ".join(reasons))
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def mysql_url() -> str:
    url = os.environ.get("CARGOHOLD_TEST_MYSQL_URL", "").strip() or DEFAULT_MYSQL
    why = answers(url)
    if why is not None:
        pytest.skip(
            f"no MariaDB/MySQL for the row-store tests at {sa.make_url(url).render_as_string(hide_password=True)}"
            f" ({why}); set CARGOHOLD_TEST_MYSQL_URL"
        )
    return url


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
