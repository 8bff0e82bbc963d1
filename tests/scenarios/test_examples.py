"""The user's five systems, end to end: each example in examples/ is first built by hand in an emulated
account the way its guide builds it, then discovered, audited, fixed through its own config.yaml, and
(where the app kept files on disk) migrated into its bucket with its rows pointed at the objects.

Every expected finding below is reasoned from the setup, not copied from a run: a comment by each set
says why it is there.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
import yaml

from cargohold_core import aws
from cargohold_core.config import load_project
from cargohold_core.config.model import Environment, Project
from migrate import engine
from migrate.job import LoadedJob, load_job
from migrate.planner import PlanReport, plan
from tests.support.moto_gaps import only_the_lifecycle_gap
from tests.support.terraform_apply import provision, without_tls_policy
from toolkit.audit.run import audit
from toolkit.demo.emulator import Emulator
from toolkit.demo.legacy_setup import DYNAMODB_FULL_ACCESS, S3_FULL_ACCESS, LegacySetup, make_by_hand
from toolkit.discover.read import Discovery, discover
from toolkit.discover.write import import_blocks, imports_for, load_discovered
from toolkit.findings import Report, Status
from toolkit.migrate_cli import opened

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LOCAL_ENDPOINT = "http://127.0.0.1:5000"  # what the shipped examples' `local` environments name
ACCOUNT = "root"  # the short name of the account-level finding's resource (arn:aws:iam::ACCOUNT:root)
UNEXPRESSED = "could-not-express"
DETACH = re.compile(r"aws iam detach-user-policy --user-name (\S+) --policy-arn (\S+)")

Findings = set[tuple[str, str]]


# ---------------------------------------------------------------- configs pointed at the emulator


def example_config(example: str, tmp_path: Path, endpoint: str, replace: dict[str, str] | None = None) -> Path:
    """The example's own config.yaml, copied with its emulator endpoint (and `replace`'s texts) replaced."""
    text = (EXAMPLES / example / "config.yaml").read_text(encoding="utf-8").replace(LOCAL_ENDPOINT, endpoint)
    for old, new in (replace or {}).items():
        assert old in text, f"{old!r} is not in examples/{example}/config.yaml"
        text = text.replace(old, new)
    target = tmp_path / example / "config.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def loaded(path: Path) -> tuple[Project, Environment]:
    project = load_project(path)
    return project, project.environment("local")


def undeclared(example: str, tmp_path: Path, endpoint: str) -> tuple[Project, Environment]:
    """The example's project with nothing declared yet: what the user has before adopting the account."""
    data = yaml.safe_load((EXAMPLES / example / "config.yaml").read_text(encoding="utf-8"))
    data.update(buckets={}, tables={}, principals={})
    data.pop("migrations", None)
    for spec in data["environments"].values():
        spec.pop("overrides", None)  # they name resources that are not declared yet
    data["environments"]["local"]["endpoint"] = endpoint
    target = tmp_path / "adopt" / "config.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return loaded(target)


# ---------------------------------------------------------------- by hand, the way each guide does it


def make_private(env: Environment, bucket_key: str, *, cors: list[dict[str, Any]] | None) -> None:
    """The guide's private bucket: the console's defaults kept (Block Public Access on, ACLs disabled), no
    bucket policy; its own CORS rules, if any."""
    s3, name = aws.client(env, "s3"), env.buckets[bucket_key].name
    s3.delete_bucket_policy(Bucket=name)
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration=dict.fromkeys(
            ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
        ),
    )
    s3.put_bucket_ownership_controls(
        Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    s3.delete_bucket_cors(Bucket=name)
    if cors:
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": cors})


def lms_by_hand(env: Environment, workdir: Path) -> LegacySetup:
    # Two public-read buckets, six tables with the console's defaults, one backend user with both
    # *FullAccess policies: exactly the generic console guide.
    return make_by_hand(env, workdir)


def lms_materials_by_hand(env: Environment, workdir: Path) -> LegacySetup:
    # The generic guide, plus what this guide asked for by hand: versioning, and a lifecycle rule moving
    # recordings to infrequent access (but none that expires old versions or aborts failed uploads).
    made = make_by_hand(env, workdir)
    s3, name = aws.client(env, "s3"), env.buckets["materials"].name
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(
        Bucket=name,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "recordings-to-ia",
                    "Status": "Enabled",
                    "Filter": {"Prefix": "recordings/"},
                    "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}],
                }
            ]
        },
    )
    return made


