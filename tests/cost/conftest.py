"""Fixtures for the cost tests: the `cost` command on a fresh click group, unique project names, and
`account` (a fresh emulated account) for tests that see everything the account holds."""

from __future__ import annotations

import itertools
import os

import click
import pytest

from tests.support.moto_api import account, account_server  # noqa: F401 - a fresh account, for tests that read all of it
from toolkit.cost.cli import cost

_COUNTER = itertools.count()


@pytest.fixture
def cost_cli() -> click.Group:
    """A fresh group with only `cost` in it, as toolkit.cli adds it."""

    @click.group()
    def group() -> None:
        pass

    group.add_command(cost)
    return group


@pytest.fixture
def project_name() -> str:
    return f"c{os.getpid() % 10000}x{next(_COUNTER)}"
