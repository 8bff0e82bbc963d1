"""The scanner (real files on disk) and the key rules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from migrate.keys import (
    FILTERS,
    TemplateError,
    compile_template,
    key_problems,
    path_fields,
    relative_path,
    render_key,
)
from migrate.scan import ScanStats, matches, scan


def tree(root: Path, paths: list[str]) -> None:
    for relpath in paths:
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(relpath.encode())


@pytest.mark.parametrize(
    ("relpath", "pattern", "expected"),
    [
        ("a.jpg", "**/*.jpg", True),
        ("x/y/a.jpg", "**/*.jpg", True),
        ("x/a.png", "**/*.jpg", False),
        ("a", "*", True),
        ("x/a", "*", False),
        ("x/a", "x/*", True),
        ("x/y/a", "x/*", False),
        ("x/y/a", "x/**", True),
        ("a1.txt", "a?.txt", True),
        ("a/.txt", "a?.txt", False),
        ("b.txt", "[ab].txt", True),
        ("c.txt", "[!ab].txt", True),
        ("a.txt", "[!ab].txt", False),
        ("we ird#1+.txt", "we ird#1+.*", True),
    ],
)
def test_glob_matching(relpath: str, pattern: str, expected: bool) -> None:
    assert matches(relpath, [pattern]) is expected


def test_scan_streams_selected_files_in_a_stable_order(tmp_path: Path) -> None:
    tree(tmp_path, ["b/2.jpg", "a/1.jpg", "a/skip.tmp", "c/ü ñ #?+.jpg", "top.jpg", "a/deep/3.jpg"])
    (tmp_path / "empty.jpg").write_bytes(b"")
    stats = ScanStats()
    found = list(scan(tmp_path, include=["**/*.jpg"], exclude=["**/deep/**"], stats=stats))
    assert sorted(f.relpath for f in found) == ["a/1.jpg", "b/2.jpg", "c/ü ñ #?+.jpg", "empty.jpg", "top.jpg"]
    assert [f.relpath for f in scan(tmp_path, include=["**/*.jpg"], exclude=["**/deep/**"])] == [
        f.relpath for f in found
    ]  # the same order every time (resumable runs rely on it)
    assert {f.relpath: f.size for f in found}["empty.jpg"] == 0
    assert stats.files == 5 and stats.excluded == 2
    assert stats.bytes == sum(f.size for f in found)
    assert all(f.mtime_ns == (tmp_path / f.relpath).stat().st_mtime_ns for f in found)


def test_symlinks_are_skipped_unless_followed_and_loops_are_entered_once(tmp_path: Path) -> None:
    tree(tmp_path, ["real/a.txt"])
    os.symlink(tmp_path / "real" / "a.txt", tmp_path / "link.txt")
    os.symlink(tmp_path / "real", tmp_path / "real" / "loop")  # a directory loop
    stats = ScanStats()
    assert [f.relpath for f in scan(tmp_path, stats=stats)] == ["real/a.txt"]
    assert stats.symlinks_skipped == 2
    followed = [f.relpath for f in scan(tmp_path, follow_symlinks=True)]
    assert "link.txt" in followed and "real/a.txt" in followed
    assert len(followed) == len(set(followed)) <= 3


def test_unreadable_directory_is_reported_not_fatal(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every directory; the permission case cannot be made here")
    tree(tmp_path, ["ok/a", "locked/b"])
    (tmp_path / "locked").chmod(0)
    stats = ScanStats()
    try:
        assert [f.relpath for f in scan(tmp_path, stats=stats)] == ["ok/a"]
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert stats.unreadable


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("photo.jpg", "photo.jpg"),
        ("./sub/a b.jpg", "sub/a b.jpg"),
        ("uploads\\win\\x.png", "uploads/win/x.png"),
        ("/srv/app/uploads/x/y.png", "x/y.png"),
        ("/var/www/legacy/z.pdf", "z.pdf"),
        ("/etc/passwd", None),
        ("../outside.txt", None),
        ("a/../../x", None),
        ("", None),
        ("  ", None),
    ],
)
def test_relative_path(stored: str, expected: str | None) -> None:
    assert relative_path(stored, source_dir="/srv/app/uploads", path_base="/var/www/legacy") == expected


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("uploads/a.jpg", "a.jpg"),
        ("./uploads/x/b c.jpg", "x/b c.jpg"),
        ("other/a.jpg", None),
        ("/srv/app/uploads/d.png", "d.png"),
    ],
)
def test_paths_relative_to_the_app_root(stored: str, expected: str | None) -> None:
    assert relative_path(stored, source_dir="/srv/app/uploads", relative_to="/srv/app") == expected


def test_key_template_from_path_parts_and_row_columns() -> None:
    assert path_fields("a/b/c.tar.gz") == {
        "path": "a/b/c.tar.gz",
        "dir": "a/b",
        "parent": "b",
        "filename": "c.tar.gz",
        "stem": "c.tar",
        "ext": "gz",
    }
    key = render_key(
        "{user_id}/{course_id}/{unit}/{filename}",
        relpath="x/n #1.pdf",
        columns={"user_id": 7, "course_id": "c1", "unit": "u 2"},
    )
    assert key == "7/c1/u 2/n #1.pdf"
    assert render_key("{dir}/{filename}", relpath="top.txt", columns={}) == "top.txt"  # no "//", no leading "/"
    with pytest.raises(TemplateError, match="user"):
        render_key("{user}/{filename}", relpath="a", columns={"user_id": 1})


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "empty"),
        ("k" * 1025, "1025 bytes"),
        ("é" * 513, "1026 bytes"),
        ("a/\x07b", "control"),
        ("a/../b", "'..'"),
        ("./a", "'.'"),
    ],
)
def test_invalid_keys(key: str, problem: str) -> None:
    assert any(problem in p for p in key_problems(key))


def test_valid_keys_have_no_problems() -> None:
    assert key_problems("u/ü ñ #?+=&.pdf") == []
    assert key_problems("k" * 1024) == []


# ---------------------------------------------------------------- filters


@pytest.mark.parametrize(
    ("template", "relpath", "expected"),
    [
        ("{filename|clean}", "a\tb\nc\x7fd\x00.txt", "a_b_c_d_.txt"),
        ("{path|nfc}", "cafe\u0301/x", "caf\u00e9/x"),  # macOS-style decomposed name, composed
        ("{path|nfkc}", "\ufb01le\u2460.txt", "file1.txt"),  # the "fi" ligature, a circled 1
        ("{filename|ascii}", "ünïcødé Straße.txt", "unicode Strasse.txt"),
        ("{filename|ascii}", "日本語.txt", ".txt"),  # nothing to spell: dropped
        ("{path|slug}", "My Docs/Photo (1).JPG", "my-docs/photo-1.jpg"),
        ("{path|lower}", "A/B.TXT", "a/b.txt"),
        ("{path|upper}", "a/b.txt", "A/B.TXT"),
        ("{stem|strip}.{ext}", " a b .txt", "a b.txt"),
    ],
)
def test_each_filter(template: str, relpath: str, expected: str) -> None:
    assert render_key(template, relpath=relpath, columns={}) == expected


def test_every_filter_is_documented() -> None:
    assert all(f.__doc__ and "\n" not in f.__doc__.strip() for f in FILTERS.values())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Ünïcødé Files/Résumé – final!!.PDF", "unicode-files/resume-final.pdf"),
        ("a - b/--x--/y", "a-b/x/y"),
        ("a//b", "a/_/b"),  # every segment named
        ("!!!/.../..", "_/.../_"),  # nothing left -> "_"; "..." is a name, ".." is not
        ("-.-/. .", "_/_"),  # "." and ".." never come out
        (".env", ".env"),
        ("日本/写真.jpg", "_/.jpg"),
        ("", ""),  # an empty {dir} stays empty (and collapses)
    ],
)
def test_slug_edge_cases(value: str, expected: str) -> None:
    assert FILTERS["slug"](value) == expected


def test_filters_chain_left_to_right() -> None:
    assert render_key("{path|ascii|slug}", relpath="Ünï/Ça Va.txt", columns={}) == "uni/ca-va.txt"
    assert render_key("{name|strip|upper}-{filename}", relpath="x.txt", columns={"name": " ab "}) == "AB-x.txt"
    assert render_key("{name|upper|lower}", relpath="x", columns={"name": "Ab"}) == "ab"
    # spaces around the names are allowed; columns that are not text are filtered as their text
    assert render_key("{ user_id | clean }/{ n|upper }", relpath="x", columns={"user_id": 7, "n": True}) == "7/TRUE"


def test_conversions_and_format_specs_still_apply() -> None:
    assert render_key("{n:05d}/{filename}", relpath="a", columns={"n": 42}) == "00042/a"
    assert render_key("{name|upper:>4}", relpath="a", columns={"name": "ab"}) == "  AB"
    assert render_key("{name|lower!r}", relpath="a", columns={"name": "AB"}) == "'ab'"
    assert render_key("{{literal}}/{path}", relpath="a", columns={}) == "{literal}/a"


@pytest.mark.parametrize("name", ["tab\there.txt", "new\nline.txt", "del\x7f.txt", "bell\x07.txt"])
def test_clean_makes_control_characters_valid(name: str) -> None:
    assert key_problems(render_key("{path}", relpath=f"d/{name}", columns={}))  # refused as it is
    key = render_key("{path|clean}", relpath=f"d/{name}", columns={})
    assert key_problems(key) == [] and key.startswith("d/") and "_" in key


def test_unicode_normalisation_makes_two_spellings_one_key() -> None:
    composed, decomposed = "caf\u00e9.txt", "cafe\u0301.txt"
    assert composed != decomposed
    for name in ("nfc", "nfkc"):
        keys = {render_key(f"{{path|{name}}}", relpath=spelling, columns={}) for spelling in (composed, decomposed)}
        assert keys == {composed}


def test_unknown_filter_is_refused_at_compile_time_with_the_filters_listed() -> None:
    with pytest.raises(TemplateError, match=r"unknown filter 'slgu'.*did you mean 'slug'") as caught:
        compile_template("{user_id}/{path|slgu}")
    assert caught.value.hint is not None and all(name in caught.value.hint for name in FILTERS)
    with pytest.raises(TemplateError, match="unknown filter 'zzz' in"):
        compile_template("{path|zzz}")


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{path", "cannot be parsed"),
        ("path}", "cannot be parsed"),
        ("{}", "has no name"),
        ("{|slug}", "has no name"),
        ("{0}", "has no name"),
        ("{path|}", "unknown filter ''"),
        ("{path!x}", "unknown conversion"),
        ("{path:{width}}", "inside its format spec"),
    ],
)
def test_malformed_templates_are_refused(template: str, problem: str) -> None:
    with pytest.raises(TemplateError, match=problem):
        compile_template(template)


def test_a_compiled_template_names_its_fields_and_renders_per_row() -> None:
    template = compile_template("{user_id|slug}/{created.year}/{user_id}-{filename|clean}")
    assert template.fields == ("user_id", "created", "filename")

    class Created:
        year = 2024

    key = template.render(relpath="x/a\tb.jpg", columns={"user_id": "Ann B", "created": Created()})
    assert key == "ann-b/2024/Ann B-a_b.jpg"
    with pytest.raises(TemplateError, match="NULL"):  # "None" in a key is never what was meant
        template.render(relpath="a.jpg", columns={"user_id": None, "created": Created()})
