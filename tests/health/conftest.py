"""The health tests' fixtures live in health_support.py, beside the helpers the tests import; a module
named `conftest` cannot be imported by name when several test folders have one."""

from health_support import cors_moto, deploy, enforce_iam, iam_moto, rclone  # noqa: F401
