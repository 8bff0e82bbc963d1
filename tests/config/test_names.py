"""The AWS naming rules in cargohold_core.config.names, at their boundaries."""

from __future__ import annotations

import pytest

from cargohold_core.config import names


@pytest.mark.parametrize(
    "name",
    ["abc", "a" * 63, "my-bucket", "my.bucket", "1bucket", "bucket1", "a-b.c-d", "123", "xn-abc", "abc-s3",
     "192.168.1", "s3alias-abc"],
)
def test_valid_bucket_names(name: str) -> None:
    assert names.check_bucket(name) == []


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("ab", "is 2 characters long; bucket names must be 3-63"),
        ("a" * 64, "is 64 characters long; bucket names must be 3-63"),
        ("", "is 0 characters long"),
        ("Abc", "contains 'A'"),
        ("a_bc", "contains '_'"),
        ("a bc", "contains ' '"),
        ("10.0.0.1", "must not be formatted as an IP address"),
        ("a..b", "must not contain two adjacent periods"),
        ("a.-b", "must not have a period next to a hyphen"),
        ("a-.b", "must not have a period next to a hyphen"),
        ("-abc", "must begin and end with a lowercase letter or digit"),
        ("abc-", "must begin and end with a lowercase letter or digit"),
        (".abc", "must begin and end with a lowercase letter or digit"),
        ("abc.", "must begin and end with a lowercase letter or digit"),
        ("xn--abc", "reserved prefix 'xn--'"),
        ("sthree-abc", "reserved prefix 'sthree-'"),
        ("amzn-s3-demo-abc", "reserved prefix 'amzn-s3-demo-'"),
        ("abc-s3alias", "reserved suffix '-s3alias'"),
        ("abc--ol-s3", "reserved suffix '--ol-s3'"),
        ("abc.mrap", "reserved suffix '.mrap'"),
        ("abc--x-s3", "reserved suffix '--x-s3'"),
        ("abc--table-s3", "reserved suffix '--table-s3'"),
    ],
)
def test_invalid_bucket_names(name: str, reason: str) -> None:
    reasons = names.check_bucket(name)
    assert any(reason in r for r in reasons), reasons


def test_bucket_name_reports_every_reason_at_once() -> None:
    reasons = names.check_bucket("-My_Bucket..")
    assert len(reasons) == 3
    assert any("'M'" in r and "'B'" in r and "'_'" in r for r in reasons)
    assert any("begin and end" in r for r in reasons)
    assert any("two adjacent periods" in r for r in reasons)


@pytest.mark.parametrize("name", ["a" * 3, "a" * 255, "My_Table.v1-x", "123"])
def test_valid_table_names(name: str) -> None:
    assert names.check_table(name) == []


@pytest.mark.parametrize(
    ("name", "reason"),
    [("ab", "is 2 characters long; table names must be 3-255"), ("a" * 256, "is 256 characters long"),
     ("my table", "only letters, digits"), ("t:able", "only letters"), ("täble", "only letters")],
)
def test_invalid_table_names(name: str, reason: str) -> None:
    assert any(reason in r for r in names.check_table(name))


def test_index_names_follow_table_rules_with_their_own_wording() -> None:
    assert names.check_index("abc") == []
    [reason] = names.check_index("ab")
    assert "index names must be 3-255" in reason


@pytest.mark.parametrize("name", ["a", "a" * 64, "App+=,.@_-1"])
@pytest.mark.parametrize("kind", ["user", "role"])
def test_valid_iam_names(name: str, kind: str) -> None:
    assert names.check_iam(name, kind=kind) == []


@pytest.mark.parametrize(
    ("name", "reason"),
    [("", "is 0 characters long"), ("a" * 65, "is 65 characters long; IAM role names must be 1-64"),
     ("my app", "only letters, digits and '+=,.@_-'"), ("a/b", "only letters"), ("a:b", "only letters"),
     ("a*", "only letters")],
)
def test_invalid_iam_names(name: str, reason: str) -> None:
    assert any(reason in r for r in names.check_iam(name, kind="role"))


def test_iam_max_length_is_a_parameter() -> None:
    assert names.check_iam("a" * 128, kind="group", max_length=128) == []
    assert names.check_iam("a" * 129, kind="group", max_length=128) != []


@pytest.mark.parametrize("path", ["/", "/apps/", "/a/b/c/", "/" + "a" * 510 + "/"])
def test_valid_iam_paths(path: str) -> None:
    assert names.check_iam_path(path) == []


@pytest.mark.parametrize("path", ["", "apps", "/apps", "apps/", "//x", "/a b/", "/ä/", "/" + "a" * 511 + "/"])
def test_invalid_iam_paths(path: str) -> None:
    [reason] = names.check_iam_path(path)
    assert "must start and end with '/'" in reason


def test_template_fields_and_render() -> None:
    assert names.template_fields(names.DEFAULT_TEMPLATE) == ["project", "env", "name"]
    assert names.template_fields("{name}-{account}-{region}") == ["name", "account", "region"]
    assert names.render("{name}.{region}.{account}", project="p", env="e", name="n", account="1", region="r") == (
        "n.r.1"
    )
    with pytest.raises(ValueError):
        names.template_fields("{name")
    with pytest.raises(ValueError):
        names.template_fields("name}")


def test_iam_path_with_empty_segment_is_refused() -> None:
    assert names.check_iam_path("//") != []
