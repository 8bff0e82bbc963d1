"""Fixtures for the cost tests: the `cost` command on a fresh click group, unique project names."""

from __future__ import annotations

import functools
import itertools
import os

import click
import pytest

from toolkit.cli import command_options
from toolkit.cost.cli import register
from toolkit.report import REPORT_FORMATS

_COUNTER = itertools.count()


@pytest.fixture
def cost_cli() -> click.Group:
    """A fresh group with only `cost` registered, as toolkit.cli registers the report commands."""

    @click.group()
    def group() -> None:
        pass

    register(group, functools.partial(command_options, formats=REPORT_FORMATS))
    return group


@pytest.fixture
def project_name() -> str:
    return f"c{os.getpid() % 10000}x{next(_COUNTER)}"
