"""botocore's own S3 signer at a fixed timestamp: the reference the lean signer is compared with."""

from __future__ import annotations

import datetime

import botocore.auth
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


class FixedTimeS3Auth(S3SigV4Auth):
    def __init__(self, credentials: Credentials, region: str, amz_date: str) -> None:
        super().__init__(credentials, "s3", region)
        self._amz_date = amz_date

    def add_auth(self, request: AWSRequest) -> None:
        module = botocore.auth
        real = module.get_current_datetime
        module.get_current_datetime = lambda: datetime.datetime.strptime(self._amz_date, "%Y%m%dT%H%M%SZ")
        try:
            super().add_auth(request)
        finally:
            module.get_current_datetime = real