def photos_by_hand(env: Environment, workdir: Path) -> LegacySetup:
    # The whole bucket public, and the CORS rule the presigned-POST guide pastes: any origin may POST.
    made = make_by_hand(env, workdir)
    aws.client(env, "s3").put_bucket_cors(
        Bucket=env.buckets["photos"].name,
        CORSConfiguration={
            "CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "POST", "PUT"], "AllowedHeaders": ["*"]}]
        },
    )
    return made


def generations_by_hand(env: Environment, workdir: Path) -> LegacySetup:
    # A private bucket (console defaults), no versioning, no lifecycle; the browser only GETs presigned
    # URLs, so the guide's CORS rule lets any origin read, not write. The full-access user stays.
    made = make_by_hand(env, workdir)
    read_only_cors = [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "AllowedHeaders": ["*"]}]
    make_private(env, "generations", cors=read_only_cors)
    return made


def chat_pdfs_by_hand(env: Environment, workdir: Path) -> LegacySetup:
    # Private, encrypted (SSE-S3: the guide ticks it; AWS's default anyway), no CORS; still
    # AmazonS3FullAccess on the backend user.
    made = make_by_hand(env, workdir)
    make_private(env, "pdfs", cors=None)
    return made


# ---------------------------------------------------------------- the scenario


@dataclass
class Scenario:
    example: str
    by_hand: Callable[[Environment, Path], LegacySetup]
    public_buckets: set[str]  # bucket keys the guide made readable by anyone, whole bucket
    before: Findings  # FAILs of the hand-made setup, audited with the discovered config
    after: Findings  # FAILs left after the fix: what the example's own config relaxes
    replace: dict[str, str] = field(default_factory=dict)  # texts replaced in the example's config copy


def failing(report: Report) -> Findings:
    errors = [f"{f.check.id} {f.resource}: {f.message}" for f in report.findings if f.status is Status.ERROR]
    assert errors == []
    return {(f.check.id, re.split(r"[:/]", f.resource)[-1]) for f in report.findings if f.status is Status.FAIL}


def check_discovery(found: Discovery, discovered: Environment, made: LegacySetup, public: set[str]) -> None:
    names = {section: {d.name for d in items.values()} for section, items in found.sections().items()}
    assert names == {"buckets": set(made.buckets), "tables": set(made.tables), "principals": set(made.users)}
    # The discovered config loads; the full-access users have no grants it could write, so they are
    # only comments in it (and reported), while every bucket and table is adopted.
    assert {b.name for b in discovered.buckets.values()} == set(made.buckets)
    assert {t.name for t in discovered.tables.values()} == set(made.tables)
    assert discovered.principals == {}
    unexpressed: dict[str, list[str]] = {}
    for remark in found.remarks:
        if remark.category == UNEXPRESSED:
            unexpressed.setdefault(remark.name, []).append(remark.message)
    assert set(unexpressed) == set(made.users) | public
    for user in made.users:
        text = " ".join(unexpressed[user])
        assert "AmazonS3FullAccess" in text
        assert ("AmazonDynamoDBFullAccess" in text) == bool(made.tables)
    for bucket in public:
        text = " ".join(unexpressed[bucket])
        assert "PublicReadGetObject" in text and "readable by anyone" in text


def follow_advice(found: Discovery, env: Environment) -> set[tuple[str, str]]:
    """Run the commands discover's "could not express" remarks give (Terraform will not): detach the
    managed policies; delete the CORS rules config.yaml does not declare. Returns the detached ones."""
    iam, s3, done = aws.client(env, "iam"), aws.client(env, "s3"), set()
    for remark in found.remarks:
        advice = remark.advice or "" if remark.category == UNEXPRESSED else ""
        match = DETACH.search(advice)
        if match:
            iam.detach_user_policy(UserName=match[1], PolicyArn=match[2])
            done.add((match[1], match[2]))
        cors = re.search(r"`aws s3api delete-bucket-cors --bucket (\S+)`", advice)
        if cors:
            s3.delete_bucket_cors(Bucket=cors[1])
    return done


def adopt_and_audit(scenario: Scenario, tmp_path: Path, account: Emulator) -> tuple[LegacySetup, Discovery]:
    """Steps 1-4: by hand, discovered, audited with the discovered config. Returns what was made."""
    config = example_config(scenario.example, tmp_path, account.endpoint, scenario.replace)
    _, env = loaded(config)
    made = scenario.by_hand(env, tmp_path)
    project, empty = undeclared(scenario.example, tmp_path, account.endpoint)
    found = discover(project, empty)
    discovered = load_discovered(project, found)
    check_discovery(found, discovered, made, {env.buckets[k].name for k in scenario.public_buckets})
    assert failing(audit(project, discovered)) == scenario.before
    return made, found


