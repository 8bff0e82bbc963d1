"""Property: no edit of a valid config makes the loader or `cargohold validate` crash.

Either the edited file loads, or it raises ConfigError whose every problem is located in the file (at a
line that exists in it) and says something; the CLI exits 0 or 1 and never prints a traceback.

About 1,200 edited configs per run: edits of the parsed data, of the text (including deep nesting), and
of the bytes (NUL and other control characters, bytes that are not UTF-8, other encodings, a cut in
the middle of a character). Each case is validated in-process through the library (a few ms); one in
eight also goes through the CLI, text and JSON, so the whole module stays well under a minute.
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cargohold_core.config import load_project
from cargohold_core.config.yamlsource import MAX_DEPTH, line_column
from cargohold_core.errors import ConfigError
from toolkit.cli import main

REPO = Path(__file__).resolve().parents[2]
BASE_TEXT = (REPO / "config.yaml").read_text(encoding="utf-8")
BASE_DATA = yaml.safe_load(BASE_TEXT)
BASE_LINES = BASE_TEXT.splitlines(keepends=True)
# every shipped config is a base to edit: more shapes, and the smaller ones are cheaper to check
BASES = [BASE_TEXT] + [p.read_text(encoding="utf-8") for p in sorted((REPO / "examples").glob("*/config.yaml"))]
# libyaml's emitter where it is there: writing the edited data back is then not the slow part
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

FUZZ = settings(
    max_examples=400,
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
    return yaml.dump(data, Dumper=DUMPER, sort_keys=False, allow_unicode=True)


@st.composite
def text_edits(draw: st.DrawFn) -> str:
    """Edit the text itself: truncate, insert characters, duplicate a line, re-indent, delete a line, nest."""
    lines = draw(st.sampled_from(BASES)).splitlines(keepends=True)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        text = "".join(lines)
        op = draw(st.sampled_from(["truncate", "insert", "duplicate", "indent", "delete-line", "swap", "nest"]))
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
        elif op == "nest":  # a value nested around the depth limit, in flow or block style, or through aliases
            depth = draw(st.sampled_from([MAX_DEPTH - 3, MAX_DEPTH, MAX_DEPTH + 1, 120, 600]))
            style = draw(st.sampled_from(["flow", "block", "aliases"]))
            indent = lines[index][: len(lines[index]) - len(lines[index].lstrip(" "))]
            if style == "flow":
                nested = f"{indent}deep: " + "[" * depth + "]" * depth + "\n"
            elif style == "block":
                nested = f"{indent}deep:\n" + "".join(f"{indent}{'  ' * (i + 1)}k{i}:\n" for i in range(depth))
            else:
                aliases = (f"{indent}a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, depth))
                nested = f"{indent}a0: &a0 [1]\n" + "".join(aliases)
            lines.insert(index, nested)
        else:
            other = draw(st.integers(min_value=0, max_value=len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
    return "".join(lines)


BAD_BYTES = [b"\x00", b"\x01", b"\x07", b"\x1b", b"\x7f", b"\xff", b"\xfe", b"\xc3", b"\xe9", b"\x80",
             b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc2\x85", b"\xe2\x80\xa8", b"\r", b"\xef\xbb\xbf"]


@st.composite
def byte_edits(draw: st.DrawFn) -> bytes:
    """Edit the bytes: insert NUL, control characters or bytes that are not UTF-8 anywhere, re-encode the
    whole file (Latin-1 with an accent in it, UTF-16), or cut it in the middle of a multi-byte character."""
    data = draw(st.sampled_from(BASES)).replace("description: ", "description: café ", 1).encode("utf-8")
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        op = draw(st.sampled_from(["insert", "insert", "reencode", "cut", "replace-byte"]))
        if op == "reencode":
            codec = draw(st.sampled_from(["latin-1", "utf-16", "utf-16-le", "cp1252"]))
            data = data.decode("utf-8", errors="replace").encode(codec, errors="replace")
            continue
        offset = draw(st.integers(min_value=0, max_value=len(data)))
        if op == "insert":
            data = data[:offset] + draw(st.sampled_from(BAD_BYTES)) + data[offset:]
        elif op == "cut":
            accent = data.find("é".encode())
            data = data[: accent + 1] if accent >= 0 and draw(st.booleans()) else data[:offset]
        elif offset < len(data):
            data = data[:offset] + bytes([draw(st.integers(min_value=0, max_value=255))]) + data[offset + 1 :]
    return data


@pytest.fixture(scope="module")
def fuzz_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "config.yaml"


def _lines(data: bytes) -> int:
    """How many lines the file has, counted as the loader (and PyYAML) count them."""
    text = data.decode("utf-8", errors="replace")
    return line_column(text, len(text))[0]


def _check(text: str | bytes, path: Path, *, json_too: bool = False, cli: bool | None = None) -> None:
    data = text if isinstance(text, bytes) else text.encode("utf-8", errors="surrogatepass")
    path.write_bytes(data)
    line_count = _lines(data)
    try:
        load_project(path)
        loaded = True
    except ConfigError as exc:
        loaded = False
        assert exc.problems
        for problem in exc.problems:
            assert problem.file == str(path)
            assert problem.message.strip()
            # every problem in a file that exists has a line, and one the file has
            assert 1 <= problem.line <= line_count + 1, problem.render()
            assert problem.column >= 1, problem.render()
    if cli is None:  # a fixed one in eight of the generated cases also runs through the CLI
        cli = hashlib.sha256(data).digest()[0] % 8 == 0
        json_too = cli
    if not cli:
        return
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


@settings(FUZZ, max_examples=300)
@given(data=byte_edits())
def test_byte_edits_never_crash_and_are_located(data: bytes, fuzz_file: Path) -> None:
    _check(data, fuzz_file)


@pytest.mark.parametrize("path", KEY_PATHS[:: max(1, len(KEY_PATHS) // 30)], ids=lambda p: ".".join(map(str, p)))
def test_deleting_any_key_never_crashes(path: tuple[Any, ...], fuzz_file: Path) -> None:
    data = copy.deepcopy(BASE_DATA)
    del _parent(data, path)[path[-1]]
    _check(yaml.safe_dump(data, sort_keys=False), fuzz_file, json_too=True, cli=True)


SHALLOW = [p for p in PATHS if len(p) <= 5]


@pytest.mark.parametrize("value", [None, 7, "x", [1], {"a": 1}], ids=repr)
@pytest.mark.parametrize("path", SHALLOW[:: max(1, len(SHALLOW) // 18)], ids=lambda p: ".".join(map(str, p)))
def test_replacing_any_value_never_crashes(path: tuple[Any, ...], value: Any, fuzz_file: Path) -> None:
    data = copy.deepcopy(BASE_DATA)
    _parent(data, path)[path[-1]] = value
    _check(yaml.safe_dump(data, sort_keys=False), fuzz_file, cli=True)


def test_the_unedited_config_loads(fuzz_file: Path) -> None:
    # the base of every edit is valid, so the properties above are about the edits
    for base in BASES:
        _check(base, fuzz_file, cli=True)
        load_project(fuzz_file)
