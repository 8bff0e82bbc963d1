"""One default per setting, stated once: in the schema (cargohold_core/config/schema.py).

The toolkit writes every field into terraform.tfvars.json, so what a config that says nothing gets is
the schema's default. The stack's `optional(type, default)` fields, each module's variable defaults and
the Default column of each module README are for Terraform run by hand; this test reads all three and
fails where any of them would give something else than the schema.

The schema's defaults are taken from the renderer's output for a config that sets as little as it can
(so the mapping from schema fields to Terraform names is the renderer's, written once).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cargohold_core.config import load_project, tfvars

REPO = Path(__file__).resolve().parents[2]
TERRAFORM = REPO / "terraform"

# Every optional part present (so its own defaults are compared too), each with as little as the
# schema and the rules allow.
MINIMAL = """\
version: 1
project: demo
environments:
  dev: {region: us-east-1, account: "111111111111"}
buckets:
  b:
    lifecycle: [{id: r, expiration_days: 5, transitions: [{days: 1, storage_class: GLACIER}],
                 noncurrent_transitions: [{days: 1, storage_class: GLACIER}]}]
    cors: [{allowed_origins: ["*"], allowed_methods: [GET]}]
    access_logging: {target_bucket: elsewhere-logs}
    replication: {destination_bucket_arn: "arn:aws:s3:::elsewhere"}
    object_lock: {mode: GOVERNANCE, days: 1}
    intelligent_tiering: {archive_access_days: 90}
tables:
  t:
    hash_key: {name: id}
    range_key: {name: r}
    global_indexes: [{name: by-x, hash_key: {name: x}}]
    local_indexes: [{name: by-y, range_key: {name: y}}]
  p:
    hash_key: {name: id}
    billing: provisioned
    capacity: {read: 1, write: 1}
    autoscaling: {min_read: 1, max_read: 2, min_write: 1, max_write: 2}
principals:
  u:
    grants: [{bucket: b, actions: [read]}]