def fix(
    scenario: Scenario, found: Discovery, made: LegacySetup, env: Environment, work: Path, *, tls_policy: bool
) -> None:
    """Step 5: apply the example's config over the adopted resources (real Terraform, with discover's
    import blocks addressed to the example's keys), then the steps apply cannot take."""
    applied = env if tls_policy else without_tls_policy(env)
    provision(applied, work, imports=import_blocks(imports_for(applied, found), found))
    expected = {(user, S3_FULL_ACCESS) for user in made.users}
    expected |= {(user, DYNAMODB_FULL_ACCESS) for user in made.users if made.tables}
    assert follow_advice(found, env) == expected
    # The account-wide block is the audit's advice; an example that serves a public prefix (photos' <img>
    # tags) cannot have it, or its public objects would stop being public.
    if not any(b.spec.public_read_prefix for b in env.buckets.values()):
        aws.block_public_access_for_account(env)


# ---------------------------------------------------------------- expected findings


def public_bucket(name: str, *, versioned: bool = False, lifecycle: bool = False) -> Findings:
    """A bucket made by the generic guide: public policy, Block Public Access off, ACLs on, CORS '*'."""
    found = {
        ("s3.public-exposure", name),  # "Principal": "*" s3:GetObject on the whole bucket
        ("s3.bucket-public-access-block", name),  # deleted by hand
        ("s3.acls-disabled", name),  # ObjectWriter
        ("s3.tls-only", name),  # the policy has no Deny on aws:SecureTransport = false
        ("s3.cors-wildcard-write", name),  # AllowedOrigins '*' with PUT/POST (DELETE)
        ("s3.abort-incomplete-multipart", name),  # no lifecycle rule aborts uploads
        ("drift.changed", name),  # discovered as is; apply would harden ownership, PAB and the policy
    }
    if not versioned:
        found.add(("s3.versioning", name))
    else:
        found.add(("s3.noncurrent-version-expiration", name))  # versioned, nothing expires old versions
    if not lifecycle:
        found.add(("s3.lifecycle-present", name))
    return found


def console_table(name: str) -> Findings:
    return {
        ("dynamodb.pitr", name),  # the console's defaults
        ("dynamodb.deletion-protection", name),
        ("drift.changed", name),  # none of cargohold's tags yet: the first apply adds them
    }


def full_access_user(name: str) -> Findings:
    return {
        ("iam.full-access-managed-policy", name),
        ("iam.policy-attached-to-user", name),  # attached to the user, not through a group
        ("drift.unmanaged", name),  # named like the project's resources, left out of the discovered config
    }


ACCOUNT_OPEN = {("s3.account-public-access-block", ACCOUNT)}  # nobody turned on the account-wide block


# ---------------------------------------------------------------- the five scenarios


def test_lms(tmp_path: Path, account: Emulator) -> None:
    tables = ("user", "student", "instructor", "course", "conversation", "notification")
    scenario = Scenario(
        "lms",
        lms_by_hand,
        public_buckets={"student-documents", "instructor-documents"},
        before=ACCOUNT_OPEN
        | public_bucket("lms-local-student-documents")
        | public_bucket("lms-local-instructor-documents")
        | {f for t in tables for f in console_table(f"lms-local-{t}")}
        | full_access_user("lms-local-backend"),
        after=set(),  # versioning, PITR and deletion protection are on by default; nothing is relaxed
    )
    made, found = adopt_and_audit(scenario, tmp_path, account)
    project, env = loaded(tmp_path / "lms" / "config.yaml")
    fix(scenario, found, made, env, tmp_path / "terraform", tls_policy=True)
    assert failing(audit(project, env)) == scenario.after


