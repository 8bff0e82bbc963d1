"""The five example systems as scenarios: one emulated account for the module (with AWS managed policies,
so AmazonS3FullAccess exists), reset to empty before each test; and PostgreSQL for the generations app.
"""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from tests.support.moto_api import account, account_server  # noqa: F401 - this folder's fixtures

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


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
