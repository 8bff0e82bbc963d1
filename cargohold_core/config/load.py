"""Load config.yaml: parse with locations, validate everything, resolve each environment.

Resources are validated once per environment after that environment's overrides are merged in, so
a mistake in an override is reported at the override's own line. Identical problems from several
environments collapse into one.

Every problem in one run: a resource (or environment) that fails the schema is validated again without
the fields that failed, and the cross-field rules run on what is left, beside the schema's errors. What
a rule would say about a field that did not parse is dropped (it would only be about the default that
stands in for it), so no problem is reported twice or as a follow-on of another.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cargohold_core.config import names, rules, yamlsource
from cargohold_core.config.diagnostics import did_you_mean, problems_from
from cargohold_core.config.model import (
    MANAGED_BY,
    Bucket,
    Environment,
    Principal,
    Project,
    StateBackend,
    Table,
    policy_document,
)
from cargohold_core.config.schema import _PROJECT_NAME, ENV_NAME, ConfigFile, EnvironmentSpec, Resources, StateSettings
from cargohold_core.config.yamlsource import Document, KeyPath, Location
from cargohold_core.errors import ConfigError, Problem

KINDS = ("buckets", "tables", "principals")


def load_project(path: Path) -> Project:
    """Load and validate a config file; raise ConfigError listing every problem found."""
    doc = yamlsource.load(path)
    project = resolve(doc)
    return Project(
        name=project[0].project,
        file=path,
        source=path.read_bytes(),
        config=project[0],
        environments=project[1],
    )


def resolve(doc: Document) -> tuple[ConfigFile, dict[str, Environment]]:
    if not isinstance(doc.data, dict):
        raise ConfigError(
            [
                doc.problem(
                    (),
                    "the file must be a mapping with `project:`, `environments:`, "
                    "`buckets:`, `tables:` and `principals:`",
                    "see config.yaml in the cargohold repository for a complete example",
                )
            ]
        )
    problems: list[Problem] = []
    try:
        config: ConfigFile | None = ConfigFile.model_validate(doc.data)
    except ValidationError as exc:
        problems.extend(problems_from(exc, doc=doc, model=ConfigFile))
        config = None
    problems.extend(_check_top(doc))

    environments: dict[str, Environment] = {}
    raw_envs = doc.data.get("environments")
    raw_envs = {k: v for k, v in raw_envs.items() if isinstance(v, dict)} if isinstance(raw_envs, dict) else {}
    per_env: dict[str, list[Problem]] = {}
    # Check the resources even when the top level is broken, so one run reports every mistake.
    for env_name, raw_env in raw_envs.items() or [(None, {})]:
        merged, merged_doc, merge_problems = _merged(doc, env=env_name)
        problems.extend(merge_problems)
        resources, resource_problems, partial = _validate_resources(merged, merged_doc)
        if env_name is None:
            problems.extend(resource_problems)
            continue
        # The environment's own settings, as far as they parsed (their errors are reported above).
        spec, env_partial = (config.environments[env_name], _Partial()) if config else _environment_spec(raw_env)
        settings = config or _fallback_top(doc.data)
        declared = {
            kind: set(merged.get(kind) or {}) if isinstance(merged.get(kind), dict) else set() for kind in KINDS
        }
        partial[("environments", env_name)] = env_partial
        env, env_problems = _environment(settings, env_name, spec, resources, merged_doc, declared, partial)
        if ENV_NAME.match(env_name):  # else names made from it repeat the one problem already reported
            per_env[env_name] = resource_problems + env_problems
        else:
            per_env[env_name] = resource_problems
        environments[env_name] = env
    problems.extend(_label_environments(per_env))
    if problems or config is None:
        raise ConfigError(problems)
    return config, environments


def _label_environments(per_env: dict[str, list[Problem]]) -> list[Problem]:
    """Problems found while checking each environment; one that only some environments have (an
    override caused it) says which, so a shared resource's line is not blamed for all of them."""
    seen_in: dict[Problem, list[str]] = {}
    for env_name, found in per_env.items():
        for problem in found:
            seen_in.setdefault(problem, []).append(env_name)
    labelled = []
    for problem, envs in seen_in.items():
        partial = len(envs) < len(per_env) and not problem.path.startswith("environments.")
        if partial and not any(f"'{e}'" in problem.message for e in envs):
            quoted = ", ".join(f"'{e}'" for e in envs)
            noun = "environment" if len(envs) == 1 else "environments"
            problem = dataclasses.replace(
                problem, message=f"{problem.message} (in {noun} {quoted}, with its overrides)"
            )
        labelled.append(problem)
    return labelled