def test_chat_pdfs(tmp_path: Path, account: Emulator) -> None:
    pdfs = "chatpdf-local-pdfs"
    scenario = Scenario(
        "chat-pdfs",
        chat_pdfs_by_hand,
        public_buckets=set(),
        before=ACCOUNT_OPEN
        | {
            ("s3.tls-only", pdfs),  # no bucket policy at all
            ("s3.versioning", pdfs),
            ("s3.lifecycle-present", pdfs),
            ("s3.abort-incomplete-multipart", pdfs),
            ("drift.changed", pdfs),  # apply adds the TLS-only policy
        }
        | full_access_user("chatpdf-local-chat-app"),
        after=set(),  # versioned by default, with the config's rule expiring noncurrent versions
    )
    made, found = adopt_and_audit(scenario, tmp_path, account)
    project, env = loaded(tmp_path / "chat-pdfs" / "config.yaml")
    fix(scenario, found, made, env, tmp_path / "terraform", tls_policy=True)
    assert failing(audit(project, env)) == scenario.after


# ---------------------------------------------------------------- migrations


@dataclass
class Migrated:
    job: LoadedJob
    plan: PlanReport
    uploaded: int
    rows_updated: int
    verified: bool
    problems: list[Any]


def migrate(config: Path, env: Environment) -> Migrated:
    """`cargohold migrate run` then `migrate verify`, in-process (as toolkit.demo.migration does)."""
    job = load_job(config_path=config, env=env)
    report = PlanReport(job=job.name, bucket=job.bucket, source_dir=str(job.source_dir))
    with opened(job, env) as parts:
        result = engine.run(
            plan(job, parts["store"], report),
            journal=parts["journal"],
            store=parts["store"],
            uploader=parts["uploader"],
        )
        checked = engine.verify(
            parts["journal"], uploader=parts["uploader"], store=parts["store"], source_dir=job.source_dir
        )
    return Migrated(job, report, result.uploaded, result.rows_updated, checked.ok, list(checked.problems))


def cleanup(job: LoadedJob, env: Environment) -> int:
    """`cargohold migrate cleanup --yes`: local files go only once each object is checked again."""
    with opened(job, env) as parts:
        return engine.cleanup(
            parts["journal"],
            uploader=parts["uploader"],
            store=parts["store"],
            source_dir=job.source_dir,
            confirm=True,
        ).files_deleted


def write_files(root: Path, files: dict[str, bytes]) -> None:
    for relpath, body in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    (root / ".DS_Store").write_bytes(b"\0" * 64)  # noise the jobs exclude or no row names


