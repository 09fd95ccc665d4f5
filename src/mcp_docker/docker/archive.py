"""The engine's archive API (GET/HEAD/PUT /containers/{id}/archive): a path's stat, a streamed tar of it,
and a tar put into a directory. Works on stopped containers and images without a shell.

Streams are never read whole: `open_archive` hands out a file object over the HTTP body, and closing it
(at the end of the `with`, or on cancellation, which shuts the call's connections) ends the transfer.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from mcp_docker.docker.library_internals import api_get, api_put, api_url, raise_for_status
from mcp_docker.utils.errors import MCPDockerError, engine_errors

_DIR = 1 << 31
_SYMLINK = 1 << 27
_OTHER = (1 << 26) | (1 << 25) | (1 << 24) | (1 << 23) | (1 << 22) | (1 << 21)  # device, pipe, socket...


class PathNotFound(MCPDockerError):
    """A path that does not exist in the container."""

    hint = "List the parent directory with docker_list_files to see what exists."


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
    return PathNotFound(f"No such path {path!r} in container {container!r}.")


def head_stat(api: Any, cid: str, path: str, container: str) -> PathStat:
    """HEAD /containers/{id}/archive?path=: the stat of `path` (a symlink's own, unless `path` ends in '/')."""
    with engine_errors("container", container):
        res = api.head(_url(api, cid), params={"path": path})
        if res.status_code == 404:
            raise _missing(path, container)
        raise_for_status(api, res)
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
            if res.status_code == 404:
                raise _missing(path, container)
            raise_for_status(api, res)
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
