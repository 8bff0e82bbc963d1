"""The five example systems as scenarios: one emulated account for the module (with AWS managed policies,
so AmazonS3FullAccess exists), reset to empty before each test; and PostgreSQL for the generations app.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from toolkit.emulator import Emulator, moto_server

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="module")
def account_server() -> Iterator[Emulator]:
    with moto_server(extra_env={"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}) as emulator:
        yield emulator


@pytest.fixture
def account(account_server: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """A fresh, empty emulated account."""
    request = urllib.request.Request(f"{account_server.endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=30).close()
    for name, value in account_server.client_env().items():
        monkeypatch.setenv(name, value)
    return account_server


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A PostgreSQL database that answers (CARGOHOLD_TEST_POSTGRES_URL, else the local default), or a skip."""
    url = os.environ.get("CARGOHOLD_TEST_POSTGRES_URL", "").strip() or DEFAULT_POSTGRES
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3}, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:
        shown = sa.make_url(url).render_as_string(hide_password=True)
        pytest.skip(f"no PostgreSQL at {shown} ({type(exc).__name__}); set CARGOHOLD_TEST_POSTGRES_URL")
    finally:
        engine.dispose()
    return url