"""

# Optional Terraform fields the config above sets on purpose (their value is the config's, not a default).
SET = {
    "buckets.b.lifecycle_rules[].expiration_days",
    "buckets.b.intelligent_tiering.archive_access_days",
    "tables.p.billing_mode",
    "tables.p.read_capacity",
    "tables.p.write_capacity",
    "principals.u.grants[].bucket",
}
# Fields the toolkit resolves to the environment's value, where the stack's null means the same thing.
RESOLVED = {"buckets.b.region", "tables.t.region", "tables.p.region"}


# ---------------------------------------------------------------- a reader for HCL types and literals


def _strip_comments(text: str) -> str:
    out, i, in_string = [], 0, False
    while i < len(text):
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\":
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
            out.append(c)
        elif c == "#" or text.startswith("//", i):
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


_TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<number>-?\d+(?:\.\d+)?)'
    r"|(?P<name>[A-Za-z_][\w-]*)|(?P<punct>[(){}\[\],=:]))"
)


def _tokens(text: str) -> list[str]:
    tokens, pos = [], 0
    while pos < len(text.rstrip()):
        match = _TOKEN.match(text, pos)
        assert match, f"cannot read {text[pos : pos + 40]!r}"
        tokens.append(match.group(match.lastgroup or ""))
        pos = match.end()
    return tokens


class _Reader:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.tokens[self.pos]
        assert expected is None or token == expected, (token, expected, self.tokens[self.pos - 5 : self.pos + 5])
        self.pos += 1
        return token

    def type(self) -> Any:
        """("object", {field: (type, optional, default)}), ("list"|"map"|"set", type) or ("prim", name)."""
        name = self.take()
        if name in ("string", "number", "bool", "any"):
            return ("prim", name)
        self.take("(")
        if name == "object":
            self.take("{")
            fields = {}
            while self.peek() != "}":
                field = self.take()
                self.take("=")
                fields[field] = self.field()
                if self.peek() == ",":
                    self.take()
            self.take("}")
            self.take(")")
            return ("object", fields)
        inner = self.type()
        self.take(")")
        return (name, inner)

    def field(self) -> tuple[Any, bool, Any]:
        if self.peek() != "optional":
            return (self.type(), False, None)
        self.take("optional")
        self.take("(")
        inner = self.type()
        default = None
        if self.peek() == ",":
            self.take()
            default = self.literal()
        self.take(")")
        return (inner, True, default)

    def literal(self) -> Any:
        token = self.take()
        if token.startswith('"'):
            return token[1:-1].replace('\\"', '"')
        if re.fullmatch(r"-?\d+(\.\d+)?", token):
            return float(token) if "." in token else int(token)
        if token in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[token]
        if token == "[":
            items = []
            while self.peek() != "]":
                items.append(self.literal())
                if self.peek() == ",":
                    self.take()
            self.take("]")
            return items
        assert token == "{", token
        mapping = {}
        while self.peek() != "}":
            key = self.take().strip('"')
            self.take()  # = or :
            mapping[key] = self.literal()
            if self.peek() == ",":
                self.take()
        self.take("}")
        return mapping


def _close(text: str, start: int, opening: str = "{", closing: str = "}") -> int:
    """Index just past the bracket matching the one at `start` (strings skipped)."""
    depth, i, in_string = 0, start, False
    while i < len(text):
        c = text[i]
        if in_string:
            if c == "\\":
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "({[":
            depth += 1
        elif c in ")}]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise AssertionError("unbalanced brackets")


def _attribute(body: str, name: str) -> str | None:
    """The expression of a top-level `name = ...` in a block body (None when absent)."""
    depth, i = 0, 0
    for match in re.finditer(rf"(?m)^\s*{name}\s*=\s*", body):
        prefix = body[: match.start()]
        depth = sum(prefix.count(c) for c in "({[") - sum(prefix.count(c) for c in ")}]")
        if depth != 0:
            continue
        i = match.end()
        end = i
        while end < len(body) and body[end] != "\n":
            if body[end] in "({[":
                end = _close(body, end) - 1
            end += 1
        return body[i:end].strip()
    return None


def variables(path: Path) -> dict[str, tuple[Any, bool, Any]]:
    """Each variable of a .tf file: (type, has a default, the default)."""
    text = _strip_comments(path.read_text(encoding="utf-8"))
    found = {}
    for match in re.finditer(r'(?m)^variable\s+"(\w+)"\s*\{', text):
        body = text[match.end() : _close(text, match.end() - 1) - 1]
        type_text, default_text = _attribute(body, "type"), _attribute(body, "default")
        var_type = _Reader(type_text).type() if type_text else ("prim", "any")
        default = _Reader(default_text).literal() if default_text is not None else None
        found[match.group(1)] = (var_type, default_text is not None, default)
    return found


def with_defaults(var_type: Any, value: Any) -> Any:
    """`value` as Terraform sees it once the optional() defaults of `var_type` are applied."""
    kind = var_type[0]
    if value is None:
        return None
    if kind == "object":
        out = {}
        for field, (field_type, _optional, default) in var_type[1].items():
            out[field] = with_defaults(field_type, value.get(field, default))
        return out
    if kind in ("list", "set"):
        return [with_defaults(var_type[1], v) for v in value]
    if kind == "map":
        return {k: with_defaults(var_type[1], v) for k, v in value.items()}
    return value


def disagreements(var_type: Any, value: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    """(field path, Terraform's default, the schema's value) for each optional field of `var_type` whose
    default differs from what the toolkit writes in `value` (the parts the config sets are walked into)."""
    for field, (field_type, optional, default) in var_type[1].items():
        where, written = f"{path}.{field}", value.get(field)
        if isinstance(written, dict) and field_type[0] == "object":
            yield from disagreements(field_type, written, where)
        elif isinstance(written, list) and written and field_type[0] == "list" and field_type[1][0] == "object":
            for item in written:
                yield from disagreements(field_type[1], item, f"{where}[]")
        elif optional and where not in SET | RESOLVED:
            expected = with_defaults(field_type, default)
            if expected != written:
                yield (where, expected, written)


# ---------------------------------------------------------------- the schema's defaults, as rendered


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("defaults") / "config.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    return tfvars(load_project(path).environment("dev"))


STACK = variables(TERRAFORM / "stack" / "variables.tf")
KINDS = {"buckets": ["b"], "tables": ["t", "p"], "principals": ["u"]}


@pytest.mark.parametrize("kind", KINDS)
def test_stack_optional_defaults_are_the_schemas(rendered: dict[str, Any], kind: str) -> None:
    object_type = STACK[kind][0][1]  # map(object(...))
    found = [d for key in KINDS[kind] for d in disagreements(object_type, rendered[kind][key], f"{kind}.{key}")]
    assert not found, "terraform/stack/variables.tf optional() defaults differ from the schema's:\n" + "\n".join(
        f"  {where}: stack {tf!r}, schema {schema!r}" for where, tf, schema in found
    )


def _module_calls() -> Iterator[tuple[str, str, str, str]]:
    """(stack kind, module folder, module variable, stack field) for each `X = each.value.Y` in the stack."""
    text = _strip_comments((TERRAFORM / "stack" / "main.tf").read_text(encoding="utf-8"))
    for match in re.finditer(r'(?m)^module\s+"(\w+)"\s*\{', text):
        body = text[match.end() : _close(text, match.end() - 1) - 1]
        source = re.search(r'source\s*=\s*"\.\./modules/([\w-]+)"', body)
        if match.group(1) not in KINDS or source is None:
            continue
        for arg, field in re.findall(r"(?m)^\s*(\w+)\s*=\s*each\.value\.(\w+)\s*$", body):
            yield match.group(1), source.group(1), arg, field


MODULE_CALLS = list(_module_calls())


def test_the_module_calls_were_read() -> None:
    assert {(kind, module) for kind, module, _, _ in MODULE_CALLS} == {
        ("buckets", "s3-bucket"),
        ("tables", "dynamodb-table"),
        ("principals", "iam-principal"),
    }
    assert ("buckets", "s3-bucket", "deny_unencrypted_uploads", "deny_unencrypted_uploads") in MODULE_CALLS


@pytest.mark.parametrize("module", ["s3-bucket", "dynamodb-table", "iam-principal"])
def test_module_variable_defaults_are_the_schemas(rendered: dict[str, Any], module: str) -> None:
    module_vars = variables(TERRAFORM / "modules" / module / "variables.tf")
    found = []
    for kind, folder, arg, field in MODULE_CALLS:
        if folder != module:
            continue
        var_type, has_default, default = module_vars[arg]
        if not has_default:
            continue
        wrapper = ("object", {arg: (var_type, True, default)})
        for key in KINDS[kind]:
            found += disagreements(wrapper, {arg: rendered[kind][key][field]}, f"{kind}.{key}")
    assert not found, f"terraform/modules/{module}/variables.tf defaults differ from the schema's:\n" + "\n".join(
        f"  {where}: module {tf!r}, schema {schema!r}" for where, tf, schema in found
    )


def readme_defaults(module: str) -> dict[str, str]:
    """The Default column of the module README's Inputs table, by variable name."""
    text = (TERRAFORM / "modules" / module / "README.md").read_text(encoding="utf-8")
    inputs = text.split("## Inputs", 1)[1].split("\n## ", 1)[0]
    found = {}
    for row in inputs.splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        for name in re.findall(r"`(\w+)`", cells[0]):
            found[name] = cells[2]
    return found


