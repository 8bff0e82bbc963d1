"""An emulated account per test: one moto server for the module, reset before each test.

The audit reads the whole account (every bucket, table and IAM principal), so tests cannot share
state the way the other AWS tests do with unique names.
"""

from __future__ import annotations

from pathlib import Path

from cargohold_core.config import load_project
from cargohold_core.config.model import Environment, Project
from tests.support.moto_api import account, account_server  # noqa: F401 - this folder's fixtures
from tests.support.proxied import proxied, proxied_server  # noqa: F401 - this folder's fixtures

HARDENED = """\
version: 1
project: hard
environments:
  test: {region: us-east-1, account: "123456789012", endpoint: ENDPOINT}
buckets:
  docs:
    versioning: true
    cors:
      - {allowed_origins: ["https://app.example.com"], allowed_methods: [GET, PUT]}
    lifecycle:
      - {id: tidy, noncurrent_expiration_days: 90, abort_incomplete_multipart_days: 7}
    access_logging: {target_bucket: logs, target_prefix: docs/}
  logs:
    lifecycle:
      - {id: expire, expiration_days: 365, noncurrent_expiration_days: 30, abort_incomplete_multipart_days: 1}
tables:
  users:
    hash_key: {name: userId}
    ttl_attribute: expiresAt
    global_indexes:
      - {name: by-email, hash_key: {name: email}, projection: KEYS_ONLY}
principals:
  app:
    kind: user
    grants:
      - {bucket: docs, actions: [read, write, list]}
      - {table: users, actions: [read, write]}
  worker:
    kind: role
    assume_role_services: [ecs-tasks.amazonaws.com]
    grants:
      - {bucket: docs, prefix: uploads/, actions: [write]}
"""


def load(path: Path, endpoint: str, text: str = HARDENED) -> tuple[Project, Environment]:
    path.write_text(text.replace("ENDPOINT", endpoint), encoding="utf-8")
    project = load_project(path)
    return project, project.environment("test")
