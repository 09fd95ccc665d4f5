"""The engine's archive API (GET/HEAD/PUT /containers/{id}/archive): a path's stat, a streamed tar of it,
and a tar put into a directory. Works on stopped containers and images without a shell.

Streams are never read whole: `open_archive` hands out a file object over the HTTP body, and closing it
(at the end of the `with`, or on cancellation, which shuts the call's connections) ends the transfer.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import IO, Any

from mcp_docker.docker.library_internals import api_get, api_put, api_url, raise_for_status
from mcp_docker.utils.errors import MCPDockerError, engine_errors
from mcp_docker.utils.text import clean_text

_DIR = 1 << 31
_SYMLINK = 1 << 27
_OTHER = (1 << 26) | (1 << 25) | (1 << 24) | (1 << 23) | (1 << 22) | (1 << 21)  # device, pipe, socket...


class PathNotFound(MCPDockerError):
    """A path that does not exist in the container."""

    hint = "List the parent directory with docker_list_files to see what exists."


class PathUnresolvable(MCPDockerError):
    """A path the engine cannot resolve (it answers 500): a link that loops, a file taken for a directory."""

    hint = (
        "A symbolic link that loops or leads through itself, or a '/' after a file's name, does this, and "
        "retrying will not help: list the parent directory with docker_list_files to see what is there and "
        "where its links point."
    )


# /proc, /sys and /dev are mounted inside the running container; the archive API reads its filesystem
# (and volumes) from the engine's side, where they are not.
_KERNEL_MOUNTS = ("/proc", "/sys", "/dev")
# The engine names the container's root filesystem by its path on the host (an overlay2 layer's merged
# directory); the path inside the container is what the model asked about.
_HOST_ROOTFS = re.compile(r"/\S*?/merged(?=/)")


@dataclass(frozen=True)
class PathStat:
    """The engine's view of a path (X-Docker-Container-Path-Stat): Go's FileMode bits."""

    name: str
    size: int
    mode: int
    mtime: str
    link_target: str

    @property
    def is_dir(self) -> bool:
        return bool(self.mode & _DIR)

    @property
    def is_symlink(self) -> bool:
        return bool(self.mode & _SYMLINK)

    @property
    def is_file(self) -> bool:
        return not self.mode & (_DIR | _SYMLINK | _OTHER)


def _stat(header: str | None) -> PathStat | None:
    if not header:
        return None
    data: dict[str, Any] = json.loads(base64.b64decode(header))
    return PathStat(
        name=str(data.get("name", "")),
        size=int(data.get("size") or 0),
        mode=int(data.get("mode") or 0),
        mtime=str(data.get("mtime") or ""),
        link_target=str(data.get("linkTarget") or ""),
    )


def container_id(api: Any, container: str) -> tuple[str, str]:
    """(id, name) of a container; a missing one is ContainerNotFound (so a later 404 means the path)."""
    with engine_errors("container", container):
        data = api.inspect_container(container)
    return str(data["Id"]), str(data["Name"]).lstrip("/")


def _url(api: Any, cid: str) -> str:
    return api_url(api, "/containers/{0}/archive", cid)


def _missing(path: str, container: str) -> PathNotFound:
    message = f"No such path {path!r} in container {container!r}."
    top = "/" + path.lstrip("/").split("/")[0]
    if top in _KERNEL_MOUNTS:
        return PathNotFound(
            message,
            f"{top} is mounted inside the running container, where the engine's archive API does not look: "
            "read it with docker_exec_command (e.g. cat).",
        )
    return PathNotFound(message)


def _refused(api: Any, res: Any, path: str, container: str) -> None:
    """Raise for a failed archive response: 404 the path is missing, 500 it cannot be resolved (with the
    engine's explanation, read from the body), anything else as the engine said."""
    if res.status_code == 404:
        raise _missing(path, container)
    if res.status_code == 500:
        said = ""
        with suppress(ValueError, AttributeError):  # no JSON body: the engine's status alone
            said = str(json.loads(res.raw.read(4096, decode_content=True) or b"{}").get("message") or "")
        said = clean_text(_HOST_ROOTFS.sub("", said), max_bytes=500).strip().rstrip(".")
        raise PathUnresolvable(
            f"The engine could not resolve {path!r} in container {container!r}" + (f": {said}." if said else ".")
        )
    raise_for_status(api, res)


def head_stat(api: Any, cid: str, path: str, container: str) -> PathStat:
    """HEAD /containers/{id}/archive?path=: the stat of `path` (a symlink's own, unless `path` ends in '/').

    A HEAD answer has no body, so a failure the engine explains (a 500) is asked again with GET, whose
    body says why; its stat serves if it succeeds this time."""
    with engine_errors("container", container):
        res = api.head(_url(api, cid), params={"path": path})
        if res.status_code == 500:
            res.close()
            res = api_get(api, _url(api, cid), params={"path": path}, stream=True)
        try:
            if not res.ok:
                _refused(api, res, path, container)
        finally:
            res.close()
    stat = _stat(res.headers.get("X-Docker-Container-Path-Stat"))
    if stat is None:  # pragma: no cover - every engine sends it
        raise _missing(path, container)
    return stat


class _Body:
    """A file object over an HTTP body, for tarfile's stream mode."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._raw.read(None if size < 0 else size, decode_content=True)
        return data


@contextmanager
def open_archive(api: Any, cid: str, path: str, container: str) -> Iterator[tuple[PathStat, IO[bytes]]]:
    """GET /containers/{id}/archive?path=: the path's stat and a stream of its tar; closed on leaving."""
    with engine_errors("container", container):
        res = api_get(api, _url(api, cid), params={"path": path}, stream=True, headers={"Accept-Encoding": "identity"})
    try:
        with engine_errors("container", container):
            if not res.ok:
                _refused(api, res, path, container)
        stat = _stat(res.headers.get("X-Docker-Container-Path-Stat"))
        if stat is None:  # pragma: no cover
            raise _missing(path, container)
        with engine_errors("container", container):
            yield stat, _Body(res.raw)  # type: ignore[misc]
    finally:
        res.close()


def put_archive(api: Any, cid: str, path: str, data: IO[bytes], container: str) -> None:
    """PUT /containers/{id}/archive?path=&noOverwriteDirNonDir=true: unpack a tar into the directory `path`."""
    with engine_errors("container", container):
        res = api_put(
            api,
            _url(api, cid),
            params={"path": path, "noOverwriteDirNonDir": "true"},
            data=data,
            headers={"Content-Type": "application/x-tar"},
        )
        if res.status_code == 404:
            raise _missing(path, container)
        raise_for_status(api, res)
