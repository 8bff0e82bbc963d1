"""The .env writer: 0600 from the first byte, other lines kept, our variables replaced or removed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from toolkit.credentials import dotenv
from toolkit.credentials.dotenv import DotenvError


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_file_is_0600_even_with_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        written = dotenv.update(tmp_path / ".env", {"A": "1", "B": "2"})
    finally:
        os.umask(old)
    assert written.created and not written.fixed_mode
    assert mode(tmp_path / ".env") == 0o600
    assert (tmp_path / ".env").read_text() == "A=1\nB=2\n"


def test_other_lines_are_kept_in_place_and_ours_replaced(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("# app settings\nDEBUG=1\nexport AWS_ACCESS_KEY_ID=OLD\n\nAWS_ACCESS_KEY_ID=DUPLICATE\nPORT=8000\n")
    path.chmod(0o600)
    written = dotenv.update(path, {"AWS_ACCESS_KEY_ID": "NEW", "AWS_REGION": "eu-west-1"})
    assert not written.created and not written.fixed_mode
    assert path.read_text() == (
        "# app settings\nDEBUG=1\nexport AWS_ACCESS_KEY_ID=NEW\n\nPORT=8000\nAWS_REGION=eu-west-1\n"
    )


def test_a_world_readable_file_is_fixed_and_reported(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("DEBUG=1\n")
    path.chmod(0o644)
    written = dotenv.update(path, {"X": "y"})
    assert written.fixed_mode and written.previous_mode == 0o644
    assert mode(path) == 0o600


def test_removing_every_variable_removes_the_file_but_not_other_lines(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    dotenv.update(path, {"A": "1", "B": "2"})
    assert dotenv.update(path, {"A": None, "B": None}).removed
    assert not path.exists()
    path.write_text("KEEP=1\nA=1\n")
    written = dotenv.update(path, {"A": None})
    assert not written.removed and path.read_text() == "KEEP=1\n"


def test_no_temporary_file_is_left_behind(tmp_path: Path) -> None:
    dotenv.update(tmp_path / ".env", {"A": "1"})
    dotenv.update(tmp_path / ".env", {"A": "2"})
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env"]


def test_a_symlinked_env_file_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "secrets" / "app.env"
    real.parent.mkdir()
    real.write_text("OTHER=1\n")
    link = tmp_path / ".env"
    link.symlink_to(real)
    dotenv.update(link, {"A": "1"})
    assert link.is_symlink() and real.read_text() == "OTHER=1\nA=1\n" and mode(real) == 0o600


def test_a_value_that_needs_quoting_is_refused_without_showing_it(tmp_path: Path) -> None:
    with pytest.raises(DotenvError) as caught:
        dotenv.update(tmp_path / ".env", {"SECRET": "has space s3cr3t"})
    assert "s3cr3t" not in caught.value.message and "SECRET" in caught.value.message
    assert not (tmp_path / ".env").exists()


def test_write_private_never_opens_an_existing_file(tmp_path: Path) -> None:
    made = dotenv.write_private(tmp_path, "A=1\n", prefix=".x-")
    assert mode(made) == 0o600 and made.read_text() == "A=1\n"
