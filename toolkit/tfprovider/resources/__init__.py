"""Every resource type the emulator provider implements, by Terraform type name."""

from __future__ import annotations

from toolkit.tfprovider.resources import autoscaling, dynamodb, iam, s3
from toolkit.tfprovider.resources.base import Handler

HANDLERS: dict[str, Handler] = {
    h.type_name: h for h in (*s3.HANDLERS, *dynamodb.HANDLERS, *autoscaling.HANDLERS, *iam.HANDLERS)
}
