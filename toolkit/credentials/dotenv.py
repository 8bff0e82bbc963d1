"""Write an application's `.env` file without ever exposing a secret.

Every write goes to a new file in the same folder, opened with `O_CREAT | O_EXCL` and mode 0600 (and
`fchmod` 0600, whatever the umask) before a byte is written, flushed to disk, then moved over the
target with `os.replace`: readers see the old file or the new one, never half of one, and no other
user can open it at any moment. Lines that are not ours (other variables, comments, blank lines)
are kept in place; ours are replaced where they are, or appended. Values never appear in an error.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cargohold_core.errors import CargoholdError
from toolkit.health.credentials import parse_dotenv

FILE_MODE = 0o600
_NAME = re.compile(r"^\s*(export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9_./+:@,=-]*$")


class DotenvError(CargoholdError):
    """The .env file cannot be read or written."""


@dataclass(frozen=True)
class DotenvWrite:
    """What a write did: the path, whether the file was new or removed, and a loose mode it replaced."""

    path: Path
    created: bool = False
    removed: bool = False
    previous_mode: int | None = None  # set when the old file was readable by group/others (now 0600)

    @property
    def fixed_mode(self) -> bool:
        return self.previous_mode is not None


def read_values(path: Path) -> dict[str, str]:
    """The file's NAME=VALUE pairs; {} when it does not exist. Values are never echoed in errors."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise DotenvError(f"cannot read {path}: {exc.strerror}", hint="check the path and its permissions") from None
    return parse_dotenv(text, source=str(path))


def loose_mode(path: Path) -> int | None:
    """The file's permission bits when group or others have any access to it; None otherwise."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    return mode if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO) else None


def render(existing: str, values: Mapping[str, str | None]) -> str:
    """`existing` with each named variable set to its value (None: removed), other lines untouched."""
    for name, value in values.items():
        if value is not None and not _SAFE_VALUE.match(value):
            # AWS key ids, secrets, regions and bucket names never need quoting; anything else is refused
            # rather than written in a form some .env reader parses differently. The value is not shown.
            raise DotenvError(
                f"the value for {name} has characters a .env file cannot hold unquoted",
                hint="use plain variable values (letters, digits and _./+:@,=-)",
            )
    pending = dict(values)
    out: list[str] = []
    for line in existing.splitlines():
        found = _NAME.match(line)
        if found is None or found.group(2) not in values:
            out.append(line)
            continue
        name = found.group(2)
        if name in pending and pending[name] is not None:
            out.append(f"{found.group(1) or ''}{name}={pending[name]}")
        pending.pop(name, None)  # a second line for the same name is dropped: one value per variable
    out += [f"{name}={value}" for name, value in pending.items() if value is not None]
    return "\n".join(out) + "\n" if out else ""


def update(path: Path, values: Mapping[str, str | None]) -> DotenvWrite:
    """Set (or with None remove) variables in the .env file at `path`, atomically, mode 0600.

    The file is removed when nothing but blank lines would remain.
    """
    target = _real(path)
    try:
        existing = target.read_text(encoding="utf-8")
        created = False
    except FileNotFoundError:
        existing, created = "", True
    except OSError as exc:
        raise DotenvError(f"cannot read {path}: {exc.strerror}", hint="check the path and its permissions") from None
    previous_mode = None if created else loose_mode(target)
    text = render(existing, values)
    if not text.strip():
        if not created:
            try:
                target.unlink()
            except OSError as exc:
                raise DotenvError(f"cannot remove {path}: {exc.strerror}", hint="remove it by hand") from None
        return DotenvWrite(path=path, removed=not created)
    replace_with(target, text)
    return DotenvWrite(path=path, created=created, previous_mode=previous_mode)


def write_private(folder: Path, text: str, *, prefix: str) -> Path:
    """A new file in `folder`, created 0600 (O_EXCL: never an existing one), holding `text`."""
    for _ in range(16):
        candidate = folder / f"{prefix}{secrets.token_hex(6)}"
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), FILE_MODE)
        except FileExistsError:
            continue
        except OSError as exc:
            raise DotenvError(
                f"cannot create a file in {folder}: {exc.strerror}",
                hint="pass --dotenv with a path in an existing folder you can write to",
            ) from None
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, FILE_MODE)  # the umask may only take bits away; make sure of 0600 before writing
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            with contextlib.suppress(OSError):
                candidate.unlink()
            raise DotenvError(f"cannot write {candidate}: {exc.strerror}", hint="check the disk space") from None
        return candidate
    raise DotenvError(f"cannot create a temporary file in {folder}", hint="remove stale .cargohold-* files there")


def replace_with(target: Path, text: str) -> None:
    """Atomically make `target` a 0600 file holding `text`."""
    temp = write_private(target.parent, text, prefix=f".{target.name}.cargohold-")
    try:
        temp.replace(target)  # os.replace: atomic within a folder
    except OSError as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise DotenvError(f"cannot replace {target}: {exc.strerror}", hint="check the folder's permissions") from None


def _real(path: Path) -> Path:
    """The file a symlink points at (so the link stays a link), else the path itself."""
    return path.resolve() if path.is_symlink() else path