def body(seed: str, size: int) -> bytes:
    raw = seed.encode("utf-8")
    return (raw * (size // len(raw) + 1))[:size]


def check_migrated(
    migrated: Migrated, env: Environment, pointers: dict[str, str], files: dict[str, bytes], source: Path
) -> None:
    """Every row points at an object holding its file's bytes; verify passed; local files still there,
    unchanged, until cleanup removes them (and only them)."""
    assert not migrated.plan.has_problems
    assert (migrated.uploaded, migrated.rows_updated) == (len(files), len(pointers))
    assert migrated.verified and migrated.problems == []
    s3 = aws.client(env, "s3")
    for relpath, key in pointers.items():
        assert s3.get_object(Bucket=migrated.job.bucket, Key=key)["Body"].read() == files[relpath]
    for relpath, content in files.items():
        assert (source / relpath).read_bytes() == content
    assert cleanup(migrated.job, env) == len(files)
    assert sorted(p.name for p in source.rglob("*") if p.is_file()) == [".DS_Store"]
    for key in pointers.values():
        s3.head_object(Bucket=migrated.job.bucket, Key=key)


def test_lms_materials(tmp_path: Path, account: Emulator) -> None:
    materials = "lms-materials-local-materials"
    scenario = Scenario(
        "lms-materials",
        lms_materials_by_hand,
        public_buckets={"materials"},
        before=ACCOUNT_OPEN
        | public_bucket(materials, versioned=True, lifecycle=True)
        | full_access_user("lms-materials-local-materials-app"),
        # The example relaxes nothing for `local` but force_destroy. moto drops a lifecycle rule's
        # NewerNoncurrentVersions, which the desired-state model compares: the one difference it shows.
        after={("drift.changed", materials)},
    )
    made, found = adopt_and_audit(scenario, tmp_path, account)
    config = tmp_path / "lms-materials" / "config.yaml"
    project, env = loaded(config)

    # The old LMS: lecture files on disk and a SQL table of their paths (SQLite, where the job's url says).
    legacy = config.parent / "legacy"
    lectures = [
        ("c-101", "unit-1", "slides.pdf", 40_000),
        ("c-101", "unit-1", "handout week 1.docx", 12_345),
        ("c-101", "unit-2", "lab sheet (v2).pdf", 9_001),
        ("c-205", "recordings", "lecture-01.mp4", 150_000),
        ("c-205", "unit-3", "empty.txt", 0),
    ]
    files = {f"{c}/{u}/{n}": body(f"{c}/{u}/{n}", size) for c, u, n, size in lectures}
    write_files(legacy / "uploads", files)
    with sqlite3.connect(legacy / "lms.db") as db:
        db.execute(
            "CREATE TABLE materials (id INTEGER PRIMARY KEY, course_id TEXT, unit TEXT, filename TEXT,"
            " file_path TEXT, s3_key TEXT, storage TEXT NOT NULL DEFAULT 'local')"
        )
        db.executemany(
            "INSERT INTO materials (course_id, unit, filename, file_path) VALUES (?, ?, ?, ?)",
            [(c, u, n, f"uploads/{c}/{u}/{n}") for c, u, n, _ in lectures],
        )

    # Fix first (without the TLS-only statement: moto cannot evaluate its condition and would refuse
    # every object call), migrate into the hardened bucket, then apply the full policy and audit.
    fix(scenario, found, made, env, tmp_path / "terraform", tls_policy=False)
    migrated = migrate(config, env)
    with sqlite3.connect(legacy / "lms.db") as db:
        rows = list(db.execute("SELECT course_id, unit, filename, file_path, s3_key, storage FROM materials"))
    assert {r[5] for r in rows} == {"s3"}
    assert all(r[4] == f"{r[0]}/{r[1]}/{r[2]}" for r in rows)  # the bucket's key_layout
    check_migrated(migrated, env, {r[3].removeprefix("uploads/"): r[4] for r in rows}, files, legacy / "uploads")
    provision(env, tmp_path / "terraform")  # now with the TLS-only policy
    report = audit(project, env)
    assert failing(report) == scenario.after
    [drift] = [f for f in report.findings if f.check.id == "drift.changed" and f.status is not Status.PASS]
    assert only_the_lifecycle_gap(drift.expected, drift.actual)  # the gap and nothing else


def test_photos(tmp_path: Path, account: Emulator) -> None:
    photos = "photos-local-photos"
    scenario = Scenario(
        "photos",
        photos_by_hand,
        public_buckets={"photos"},
        before=ACCOUNT_OPEN | public_bucket(photos) | console_table(photos) | full_access_user("photos-local-backend"),
        after={
            # `local` turns deletion protection off for the table (tests delete it).
            ("dynamodb.deletion-protection", photos),
            # uploads/ is public on purpose (public_read_prefix), so the account-wide block stays off.
            ("s3.account-public-access-block", ACCOUNT),
        },
    )
    made, found = adopt_and_audit(scenario, tmp_path, account)
    config = tmp_path / "photos" / "config.yaml"
    project, env = loaded(config)

    # Before presigned POST: uploads on the backend's disk, each `photos` item holding its localPath.
    legacy = config.parent / "legacy"
    shots = [
        ("u-1", 1_700_000_000_123, "beach.jpg"),
        ("u-1", 1_700_000_500_000, "sunset.png"),
        ("u-2", 1_700_000_000_999, "cat photo.webp"),
    ]
    files = {f"{user}/{name}": body(f"{user}/{at}/{name}", 20_000 + at % 1000) for user, at, name in shots}
    write_files(legacy / "uploads", files)
    ddb = aws.client(env, "dynamodb")
    for user, at, name in shots:
        item = {"userId": {"S": user}, "uploadedAt": {"N": str(at)}, "storage": {"S": "local"}}
        ddb.put_item(TableName=photos, Item={**item, "localPath": {"S": f"uploads/{user}/{name}"}})
    # Already on S3 (uploaded with presigned POST): the job's `where` leaves it alone.
    ddb.put_item(
        TableName=photos,
        Item={
            "userId": {"S": "u-3"},
            "uploadedAt": {"N": "1700000900000"},
            "storage": {"S": "s3"},
            "s3Key": {"S": "uploads/u-3/1700000900000-new.jpg"},
        },
    )

    fix(
        scenario, found, made, env, tmp_path / "terraform", tls_policy=False
    )  # as in test_lms_materials: moto and the TLS policy
    migrated = migrate(config, env)
    items = [{k: next(iter(v.values())) for k, v in i.items()} for i in ddb.scan(TableName=photos)["Items"]]
    moved = [i for i in items if "localPath" in i]
    assert len(moved) == len(shots) and {i["storage"] for i in moved} == {"s3"}
    for i in moved:  # the bucket's key_layout: uploads/{user_id}/{uploaded_at}-{filename}
        assert i["s3Key"] == f"uploads/{i['userId']}/{i['uploadedAt']}-{Path(i['localPath']).name}"
    untouched = next(i for i in items if i["userId"] == "u-3")
    assert untouched["s3Key"] == "uploads/u-3/1700000900000-new.jpg" and "localPath" not in untouched
    pointers = {i["localPath"].removeprefix("uploads/"): i["s3Key"] for i in moved}
    check_migrated(migrated, env, pointers, files, legacy / "uploads")
    provision(env, tmp_path / "terraform")  # now with the TLS-only policy
    assert failing(audit(project, env)) == scenario.after


def test_generations(tmp_path: Path, account: Emulator, postgres_url: str) -> None:
    bucket = "genai-local-generations"
    table = f"generations_{uuid.uuid4().hex[:10]}"  # the shipped config's table, made unique per run
    scenario = Scenario(
        "generations",
        generations_by_hand,
        public_buckets=set(),
        before=ACCOUNT_OPEN
        | {
            ("s3.tls-only", bucket),  # private, but no policy denies plain HTTP
            ("s3.versioning", bucket),
            ("s3.lifecycle-present", bucket),
            ("s3.abort-incomplete-multipart", bucket),
            ("drift.changed", bucket),  # apply adds the TLS-only policy
            # no s3.cors-wildcard-write: '*' may only GET
        }
        | full_access_user("genai-local-app"),
        after=set(),
        replace={
            "url: postgresql+psycopg://genai@localhost:5432/genai": f"url: {postgres_url}",
            "table: generations": f"table: {table}",
        },
    )
    made, found = adopt_and_audit(scenario, tmp_path, account)
    config = tmp_path / "generations" / "config.yaml"
    project, env = loaded(config)

    # The first version: images on the old server's disk, their absolute paths in PostgreSQL.
    images = config.parent / "legacy" / "images"
    generated = [("u-7", "g-0001", 70_000), ("u-7", "g-0002", 1), ("u-8", "g-0100", 250_000)]
    files = {f"{user}/{gen}.png": body(f"{user}/{gen}", size) for user, gen, size in generated}
    write_files(images, files)
    db = sa.create_engine(postgres_url, poolclass=sa.pool.NullPool)
    forget_journal(db)
    with db.begin() as conn:
        conn.execute(
            sa.text(
                f"CREATE TABLE {table} (id SERIAL PRIMARY KEY, user_id TEXT NOT NULL, generation_id TEXT NOT NULL,"
                " prompt TEXT, image_path TEXT, s3_key VARCHAR(1024), s3_url TEXT)"
            )
        )
        for user, gen, _ in generated:
            conn.execute(
                sa.text(f"INSERT INTO {table} (user_id, generation_id, prompt, image_path) VALUES (:u, :g, :p, :i)"),
                {"u": user, "g": gen, "p": "a lighthouse at dusk", "i": f"/srv/genai/images/{user}/{gen}.png"},
            )
    try:
        fix(
            scenario, found, made, env, tmp_path / "terraform", tls_policy=False
        )  # as in test_lms_materials: moto and the TLS policy
        migrated = migrate(config, env)
        with db.connect() as conn:
            rows = conn.execute(sa.text(f"SELECT user_id, generation_id, image_path, s3_key, s3_url FROM {table}"))
            rows = [tuple(r) for r in rows]
        assert len(rows) == len(generated)
        for user, gen, _, key, url in rows:
            assert key == f"generations/{user}/{gen}.png"  # the bucket's key_layout
            assert url == f"https://{bucket}.s3.us-east-1.amazonaws.com/{quote(key)}"
        pointers = {r[2].removeprefix("/srv/genai/images/"): r[3] for r in rows}
        check_migrated(migrated, env, pointers, files, images)
        provision(env, tmp_path / "terraform")  # now with the TLS-only policy
        assert failing(audit(project, env)) == scenario.after
    finally:
        with db.begin() as conn:
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
        forget_journal(db)
        db.dispose()


def forget_journal(db: sa.Engine) -> None:
    """The job's journal lives in the target PostgreSQL database: start and end without its rows."""
    existing = set(sa.inspect(db).get_table_names())
    with db.begin() as conn:
        for suffix in ("objects", "rows", "files"):
            if f"cargohold_migration_{suffix}" in existing:
                conn.execute(sa.text(f"DELETE FROM cargohold_migration_{suffix} WHERE job = 'generated-images'"))
