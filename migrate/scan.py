"""Stream the files under a source directory: include/exclude globs, symlinks skipped unless asked.

A generator over an explicit stack of directories: memory holds one directory listing at a time,
not the tree, so 100,000s of files scan in flat memory.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from migrate.types import LocalFile


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """`**` spans folders, `*` and `?` stay within one, `[...]` is a class; matched on POSIX relpaths."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            body = pattern[i + 1 : end].replace("\\", "\\\\")
            out.append("[^" + body[1:] + "]" if body.startswith("!") else "[" + body + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z", re.DOTALL)


def matches(relpath: str, patterns: Sequence[str]) -> bool:
    return any(glob_regex(p).match(relpath) for p in patterns)


@dataclass
class ScanStats:
    files: int = 0
    bytes: int = 0
    excluded: int = 0
    symlinks_skipped: int = 0
    unreadable: list[str] = field(default_factory=list)


def scan(
    directory: str | os.PathLike[str],
    *,
    include: Sequence[str] = ("**",),
    exclude: Sequence[str] = (),
    follow_symlinks: bool = False,
    stats: ScanStats | None = None,
) -> Iterator[LocalFile]:
    """Yield every regular file under `directory` that the globs select, in a stable order."""
    stats = stats if stats is not None else ScanStats()
    root = os.fspath(directory)
    seen_dirs: set[tuple[int, int]] = set()  # (device, inode): a followed symlink loop is entered once
    stack: list[str] = [""]
    while stack:
        rel_dir = stack.pop()
        try:
            with os.scandir(os.path.join(root, rel_dir)) as listing:  # noqa: PTH118 - str paths: hot loop
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            stats.unreadable.append(f"{rel_dir or '.'}: {exc.strerror}")
            continue
        subdirs = []
        for entry in entries:
            relpath = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                if entry.is_symlink() and not follow_symlinks:
                    stats.symlinks_skipped += 1
                    continue
                if entry.is_dir(follow_symlinks=follow_symlinks):
                    info = entry.stat(follow_symlinks=follow_symlinks)
                    if (info.st_dev, info.st_ino) not in seen_dirs:
                        seen_dirs.add((info.st_dev, info.st_ino))
                        subdirs.append(relpath)
                    continue
                if not entry.is_file(follow_symlinks=follow_symlinks):
                    continue  # sockets, fifos, devices, dangling links
                if not matches(relpath, include) or matches(relpath, exclude):
                    stats.excluded += 1
                    continue
                info = entry.stat(follow_symlinks=follow_symlinks)
            except OSError as exc:
                stats.unreadable.append(f"{relpath}: {exc.strerror}")
                continue
            stats.files += 1
            stats.bytes += info.st_size
            yield LocalFile(relpath=relpath, size=info.st_size, mtime_ns=info.st_mtime_ns)
        stack.extend(reversed(subdirs))