@dataclasses.dataclass(frozen=True)
class _Partial:
    """What of a resource's (or environment's) own settings did not parse, so the rules run on the rest.

    `unknown` names its top-level fields whose value is not known: invalid (the schema reported it; the
    field is left at its default), or the field a misspelt key was probably meant to be. `rules` is False
    when what parsed is too little (a required field, or a field the others depend on, is unknown), and
    then only the name is checked. `raw` is what was written, for the name of a resource that did not parse.
    """

    unknown: frozenset[str] = frozenset()
    rules: bool = True
    raw: Any = None


# Fields whose value decides what the others mean: with one of them unknown, a rule about the others
# (capacity on an on-demand table, assume_role_* on a user) would only be about the default.
_PIVOTS = {"tables": {"billing"}, "principals": {"kind"}, "buckets": set[str]()}


def _salvage(
    validate: Callable[[dict[str, Any]], Any], raw: Any, exc: ValidationError, *, depth: int, known: list[str]
) -> tuple[Any, _Partial]:
    """Validate `raw` again without the top-level fields that failed (and without unknown keys); returns the
    result (None when even that fails) and what is not known. `depth` is where the field is in an error's loc."""
    if not isinstance(raw, dict):
        return None, _Partial(rules=False, raw=raw)
    dropped: set[str] = set()
    unknown: set[str] = set()
    for error in exc.errors():
        loc = error["loc"]
        if len(loc) <= depth:
            return None, _Partial(rules=False, raw=raw)
        field = str(loc[depth])
        dropped.add(field)
        if field in known:
            unknown.add(field)
        elif len(loc) == depth + 1 and error["type"] == "extra_forbidden":
            meant = did_you_mean(field, known)
            if meant and meant not in raw:
                unknown.add(meant)
    try:
        result = validate({k: v for k, v in raw.items() if k not in dropped})
    except ValidationError:
        return None, _Partial(unknown=frozenset(unknown), rules=False, raw=raw)
    return result, _Partial(unknown=frozenset(unknown), raw=raw)


def _validate_resources(
    merged: dict[str, Any], doc: Document
) -> tuple[Resources, list[Problem], dict[tuple[str, str], _Partial]]:
    """Validate each resource on its own, so one bad bucket does not hide another's problems.

    A resource that fails is validated again without its failing fields, so the rules still run on what
    parsed (see `_Partial`); one that cannot be is left out of the result (only its name is checked), and
    references to it are not reported again.
    """
    problems: list[Problem] = []
    valid: dict[str, dict[str, Any]] = {}
    partial: dict[tuple[str, str], _Partial] = {}
    for kind in KINDS:
        section = merged.get(kind, {})
        if not isinstance(section, dict):
            try:
                Resources.model_validate({kind: section})
            except ValidationError as exc:
                problems.extend(problems_from(exc, doc=doc, model=Resources))
            continue
        valid[kind] = {}
        model = Resources.model_fields[kind].annotation
        fields = list(typing.get_args(model)[1].model_fields)

        for key, raw in section.items():

            def validate(raw: Any, kind: str = kind, key: str = key) -> Any:
                return Resources.model_validate({kind: {key: raw}}).model_dump(exclude_unset=True)[kind][key]

            try:
                valid[kind][key] = validate(raw)
            except ValidationError as exc:
                problems.extend(problems_from(exc, doc=doc, model=Resources))
                result, found = _salvage(validate, raw, exc, depth=2, known=fields)
                rules = found.rules and result is not None and not (found.unknown & _PIVOTS[kind])
                partial[(kind, key)] = dataclasses.replace(found, rules=rules)
                if result is not None:
                    valid[kind][key] = result
    resources = Resources.model_validate(valid)
    return resources, problems, partial


def _environment_spec(raw: dict[str, Any]) -> tuple[EnvironmentSpec, _Partial]:
    """An environment's settings when the file as a whole did not validate: its own, if they parsed; else
    without the fields that failed; else a stand-in (`rules=False`: nothing is checked against it)."""
    try:
        return EnvironmentSpec.model_validate(raw), _Partial()
    except ValidationError as exc:
        result, found = _salvage(
            EnvironmentSpec.model_validate, raw, exc, depth=0, known=list(EnvironmentSpec.model_fields)
        )
    if result is None:
        return _fallback_spec(raw), dataclasses.replace(found, rules=False)
    return result, found


def _fallback_spec(raw: dict[str, Any]) -> EnvironmentSpec:
    """A stand-in for an environment whose own settings are invalid (already reported)."""
    region, account = raw.get("region"), raw.get("account")
    return EnvironmentSpec.model_construct(
        region=region if isinstance(region, str) else "us-east-1",
        account=account if isinstance(account, str) else "000000000000",
        state=StateSettings(),
        endpoint=None,
        tags={},
    )


