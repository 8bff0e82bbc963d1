"""The credentials tests' fixtures live in credentials_support.py, beside the helpers the tests import."""

from credentials_support import deploy, enforce_iam, keys_moto  # noqa: F401
