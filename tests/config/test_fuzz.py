"""Property: no edit of a valid config makes the loader or `cargohold validate` crash.

Either the edited file loads, or it raises ConfigError whose every problem is located in the file
and says something; the CLI exits 0 or 1 and never prints a traceback.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cargohold_core.config import load_project
from cargohold_core.errors import ConfigError
from toolkit.cli import main

REPO = Path(__file__).resolve().parents[2]
BASE_TEXT = (REPO / "config.yaml").read_text(encoding="utf-8")
BASE_DATA = yaml.safe_load(BASE_TEXT)
BASE_LINES = BASE_TEXT.splitlines(keepends=True)

FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["", "*", "/", "us-east-1", "sse-kms", "provisioned", "role", "read", "{name}", "123456789012",
                     "GLACIER", "http://x", "yes", "no", "~", "0x1f", "1e3", "2024-01-01"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((*prefix, key))
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.append((*prefix, index))
            out.extend(_paths(value, (*prefix, index)))
    return out


PATHS = _paths(BASE_DATA)
KEY_PATHS = [p for p in PATHS if isinstance(p[-1], str)]


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


@st.composite
def data_edits(draw: st.DrawFn) -> str:
    """Delete, replace or rename one key/value of the parsed config, then write it back as YAML."""
    data = copy.deepcopy(BASE_DATA)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _parent(data, path)
        op = draw(st.sampled_from(["delete", "replace", "rename"] if isinstance(path[-1], str) else
                                  ["delete", "replace"]))
        if op == "delete":
            del parent[path[-1]]
        elif op == "replace":
            parent[path[-1]] = draw(values)
        else:
            new_key = draw(st.one_of(st.text(min_size=1, max_size=10), st.sampled_from(
                ["versioning", "name", "hash_key", "bucket", "table", "overrides", "region", "prefix"])))
            parent[new_key] = parent.pop(path[-1])
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@st.composite
def text_edits(draw: st.DrawFn) -> str:
    """Edit the text itself: truncate, insert characters, duplicate a line, re-indent, delete a line."""
    lines = list(BASE_LINES)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        text = "".join(lines)
        op = draw(st.sampled_from(["truncate", "insert", "duplicate", "indent", "delete-line", "swap"]))
        if op == "truncate":
            text = text[: draw(st.integers(min_value=0, max_value=len(text)))]
            lines = text.splitlines(keepends=True)
            continue
        if not lines:
            break
        index = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        if op == "insert":
            offset = draw(st.integers(min_value=0, max_value=len(lines[index])))
            chars = draw(st.text(alphabet=st.sampled_from(list(":-{}[]'\"#&*!|>%@`,? \t\n\\ab1é\x00\ufeff")),
                                 min_size=1, max_size=4))
            lines[index] = lines[index][:offset] + chars + lines[index][offset:]
        elif op == "duplicate":
            lines.insert(index, lines[index])
        elif op == "indent":
            delta = draw(st.sampled_from([-4, -2, -1, 1, 2, 4]))
            line = lines[index]
            lines[index] = " " * delta + line if delta > 0 else line[min(-delta, len(line) - len(line.lstrip(" "))):]
        elif op == "delete-line":
            del lines[index]
        else:
            other = draw(st.integers(min_value=0, max_value=len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
    return "".join(lines)


@pytest.fixture(scope="module")
def fuzz_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "config.yaml"


def _check(text: str, path: Path, *, json_too: bool = False) -> None:
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    line_count = text.count("\n") + 2
    try:
        load_project(path)
        loaded = True
    except ConfigError as exc:
        loaded = False
        assert exc.problems
        for problem in exc.problems:
            assert problem.file == str(path)
            assert problem.message.strip()
            assert 0 <= problem.line <= line_count, problem.render()
    result = CliRunner().invoke(main, ["validate", "--config", str(path)], catch_exceptions=False)
    assert result.exit_code == (0 if loaded else 1), result.output
    assert "Traceback" not in result.output
    if json_too:
        json_result = CliRunner().invoke(main, ["validate", "-c", str(path), "--format", "json"],
                                         catch_exceptions=False)
        assert json_result.exit_code == result.exit_code
        assert "Traceback" not in json_result.output


@FUZZ
@given(text=data_edits())
def test_data_edits_never_crash(text: str, fuzz_file: Path) -> None:
    _check(text, fuzz_file)


@FUZZ
@given(text=text_edits())
def test_text_edits_never_crash(text: str, fuzz_file: Path) -> None:
    _check(text, fuzz_file)


@pytest.mark.parametrize("path", KEY_PATHS[:: max(1, len(KEY_PATHS) // 30)], ids=lambda p: ".".join(map(str, p)))
def test_deleting_any_key_never_crashes(path: tuple[Any, ...], fuzz_file: Path) -> None:
    data = copy.deepcopy(BASE_DATA)
    del _parent(data, path)[path[-1]]
    _check(yaml.safe_dump(data, sort_keys=False), fuzz_file, json_too=True)


SHALLOW = [p for p in PATHS if len(p) <= 5]


@pytest.mark.parametrize("value", [None, 7, "x", [1], {"a": 1}], ids=repr)
@pytest.mark.parametrize("path", SHALLOW[:: max(1, len(SHALLOW) // 18)], ids=lambda p: ".".join(map(str, p)))
def test_replacing_any_value_never_crashes(path: tuple[Any, ...], value: Any, fuzz_file: Path) -> None:
    data = copy.deepcopy(BASE_DATA)
    _parent(data, path)[path[-1]] = value
    _check(yaml.safe_dump(data, sort_keys=False), fuzz_file)


def test_the_unedited_config_loads(fuzz_file: Path) -> None:
    # the base of every edit is valid, so the properties above are about the edits
    _check(BASE_TEXT, fuzz_file)
    load_project(fuzz_file)