def _fallback_top(raw: dict[str, Any]) -> ConfigFile:
    project = raw.get("project")
    if not isinstance(project, str) or not _PROJECT_NAME.match(project):
        project = "project"  # a stand-in: names made from an invalid project would repeat its one problem
    template = raw.get("name_template")
    if not isinstance(template, str) or not _template_ok(template):
        template = names.DEFAULT_TEMPLATE
    return ConfigFile.model_construct(project=project, name_template=template, tags={}, environments={})


def _template_ok(template: str) -> bool:
    fields = _safe_fields(template)
    return "name" in fields and not set(fields) - names.TEMPLATE_FIELDS


def _safe_fields(template: str) -> list[str]:
    try:
        return names.template_fields(template)
    except ValueError:
        return ["invalid"]


def _check_top(doc: Document) -> list[Problem]:
    problems = []
    template = doc.data.get("name_template")
    if isinstance(template, str):
        try:
            fields = names.template_fields(template)
        except ValueError as exc:
            fields = []
            problems.append(
                doc.problem(
                    ("name_template",),
                    f"malformed template: {exc}",
                    "write placeholders as {project}, {env}, {name}, {account}, {region}",
                )
            )
        unknown = [f for f in fields if f not in names.TEMPLATE_FIELDS]
        if unknown:
            problems.append(
                doc.problem(
                    ("name_template",),
                    f"unknown placeholder {{{unknown[0]}}}",
                    f"use only {', '.join('{' + f + '}' for f in sorted(names.TEMPLATE_FIELDS))}",
                )
            )
        if "name" not in fields:
            problems.append(
                doc.problem(
                    ("name_template",),
                    "the template must contain {name}",
                    "otherwise every resource gets the same name; default: {project}-{env}-{name}",
                )
            )
    environments = doc.data.get("environments")
    if isinstance(environments, dict):
        for env_name in environments:
            if not ENV_NAME.match(str(env_name)):
                problems.append(
                    doc.problem(
                        ("environments", env_name),
                        f"environment name '{env_name}' is not valid",
                        "use 1-16 lowercase letters, digits or '-', starting with a letter",
                    )
                )
    return problems


def _merged(doc: Document, *, env: str | None) -> tuple[dict[str, Any], Document, list[Problem]]:
    """The resource sections with `env`'s overrides deep-merged in, and where each value came from."""
    data = {kind: copy.deepcopy(doc.data.get(kind)) for kind in KINDS if doc.data.get(kind) is not None}
    locations = dict(doc.locations)
    problems: list[Problem] = []
    overrides: Any = None
    if env is not None:
        overrides = doc.data["environments"][env].get("overrides")
    # Malformed overrides are reported by the schema; here they are only skipped.
    for kind, entries in overrides.items() if isinstance(overrides, dict) else []:
        section = data.get(kind)
        if kind not in KINDS or not isinstance(entries, dict):
            continue
        base: dict[str, Any] = section if isinstance(section, dict) else {}
        for key, patch in entries.items():
            source: KeyPath = ("environments", str(env), "overrides", kind, key)
            if key not in base:
                guess = did_you_mean(key, base)
                problems.append(
                    doc.problem(
                        source,
                        f"override for unknown {kind[:-1]} '{key}'" + (f"; did you mean '{guess}'?" if guess else ""),
                        f"{kind} defined: {', '.join(base) or 'none'}",
                    )
                )
                continue
            if isinstance(base[key], dict) and isinstance(patch, dict):
                _deep_merge(base[key], patch, target=(kind, key), source=source, doc=doc, locations=locations)
    added = overrides.get("add") if isinstance(overrides, dict) else None
    for kind, entries in added.items() if isinstance(added, dict) else []:
        if kind not in KINDS or not isinstance(entries, dict):
            continue
        section = data.setdefault(kind, {})
        if not isinstance(section, dict):
            continue
        for key, definition in entries.items():
            source = ("environments", str(env), "overrides", "add", kind, key)
            if key in section:
                problems.append(
                    doc.problem(
                        source,
                        f"{kind[:-1]} '{key}' is already a shared {kind[:-1]}",
                        f"change it under `overrides: {{{kind}: {{{key}: ...}}}}`, or give the new one its own key",
                    )
                )
                continue
            # A resource of this environment alone: validated as a whole, its problems shown at these lines.
            section[key] = copy.deepcopy(definition)
            for path, loc in doc.locations.items():
                if path[: len(source)] == source:
                    locations[(kind, key, *path[len(source) :])] = loc
    return data, Document(doc.file, data, locations), problems


