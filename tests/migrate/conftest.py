"""Fixtures shared by the migrate tests: the real SQL servers (see db/rowstore_backends.py for where
they come from). A server that cannot be reached makes the tests that ask for it skip with the reason.

- `postgres_url` (session): PostgreSQL, or a throwaway cluster started for the session.
- `mysql_url` (session): MariaDB/MySQL.
- `proxied_server`, `proxied`: an HTTPS endpoint only a loopback proxy reaches (tests/support/proxied.py).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent / "db"))

from rowstore_backends import DEFAULT_MYSQL, DEFAULT_POSTGRES, answers, throwaway_postgres

from tests.support.proxied import proxied, proxied_server  # noqa: F401 - this folder's fixtures


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
        pytest.skip("no PostgreSQL for the database tests: " + "; ".join(reasons))
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
            f"no MariaDB/MySQL for the database tests at {sa.make_url(url).render_as_string(hide_password=True)}"
            f" ({why}); set CARGOHOLD_TEST_MYSQL_URL"
        )
    return url
