"""docker/archive.py's reading of the engine's X-Docker-Container-Path-Stat header (base64 JSON of Go's
os.FileMode bits): file, directory, symlink and special files told apart; no header is no stat. And its
answers to a failed stat: a bodiless 500 asked again for the engine's reason, a 404 a missing path."""

from __future__ import annotations

import base64
import json

import pytest

from mcp_docker.docker.archive import PathNotFound, PathUnresolvable, _stat, head_stat

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


class _Response:
    def __init__(self, status: int, body: bytes = b"", header: str | None = None) -> None:
        self.status_code, self.ok = status, status < 400
        self.headers = {"X-Docker-Container-Path-Stat": header} if header else {}
        self._body = body
        self.closed = False
        self.raw = self

    def read(self, size: int, decode_content: bool = False) -> bytes:
        return self._body[:size]

    def close(self) -> None:
        self.closed = True


class _Api:
    """The two calls head_stat makes: HEAD, then (after a bodiless 500) the same GET for the reason."""

    def __init__(self, head: _Response, get: _Response) -> None:
        self.head_response, self.get_response = head, get
        self.gets = 0

    def _url(self, template: str, *args: str) -> str:
        return template.format(*args)

    def head(self, url: str, params: dict[str, str]) -> _Response:
        return self.head_response

    def _get(self, url: str, **kwargs: object) -> _Response:
        self.gets += 1
        return self.get_response


def test_a_bodiless_500_is_asked_again_and_its_stat_or_reason_used() -> None:
    api = _Api(_Response(500), _Response(200, header=FILE_HEADER))
    stat = head_stat(api, "cid", "/x", "web")
    assert api.gets == 1 and stat.is_file and stat.size == 3 and api.get_response.closed
    api = _Api(_Response(500), _Response(500, b"<html>proxy error</html>"))
    with pytest.raises(PathUnresolvable) as caught:
        head_stat(api, "cid", "/x", "web")
    assert caught.value.message == "The engine could not resolve '/x' in container 'web'."
    assert api.get_response.closed
    body = b'{"message":"lstat /var/lib/docker/overlay2/abc/merged/x/y: not a directory"}'
    with pytest.raises(PathUnresolvable) as caught:
        head_stat(_Api(_Response(500), _Response(500, body)), "cid", "/x/y", "web")
    said = "lstat /x/y: not a directory."  # the host's path of the container's files cut
    assert caught.value.message == f"The engine could not resolve '/x/y' in container 'web': {said}"


def test_a_404_is_missing_and_the_kernel_mounts_say_to_use_exec() -> None:
    api = _Api(_Response(404), _Response(200))
    with pytest.raises(PathNotFound) as caught:
        head_stat(api, "cid", "/devices/x", "web")
    assert api.gets == 0 and "docker_list_files" in caught.value.hint
    for path in ("/sys", "/proc/1/status", "/dev/null"):
        with pytest.raises(PathNotFound) as caught:
            head_stat(api, "cid", path, "web")
        assert f"/{path.split('/')[1]} is mounted inside the running container" in caught.value.hint
        assert "docker_exec_command" in caught.value.hint