def _deep_merge(
    into: dict[str, Any],
    patch: dict[str, Any],
    *,
    target: KeyPath,
    source: KeyPath,
    doc: Document,
    locations: dict[KeyPath, Location],
) -> None:
    for key, value in patch.items():
        t_path, s_path = (*target, key), (*source, key)
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value, target=t_path, source=s_path, doc=doc, locations=locations)
            continue
        into[key] = copy.deepcopy(value)
        for path in [p for p in locations if p[: len(t_path)] == t_path]:
            del locations[path]
        for path, loc in doc.locations.items():
            if path[: len(s_path)] == s_path:
                locations[t_path + path[len(s_path) :]] = loc


def _environment(
    config: ConfigFile,
    env_name: str,
    spec: EnvironmentSpec,
    resources: Resources,
    doc: Document,
    declared: dict[str, set[str]],
    partial: dict[tuple[str, str], _Partial],
) -> tuple[Environment, list[Problem]]:
    checker = rules.Checker(doc)
    fields = {"project": config.project, "env": env_name, "account": spec.account, "region": spec.region}
    env_part = partial.get(("environments", env_name), _Partial())

    template_ok = _template_ok(config.name_template)

    def named(
        section: str,
        key: str,
        explicit: str | None,
        kind: str,
        check: Callable[[str], list[str]],
        region: str | None = None,
    ) -> str:
        """The resource's AWS name (explicit, else from the template: `{region}` is the resource's own),
        checked against AWS's rules."""
        if not explicit and not template_ok:
            return key  # the template itself was reported by _check_top
        where = {**fields, "region": region or spec.region}
        name = explicit or names.render(config.name_template, name=key, **where)
        if "name" in partial.get((section, key), _Partial()).unknown:
            return name  # the `name:` written did not parse (reported); the template's would be beside the point
        rules.check_name(
            checker, (section, key), name=name, kind=kind, reasons=check(name), env=env_name, explicit=bool(explicit)
        )
        return name

    def rules_of(section: str, key: str) -> contextlib.AbstractContextManager[None]:
        """Rules run on a resource as far as it parsed: none where too little did, and none about the parts
        that did not (nor at the resource itself, where a rule weighs several parts)."""
        found = partial.get((section, key))
        if found is None:
            return contextlib.nullcontext()
        if not found.rules:
            return checker.muted(trees=[(section, key)])
        return checker.muted(trees=[(section, key, f) for f in found.unknown], exact=[(section, key)])

    buckets: dict[str, Bucket] = {}
    for key, b_spec in resources.buckets.items():
        region = b_spec.region or spec.region
        name = named("buckets", key, b_spec.name, "bucket", names.check_bucket, region)
        with rules_of("buckets", key):
            rules.check_bucket(checker, ("buckets", key), b_spec, bucket_keys=resources.buckets)
            rules.check_intelligent_tiering(checker, ("buckets", key), b_spec)
            rules.check_cors_origins(checker, ("buckets", key), b_spec)
            if env_part.rules:
                rules.check_encryption_keys(checker, ("buckets", key), b_spec, env=spec)
        buckets[key] = Bucket(key=key, name=name, spec=b_spec, region=region)
    bucket_specs = {key: b.spec for key, b in buckets.items()}
    bucket_names = {key: b.name for key, b in buckets.items()}
    for key, bucket in buckets.items():  # the rules that look at other buckets, once every name is known
        with rules_of("buckets", key):
            rules.check_access_log_target(
                checker, ("buckets", key), bucket.spec, env=spec, buckets=bucket_specs, bucket_names=bucket_names
            )
            rules.check_replication_target(
                checker,
                ("buckets", key),
                bucket.spec,
                own_name=bucket.name,
                buckets=bucket_specs,
                bucket_names=bucket_names,
            )
    rules.check_regions(checker, spec, buckets=resources.buckets, tables=resources.tables)
    rules.check_replication(checker, buckets=buckets, declared=declared["buckets"])
    buckets = {key: _with_destination(bucket, buckets) for key, bucket in buckets.items()}
    tables: dict[str, Table] = {}
    for key, t_spec in resources.tables.items():
        region = t_spec.region or spec.region
        name = named("tables", key, t_spec.name, "table", names.check_table, region)
        with rules_of("tables", key):
            rules.check_table(checker, ("tables", key), t_spec)
            rules.check_index_autoscaling(checker, ("tables", key), t_spec)
            if env_part.rules:
                rules.check_encryption_keys(checker, ("tables", key), t_spec, env=spec)
        arn = f"arn:aws:dynamodb:{region}:{spec.account}:table/{name}"
        tables[key] = Table(key=key, name=name, arn=arn, spec=t_spec, region=region)
    principals: dict[str, Principal] = {}
    for key, p_spec in resources.principals.items():
        kind = p_spec.kind
        name = named("principals", key, p_spec.name, f"IAM {kind}", functools.partial(names.check_iam, kind=kind))
        before = len(checker.problems)
        with rules_of("principals", key):
            rules.check_principal(checker, ("principals", key), p_spec, declared=declared)
            rules.check_service_principals(checker, ("principals", key), p_spec)
            rules.check_grant_keys(checker, ("principals", key), p_spec)
        resolvable = all((g.bucket in buckets) if g.bucket is not None else (g.table in tables) for g in p_spec.grants)
        ok = resolvable and len(checker.problems) == before and ("principals", key) not in partial
        policy = policy_document(p_spec, buckets=buckets, tables=tables, region=spec.region) if ok else {}
        arn = f"arn:aws:iam::{spec.account}:{p_spec.kind}{p_spec.path}{name}"
        principals[key] = Principal(key=key, name=name, arn=arn, spec=p_spec, policy=policy)
    _names_of_unparsed(partial, named, resources)

    env_path = ("environments", env_name)
    env_mute = checker.muted(trees=[(*env_path, f) for f in env_part.unknown] if env_part.rules else [env_path])
    with env_mute:
        state = _state_backend(config, env_name, spec, checker)
        rules.check_access(checker, env_path, spec)
    tags = {**config.tags, **spec.tags, "Project": config.project, "Environment": env_name, "ManagedBy": MANAGED_BY}
    env = Environment(
        project=config.project,
        name=env_name,
        spec=spec,
        tags=tags,
        state=state,
        buckets=buckets,
        tables=tables,
        principals=principals,
    )
    return env, checker.problems


