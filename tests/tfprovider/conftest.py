"""Handlers tested against a real moto server over HTTP (the same calls Terraform's apply makes)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from tests.support.moto_api import account, account_server  # noqa: F401 - this folder's fixtures
from toolkit.demo.emulator import Emulator
from toolkit.tfprovider.resources.base import Api


@pytest.fixture
def api(moto: Emulator) -> Api:
    endpoints = dict.fromkeys(("s3", "dynamodb", "iam", "sts", "applicationautoscaling", "kms"), moto.endpoint)
    return Api(region="us-east-1", endpoints=endpoints)


@pytest.fixture
def unique() -> Callable[[str], str]:
    """A name no other test on the shared server uses."""
    return lambda prefix: f"{prefix}-{uuid.uuid4().hex[:10]}"
