"""Inputs that once crashed the loader or came back without a line: deep nesting, bytes that are not
UTF-8, characters YAML does not allow. Each is one located problem, through the library and the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from cargohold_core.config import load_project
from cargohold_core.config.yamlsource import MAX_DEPTH
from cargohold_core.errors import ConfigError, Problem
from toolkit.cli import main

HEAD = """\
version: 1
project: demo
environments:
  dev: {region: us-east-1, account: '111111111111'}
"""


def only_problem(path: Path) -> Problem:
    with pytest.raises(ConfigError) as caught:
        load_project(path)
    [problem] = caught.value.problems
    return problem


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "config.yaml"
    path.write_bytes(data)
    return path


DEEP = {
    "flow": HEAD + "migrations:\n  m: " + "[" * 500 + "]" * 500 + "\n",
    "block": HEAD + "migrations:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(500)),
    # each alias one level deeper than the last: shallow in the text, 200 deep once built
    "aliases": HEAD + "x:\n  a0: &a0 [1]\n" + "".join(f"  a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 200)),
}


@pytest.mark.parametrize("text", DEEP.values(), ids=DEEP.keys())
@pytest.mark.parametrize("command", [["validate"], ["render", "--env", "dev"], ["preview", "--env", "dev"]])
def test_deep_nesting_is_one_located_problem_not_a_traceback(tmp_path: Path, text: str, command: list[str]) -> None:
    path = _write(tmp_path, text.encode())
    problem = only_problem(path)
    assert f"more than {MAX_DEPTH} levels deep" in problem.message
    assert problem.line > 4 and problem.column >= 1  # in the nested part, below the header
    assert problem.hint
    for fmt in ("text", "json"):
        result = CliRunner().invoke(main, [*command, "-c", str(path), "--format", fmt], catch_exceptions=False)
        assert result.exit_code == 1
        assert "Traceback" not in result.output
        if fmt == "json":
            [reported] = json.loads(result.stdout)["error"]["problems"]
            assert reported["line"] == problem.line


def test_nesting_at_the_limit_still_loads(write_config: Callable[..., Path]) -> None:
    # migrations are free-form: a value whose key path is MAX_DEPTH long is accepted, one deeper is not
    levels = MAX_DEPTH - 1  # the innermost list's path: migrations, m, then one index per enclosing list
    ok = HEAD + "migrations:\n  m: " + "[" * levels + "]" * levels + "\n"
    load_project(write_config(ok))
    too_deep = HEAD + "migrations:\n  m: " + "[" * (levels + 1) + "]" * (levels + 1) + "\n"
    assert "levels deep" in only_problem(write_config(too_deep)).message


def test_invalid_utf8_is_located_at_its_line_and_column(tmp_path: Path) -> None:
    data = (HEAD + 'buckets:\n  photos: {description: "caf').encode() + b'\xe9"}\n'  # Latin-1 e-acute
    problem = only_problem(_write(tmp_path, data))
    assert (problem.line, problem.column) == (6, 29)
    assert "0xe9" in problem.message and "UTF-8" in problem.message
    assert "save the file as UTF-8" in (problem.hint or "")


def test_a_utf8_character_before_the_bad_byte_counts_as_one_column(tmp_path: Path) -> None:
    data = "project: dé".encode() + b"\xff\n"
    problem = only_problem(_write(tmp_path, data))
    assert (problem.line, problem.column) == (1, 12)


def test_utf16_is_named(tmp_path: Path) -> None:
    problem = only_problem(_write(tmp_path, HEAD.encode("utf-16")))
    assert problem.line == 1 and "UTF-16" in problem.message


@pytest.mark.parametrize(("char", "named"), [("\x00", "NUL character (U+0000)"), ("\x07", "U+0007")])
def test_a_character_yaml_refuses_is_located(tmp_path: Path, char: str, named: str) -> None:
    text = HEAD + "buckets:\n  photos:\n    description: ab" + char + "c\n"
    problem = only_problem(_write(tmp_path, text.encode()))
    assert (problem.line, problem.column) == (7, 20)
    assert named in problem.message
    assert problem.hint


def test_line_numbers_count_line_breaks_as_yaml_does(tmp_path: Path) -> None:
    # a lone CR is a line break to YAML (and to its marks), so it is to us too
    text = "version: 1\rproject: demo\r\nx: a\x00\n"
    problem = only_problem(_write(tmp_path, text.encode()))
    assert (problem.line, problem.column) == (3, 5)
