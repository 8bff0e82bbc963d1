"""An account set up by hand, the way console guides do it: discover reproduces what it can, reports
the rest with advice, and writes an import block for every declared resource that exists."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import yaml

from cargohold_core.config import declared_resources
from tests.discover.conftest import pointed
from toolkit.demo.emulator import Emulator
from toolkit.discover.read import Remark, discover
from toolkit.discover.write import imports_for, load_discovered, render_fragment

EMPTY = """\
version: 1
project: shop
environments:
  test: {region: us-east-1, account: "123456789012", endpoint: ENDPOINT}
"""

BUCKET = "shop-product-images"


def build_by_hand(endpoint: str) -> None:
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    # "Uncheck Block all public access", "ACLs enabled", then the public-read policy from the guide.
    s3.put_bucket_ownership_controls(Bucket=BUCKET, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    s3.delete_public_access_block(Bucket=BUCKET)
    public = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicReadGetObject",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/*",
            }
        ],
    }
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(public))
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1")
    iam.create_user(UserName="shop-backend")
    iam.attach_user_policy(UserName="shop-backend", PolicyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess")
    # A second user whose inline policy says exactly "read and write the bucket": expressible as a grant.
    iam.create_user(UserName="shop-worker")
    inline = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": f"arn:aws:s3:::{BUCKET}/*"}
        ],
    }
    iam.put_user_policy(UserName="shop-worker", PolicyName="bucket-access", PolicyDocument=json.dumps(inline))
    ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    ddb.create_table(
        TableName="shop-orders",
        KeySchema=[{"AttributeName": "orderId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "orderId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )  # PITR off, deletion protection off: the console's defaults


def test_a_console_built_account(tmp_path: Path, account: Emulator) -> None:
    build_by_hand(account.endpoint)
    project, env = pointed(EMPTY, tmp_path / "config.yaml", account.endpoint, "test")
    found = discover(project, env)
    discovered = load_discovered(project, found)

    bucket = found.buckets["shop-product-images"]
    assert bucket.spec["name"] == BUCKET and bucket.spec["versioning"] is False
    assert "public_read_prefix" not in bucket.spec  # the whole bucket is public: not a prefix
    table = found.tables["shop-orders"].spec
    assert (table["point_in_time_recovery"], table["deletion_protection"]) == (False, False)
    assert discovered.tables["shop-orders"].spec.point_in_time_recovery is False

    by: dict[tuple[str, str], list[Remark]] = {(r.category, r.name): [] for r in found.remarks}
    for r in found.remarks:
        by[(r.category, r.name)].append(r)
    unexpressed = " ".join(r.message for r in by[("could-not-express", BUCKET)])
    assert "readable by anyone" in unexpressed and "PublicReadGetObject" in unexpressed
    hardening = " ".join(r.message for r in by[("hardening", BUCKET)])
    for expected in ("ObjectWriter", "no public access block", "DenyInsecureTransport", "DenyOutdatedTls"):
        assert expected in hardening
    full_access = by[("could-not-express", "shop-backend")]
    assert "AmazonS3FullAccess" in full_access[0].message
    assert "aws iam detach-user-policy --user-name shop-backend" in str(full_access[0].advice)

    # The full-access user has no grant cargohold can write: a comment, no config, no imports.
    assert found.principals["shop-backend"].omitted
    assert "shop-backend" not in discovered.principals
    # The inline policy became a grant; the report says to remove the old policy after the apply.
    worker = discovered.principals["shop-worker"]
    assert [g.model_dump(exclude_defaults=True) for g in worker.spec.grants] == [
        {"bucket": "shop-product-images", "actions": ["read", "write"]}
    ]
    assert any("delete-user-policy" in str(r.advice) for r in by[("change", "shop-worker")])

    fragment = render_fragment(found)
    assert "  # LEFT OUT:" in fragment and "  # shop-backend:" in fragment
    assert "AmazonS3FullAccess" in fragment
    assert yaml.safe_load(fragment)["buckets"]["shop-product-images"]["name"] == BUCKET

    blocks = {b.address: b.id for b in imports_for(discovered, found)}
    declared = {r.address for r in declared_resources(discovered)}
    assert set(blocks) <= declared
    key = 'module.buckets["shop-product-images"]'
    assert blocks[f"{key}.aws_s3_bucket.this"] == BUCKET
    assert blocks[f"{key}.aws_s3_bucket_policy.this[0]"] == BUCKET
    assert blocks[f"{key}.aws_s3_bucket_ownership_controls.this"] == BUCKET
    assert f"{key}.aws_s3_bucket_public_access_block.this" not in blocks  # deleted by hand: created on apply
    assert blocks['module.tables["shop-orders"].aws_dynamodb_table.this'] == "shop-orders"
    assert blocks['module.principals["shop-worker"].aws_iam_user.this[0]'] == "shop-worker"
    # The user has no cargohold group or policy yet: those are created, not imported; and every declared
    # resource is either imported or reported as created.
    created = {r.message.split(" ")[0] for r in found.remarks if "does not exist yet" in r.message}
    assert "aws_iam_group.this[0]" in created and "aws_iam_policy.this" in created
    for address in declared - set(blocks):
        assert address.split("].", 1)[1] in created


def test_an_autoscaled_table(tmp_path: Path, account: Emulator) -> None:
    ddb = boto3.client("dynamodb", endpoint_url=account.endpoint, region_name="us-east-1")
    ddb.create_table(
        TableName="shop-carts",
        KeySchema=[{"AttributeName": "cartId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "cartId", "AttributeType": "S"}],
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 4, "WriteCapacityUnits": 2},
    )
    aas = boto3.client("application-autoscaling", endpoint_url=account.endpoint, region_name="us-east-1")
    for dim, low, high in (("Read", 4, 40), ("Write", 2, 20)):
        dimension = f"dynamodb:table:{dim}CapacityUnits"
        aas.register_scalable_target(
            ServiceNamespace="dynamodb",
            ResourceId="table/shop-carts",
            ScalableDimension=dimension,
            MinCapacity=low,
            MaxCapacity=high,
        )
        aas.put_scaling_policy(
            PolicyName=f"DynamoDB{dim}CapacityUtilization:table/shop-carts",
            ServiceNamespace="dynamodb",
            ResourceId="table/shop-carts",
            ScalableDimension=dimension,
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": 60.0,
                "PredefinedMetricSpecification": {"PredefinedMetricType": f"DynamoDB{dim}CapacityUtilization"},
            },
        )
    project, env = pointed(EMPTY, tmp_path / "config.yaml", account.endpoint, "test")
    found = discover(project, env)
    spec = found.tables["shop-carts"].spec
    assert spec["billing"] == "provisioned" and spec["capacity"] == {"read": 4, "write": 2}
    assert spec["autoscaling"] == {
        "min_read": 4,
        "max_read": 40,
        "min_write": 2,
        "max_write": 20,
        "target_utilization": 60,
    }
    discovered = load_discovered(project, found)
    blocks = {b.address.split("].", 1)[1]: b.id for b in imports_for(discovered, found)}
    assert blocks == {
        "aws_dynamodb_table.this": "shop-carts",
        "aws_appautoscaling_target.read[0]": "dynamodb/table/shop-carts/dynamodb:table:ReadCapacityUnits",
        "aws_appautoscaling_target.write[0]": "dynamodb/table/shop-carts/dynamodb:table:WriteCapacityUnits",
        "aws_appautoscaling_policy.read[0]": "dynamodb/table/shop-carts/dynamodb:table:ReadCapacityUnits/"
        "DynamoDBReadCapacityUtilization:table/shop-carts",
        "aws_appautoscaling_policy.write[0]": "dynamodb/table/shop-carts/dynamodb:table:WriteCapacityUnits/"
        "DynamoDBWriteCapacityUtilization:table/shop-carts",
    }


VENDOR = "arn:aws:iam::210987654321:root"
EXTERNAL_ID = {"StringEquals": {"sts:ExternalId": "vendor-issued-id"}}


def test_a_vendor_role_with_an_external_id(tmp_path: Path, account: Emulator) -> None:
    """The console's "Another AWS account" role with "Require external ID": the condition becomes
    assume_role_external_id. Trusts config.yaml cannot say with one id are left out and reported."""
    s3 = boto3.client("s3", endpoint_url=account.endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    iam = boto3.client("iam", endpoint_url=account.endpoint, region_name="us-east-1")
    own = "arn:aws:iam::123456789012:role/ci"
    trusts = {
        # as the console writes it: a bare string principal, no Sid
        "shop-vendor": [
            {"Effect": "Allow", "Principal": {"AWS": VENDOR}, "Action": "sts:AssumeRole", "Condition": EXTERNAL_ID}
        ],
        # one principal trusted with the id, another without: one assume_role_external_id cannot say it
        "shop-mixed": [
            {"Effect": "Allow", "Principal": {"AWS": VENDOR}, "Action": "sts:AssumeRole", "Condition": EXTERNAL_ID},
            {"Effect": "Allow", "Principal": {"AWS": own}, "Action": "sts:AssumeRole"},
        ],
        # another condition beside the id: not written (as before)
        "shop-org": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": VENDOR},
                "Action": "sts:AssumeRole",
                "Condition": {**EXTERNAL_ID, "Bool": {"aws:MultiFactorAuthPresent": "true"}},
            }
        ],
    }
    read = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": f"arn:aws:s3:::{BUCKET}/*"}],
    }
    for name, statements in trusts.items():
        document = {"Version": "2012-10-17", "Statement": statements}
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(document))
        iam.put_role_policy(RoleName=name, PolicyName="bucket-access", PolicyDocument=json.dumps(read))
    project, env = pointed(EMPTY, tmp_path / "config.yaml", account.endpoint, "test")
    found = discover(project, env)
    unexpressed = {r.name: r.message for r in found.remarks if r.category == "could-not-express"}

    vendor = found.principals["shop-vendor"].spec
    assert (vendor["assume_role_arns"], vendor["assume_role_external_id"]) == ([VENDOR], "vendor-issued-id")
    assert "shop-vendor" not in unexpressed
    discovered = load_discovered(project, found)  # the written config loads, and renders the condition back
    assert discovered.principals["shop-vendor"].spec.assume_role_external_id == "vendor-issued-id"

    mixed = found.principals["shop-mixed"].spec
    assert mixed["assume_role_arns"] == [own] and "assume_role_external_id" not in mixed
    assert VENDOR in unexpressed["shop-mixed"] and "beside principals trusted without one" in unexpressed["shop-mixed"]
    assert found.principals["shop-org"].omitted and "conditions" in unexpressed["shop-org"]
    assert "vendor-issued-id" not in " ".join(r.message + str(r.advice) for r in found.remarks)
