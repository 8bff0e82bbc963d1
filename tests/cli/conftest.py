from tests.support.moto_api import account, account_server  # noqa: F401 - this folder's fixtures