_NAME_CHECKS: dict[str, tuple[str, Callable[[str], list[str]]]] = {
    "buckets": ("bucket", names.check_bucket),
    "tables": ("table", names.check_table),
    "principals": ("IAM principal", functools.partial(names.check_iam, kind="principal")),
}


def _names_of_unparsed(
    partial: dict[tuple[str, str], _Partial], named: Callable[..., str], resources: Resources
) -> None:
    """A resource that did not parse at all still has a name: check it (its other problems are reported)."""
    for (section, key), found in partial.items():
        if section not in _NAME_CHECKS or key in getattr(resources, section) or not isinstance(found.raw, dict):
            continue
        explicit = found.raw.get("name")
        if explicit is not None and not isinstance(explicit, str):
            continue
        kind, check = _NAME_CHECKS[section]
        if section == "principals" and found.raw.get("kind") in ("user", "role"):
            kind = f"IAM {found.raw['kind']}"
        named(section, key, explicit or None, kind, check)


def _with_destination(bucket: Bucket, buckets: dict[str, Bucket]) -> Bucket:
    """A replication destination named by its key in this config, resolved to that bucket's ARN as well,
    so every reader (the stack's variables, the audit, drift) finds it as `destination_bucket_arn`."""
    rule = bucket.spec.replication
    if rule is None or rule.destination_bucket not in buckets or rule.destination_bucket_arn is not None:
        return bucket
    arn = buckets[str(rule.destination_bucket)].arn
    spec = bucket.spec.model_copy(update={"replication": rule.model_copy(update={"destination_bucket_arn": arn})})
    return dataclasses.replace(bucket, spec=spec)


def _state_backend(config: ConfigFile, env_name: str, spec: EnvironmentSpec, checker: rules.Checker) -> StateBackend:
    settings = spec.state
    bucket = settings.bucket or f"{config.project}-{env_name}-tfstate-{spec.account}"
    lock_table = settings.lock_table or f"{config.project}-{env_name}-tflock"
    path: KeyPath = ("environments", env_name, "state")
    for field, name, check in (("bucket", bucket, names.check_bucket), ("lock_table", lock_table, names.check_table)):
        rules.check_name(
            checker,
            (*path, field),
            name=name,
            kind=f"state {field.replace('_', ' ')}",
            reasons=check(name),
            env=env_name,
            explicit=bool(getattr(settings, field)),
            hint=f"set `{field}:` under environments.{env_name}.state to a valid name",
        )
    if settings.key.startswith("/") or not settings.key:
        checker.add((*path, "key"), "the state key must be a relative object key", "e.g. cargohold/terraform.tfstate")
    return StateBackend(
        bucket=bucket,
        key=settings.key,
        region=settings.region or spec.region,
        lock_table=lock_table,
        encrypt=settings.encrypt,
    )
