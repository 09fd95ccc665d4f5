"""docker/archive.py's reading of the engine's X-Docker-Container-Path-Stat header (base64 JSON of Go's
os.FileMode bits): file, directory, symlink and special files told apart; no header is no stat."""

from __future__ import annotations

import base64
import json

import pytest

from mcp_docker.docker.archive import _stat

# A header as Docker 20.10 sent it for a 3-byte file (mode 0644).
FILE_HEADER = (
    "eyJuYW1lIjoiYiIsInNpemUiOjMsIm1vZGUiOjQyMCwibXRpbWUiOiIyMDI2LTEyLTAy"
    "VDE3OjQ2OjAwLjk4NTUxOTU0WiIsImxpbmtUYXJnZXQiOiIifQ=="
)


def _header(**fields: object) -> str:
    return base64.b64encode(json.dumps(fields).encode()).decode()


def test_a_real_engine_header_is_a_regular_file() -> None:
    stat = _stat(FILE_HEADER)
    assert stat is not None
    assert (stat.name, stat.size, stat.mode, stat.link_target) == ("b", 3, 0o644, "")
    assert stat.mtime.startswith("2026-12-02T17:46:00")
    assert (stat.is_file, stat.is_dir, stat.is_symlink) == (True, False, False)


@pytest.mark.parametrize(
    ("mode", "kind"),
    [
        ((1 << 31) | 0o755, "dir"),
        ((1 << 27) | 0o777, "symlink"),
        ((1 << 26) | (1 << 21) | 0o666, "other"),  # a character device
        ((1 << 25) | 0o644, "other"),  # a named pipe
        ((1 << 24) | 0o755, "other"),  # a socket
    ],
)
def test_mode_bits_tell_the_kind(mode: int, kind: str) -> None:
    stat = _stat(_header(name="x", size=0, mode=mode, mtime="", linkTarget="/elsewhere"))
    assert stat is not None
    seen = "dir" if stat.is_dir else "symlink" if stat.is_symlink else "file" if stat.is_file else "other"
    assert seen == kind
    assert stat.link_target == "/elsewhere"


def test_missing_fields_default_and_no_header_is_no_stat() -> None:
    stat = _stat(_header(name="y"))
    assert stat is not None and (stat.size, stat.mode, stat.mtime, stat.link_target) == (0, 0, "", "")
    assert _stat(None) is None
    assert _stat("") is None
