"""Run Terraform commands: python-terraform for the command lines, with its defects wrapped.

python-terraform 0.10.1 (2019) builds good argument lists but, used as is, it
- runs with `os.environ` only (no explicit environment) and captures output whole, or prints it;
- adds an empty temporary `-var-file` to every command (its default `variables={}`);
- passes `-force` in `destroy()` (rejected since Terraform 0.15) -> never called here;
- passes `-auto-approve=false` in `apply()` unless `skip_plan=True` -> only saved plans are applied;
- raises TypeError in `output('name')` -> `output -json` is parsed here;
- always adds `-detailed-exitcode` to `plan()`, so exit 2 means "changes", not failure.

`Runner` keeps its argument building (`generate_cmd_string`) and replaces process handling: an
explicit environment, `TF_IN_AUTOMATION=1`, `-input=false -no-color`, line-by-line streaming to a
callback, and `TerraformCommandFailed` (command, exit code, tail of stderr) on failure.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_terraform import IsFlagged, Terraform

from cargohold_core.errors import TerraformError

LineCallback = Callable[[str], None]

STDERR_TAIL_LINES = 30
_LOCK_ID = re.compile(r"^\s*ID:\s+(\S+)", re.MULTILINE)

# Variables that would silently change what a command does (TF_CLI_ARGS can inject
# -auto-approve or -target; TF_WORKSPACE overrides the selected workspace).
_UNSAFE_ENV_PREFIXES = ("TF_CLI_ARGS", "TF_WORKSPACE", "TF_VAR_", "TF_DATA_DIR")


class TerraformCommandFailed(TerraformError):
    """A Terraform command exited with an error."""

    def __init__(
        self, message: str, *, command: Sequence[str], returncode: int, stderr_tail: str, hint: str | None
    ) -> None:
        super().__init__(message, hint=hint)
        self.command = list(command)
        self.returncode = returncode
        self.stderr_tail = stderr_tail


class StateLocked(TerraformCommandFailed):
    """The state is locked by another run (or by a crashed one)."""


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


def build_env(base: Mapping[str, str], extra: Mapping[str, str]) -> dict[str, str]:
    """The environment for Terraform: `base` without unsafe TF_* settings, then `extra`, then ours."""
    env = {k: v for k, v in base.items() if not k.startswith(_UNSAFE_ENV_PREFIXES)}
    env.update(extra)
    env["TF_IN_AUTOMATION"] = "1"  # shorter output, no "run terraform apply" advice
    env["TF_INPUT"] = "0"
    return env


def _hint_for(stderr: str) -> tuple[type[TerraformCommandFailed], str | None]:
    if "Error acquiring the state lock" in stderr:
        found = _LOCK_ID.search(stderr)
        lock_id = found.group(1) if found else "<LOCK_ID>"
        return StateLocked, (
            "another Terraform run holds the state lock: wait for it to finish and try again; "
            f"if that run crashed, release the lock with `terraform force-unlock {lock_id}` "
            "in the stack's work directory"
        )
    if "Failed to query available provider packages" in stderr or "Failed to install provider" in stderr:
        return TerraformCommandFailed, (
            "Terraform could not install a provider: check the network, or the provider_installation "
            "block of the CLI config named by TF_CLI_CONFIG_FILE"
        )
    if "Saved plan is stale" in stderr:
        return TerraformCommandFailed, "the state changed since the plan was made; run plan again"
    return TerraformCommandFailed, None


class Runner(Terraform):  # type: ignore[misc]  # python-terraform ships no type hints
    """python-terraform with an explicit environment, streaming and typed errors."""

    def __init__(
        self,
        *,
        binary: Path,
        working_dir: Path,
        env: Mapping[str, str],
        on_line: LineCallback | None = None,
    ) -> None:
        # variables=None would still become {} and an empty -var-file: every call passes var=None.
        super().__init__(working_dir=str(working_dir), terraform_bin_path=str(binary))
        self.env = dict(env)
        self.on_line = on_line

    # python-terraform's `cmd` uses os.environ and captures output whole; ours streams.
    def cmd(self, cmd: str, *args: Any, **kwargs: Any) -> tuple[int, str, str]:
        result = self.run(cmd, *args, **kwargs)
        return result.returncode, result.stdout, result.stderr

    def run(
        self,
        cmd: str,
        *args: str,
        ok_codes: Sequence[int] = (0,),
        stdout_line: LineCallback | None = None,
        **options: Any,
    ) -> Result:
        """Run `terraform <cmd> <options> <args>`; raise `TerraformCommandFailed` on other exit codes.

        Every stdout line goes to `stdout_line` (or `on_line`), every stderr line to `on_line`.
        """
        options.setdefault("var", None)
        argv: list[str] = self.generate_cmd_string(cmd, *args, **options)
        stdout_sink = stdout_line or self.on_line
        stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        stderr_all: list[str] = []
        stdout_all: list[str] = []
        try:
            proc = subprocess.Popen(
                argv,
                cwd=self.working_dir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                errors="replace",
            )
        except OSError as exc:
            raise TerraformError(f"could not start {argv[0]}: {exc}", hint="check the Terraform path") from exc
        assert proc.stdout is not None and proc.stderr is not None

        def pump_stderr() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                line = line.rstrip("\n")
                stderr_all.append(line)
                stderr_tail.append(line)
                if self.on_line is not None:
                    self.on_line(line)

        reader = threading.Thread(target=pump_stderr, daemon=True)
        reader.start()
        for line in proc.stdout:
            line = line.rstrip("\n")
            stdout_all.append(line)
            if stdout_sink is not None:
                stdout_sink(line)
        returncode = proc.wait()
        reader.join()
        stdout, stderr = "\n".join(stdout_all), "\n".join(stderr_all)
        if returncode not in ok_codes:
            tail = "\n".join(line for line in stderr_tail if line.strip()) or "\n".join(stdout_all[-10:])
            error_class, hint = _hint_for(stderr + stdout)
            shown = " ".join(argv[1:])
            raise error_class(
                f"`terraform {shown}` failed with exit code {returncode}:\n{tail}",
                command=argv,
                returncode=returncode,
                stderr_tail=tail,
                hint=hint,
            )
        return Result(returncode=returncode, stdout=stdout, stderr=stderr)

    # --- the commands the workflow uses, each with the defects above wrapped -------------------

    def init_backend(self, *, backend_config: Path | None) -> Result:
        return self.run(
            "init",
            backend_config=str(backend_config) if backend_config else None,
            reconfigure=IsFlagged,
            input=False,
            no_color=IsFlagged,
        )

    def select_workspace(self, name: str) -> None:
        # One call instead of list + select/new (Terraform >= 1.4, OpenTofu >= 1.6).
        self.run("workspace select", name, or_create=True, no_color=IsFlagged)

    def plan_to_file(self, plan_file: Path, *, destroy: bool = False, refresh_only: bool = False) -> bool:
        """`plan -out`; True when there are changes (exit 2 of -detailed-exitcode)."""
        result = self.run(
            "plan",
            out=str(plan_file),
            detailed_exitcode=IsFlagged,
            destroy=IsFlagged if destroy else None,
            refresh_only=IsFlagged if refresh_only else None,
            input=False,
            no_color=IsFlagged,
            ok_codes=(0, 2),
        )
        return result.returncode == 2

    def show_json(self, plan_file: Path) -> dict[str, Any]:
        result = self.run("show", str(plan_file), json=IsFlagged, no_color=IsFlagged, stdout_line=_ignore)
        return _json_object(result.stdout, "show -json")

    def apply_plan(self, plan_file: Path, *, on_event: Callable[[dict[str, Any]], None]) -> Result:
        """Apply a saved plan, streaming `-json` events as they come (never `-auto-approve=false`)."""

        errors: list[str] = []

        def event(line: str) -> None:
            try:
                parsed = json.loads(line)
            except ValueError:
                parsed = {"@level": "info", "@message": line, "type": "text"}
            if not isinstance(parsed, dict):
                return
            if parsed.get("type") == "diagnostic" and parsed.get("@level") == "error":
                diagnostic = parsed.get("diagnostic") or {}
                address = diagnostic.get("address")
                text = f"Error: {diagnostic.get('summary', parsed.get('@message', ''))}"
                text += f" ({address})" if address else ""
                if diagnostic.get("detail"):
                    text += f"\n{diagnostic['detail']}"
                errors.append(text)
            on_event(parsed)

        try:
            return self.run("apply", str(plan_file), json=IsFlagged, input=False, no_color=IsFlagged, stdout_line=event)
        except TerraformCommandFailed as exc:
            if not errors:
                raise
            # With -json the errors arrive as diagnostics on stdout, not as text on stderr.
            detail = "\n".join(errors)
            raise type(exc)(
                f"`terraform apply` failed with exit code {exc.returncode}:\n{detail}",
                command=exc.command,
                returncode=exc.returncode,
                stderr_tail=detail,
                hint=exc.hint,
            ) from None

    def output_json(self) -> dict[str, Any]:
        result = self.run("output", json=IsFlagged, no_color=IsFlagged, stdout_line=_ignore)
        return _json_object(result.stdout, "output -json")


def _ignore(_line: str) -> None:
    """Machine-readable stdout is parsed afterwards, not shown line by line."""


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        raise TerraformError(f"`terraform {what}` printed something that is not JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise TerraformError(f"`terraform {what}` printed JSON that is not an object")
    return parsed