@pytest.mark.parametrize("module", ["s3-bucket", "dynamodb-table", "iam-principal"])
def test_module_readme_defaults_are_the_modules(module: str) -> None:
    module_vars = variables(TERRAFORM / "modules" / module / "variables.tf")
    documented = readme_defaults(module)
    wrong = []
    for name, (var_type, has_default, default) in module_vars.items():
        cell = documented.get(name)
        if cell is None:
            wrong.append(f"  `{name}` is not in the Inputs table")
            continue
        if not has_default:
            if cell != "required":
                wrong.append(f"  `{name}`: README says {cell}, the variable is required")
            continue
        assert cell.startswith("`") and cell.endswith("`"), f"{module} README: `{name}` default {cell!r}"
        said = _Reader(cell.strip("`")).literal()
        actual = with_defaults(var_type, default)
        if isinstance(said, dict) and isinstance(actual, dict):
            differs = any(actual.get(k) != v for k, v in said.items())
        else:
            differs = said != actual
        if differs:
            wrong.append(f"  `{name}`: README says {cell}, the variable's default is {actual!r}")
    assert not wrong, f"terraform/modules/{module}/README.md Inputs disagree with variables.tf:\n" + "\n".join(wrong)


def test_the_reader_reads_what_it_must() -> None:
    # a guard on the test's own HCL reader: a nested optional object and its defaults
    reader = _Reader("object({a = optional(object({b = optional(bool, true), c = optional(string)}), {}), d = string})")
    var_type = reader.type()
    assert with_defaults(var_type, {"d": "x"}) == {"a": {"b": True, "c": None}, "d": "x"}
    assert STACK["buckets"][0][0] == "map"
