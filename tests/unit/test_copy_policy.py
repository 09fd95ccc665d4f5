"""Copy-out unpacking attacked with crafted archives (members no real file system can hold)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from mcp_docker.config import Settings
from mcp_docker.safety.copy_policy import unpack_into
from mcp_docker.utils.errors import UnsafeOperation


def _tar(*members: tuple[str, bytes, str, bytes | None]) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, kind, link, data in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = link
            info.size = len(data or b"")
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    buf.seek(0)
    return buf


CASES = {
    "dotdot": [("../../x", tarfile.REGTYPE, "", b"pwned")],
    "absolute": [("/tmp/x", tarfile.REGTYPE, "", b"pwned")],
    "abs-symlink": [("root", tarfile.SYMTYPE, "/", None)],
    "symlink-then-file": [("hop", tarfile.SYMTYPE, ".", None), ("hop/x", tarfile.REGTYPE, "", b"pwned")],
    "escaping-link-then-file": [("esc", tarfile.SYMTYPE, "../..", None), ("esc/x", tarfile.REGTYPE, "", b"pwned")],
    "hardlink": [("h", tarfile.LNKTYPE, "/etc/passwd", None)],
    "device": [("null", tarfile.CHRTYPE, "", None)],
    "fifo": [("p", tarfile.FIFOTYPE, "", None)],
    "twice": [("a", tarfile.REGTYPE, "", b"1"), ("a", tarfile.REGTYPE, "", b"2")],
    "good-then-bad": [("ok.txt", tarfile.REGTYPE, "", b"fine"), ("../x", tarfile.REGTYPE, "", b"pwned")],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_archive_refused_and_nothing_left(tmp_path: Path, case: str) -> None:
    dest = tmp_path / "a" / "b" / "dest"
    dest.mkdir(parents=True)
    with pytest.raises(UnsafeOperation, match="Refused"):
        unpack_into(_tar(*CASES[case]), str(dest), Settings(), overwrite=False)
    assert [str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")] == ["a", "a/b", "a/b/dest"]


def test_size_bound(tmp_path: Path) -> None:
    with pytest.raises(UnsafeOperation, match="MCP_DOCKER_MAX_COPY_BYTES"):
        unpack_into(
            _tar(("big", tarfile.REGTYPE, "", b"x" * 5000)), str(tmp_path), Settings(max_copy_bytes=4096), False
        )
    assert list(tmp_path.iterdir()) == []


def test_existing_link_in_destination_not_written_through(tmp_path: Path) -> None:
    dest, outside = tmp_path / "dest", tmp_path / "outside"
    dest.mkdir()
    outside.mkdir()
    (dest / "d").symlink_to(outside)
    with pytest.raises(UnsafeOperation, match="not a directory"):
        unpack_into(
            _tar(("d", tarfile.DIRTYPE, "", None), ("d/x", tarfile.REGTYPE, "", b"1")), str(dest), Settings(), True
        )
    assert list(outside.iterdir()) == []


def test_inside_links_and_files_land(tmp_path: Path) -> None:
    done = unpack_into(
        _tar(
            ("d", tarfile.DIRTYPE, "", None), ("d/f", tarfile.REGTYPE, "", b"ok"), ("d/l", tarfile.SYMTYPE, "f", None)
        ),
        str(tmp_path),
        Settings(),
        False,
    )
    assert (tmp_path / "d" / "f").read_bytes() == b"ok" and (tmp_path / "d" / "l").readlink() == Path("f")
    assert (done.files, done.links, done.dirs) == (1, 1, 1)
