"""The root policy for host paths: bind mounts, volumes that bind, build contexts, file copies.

A host path is allowed only below an allowed root, after `~`, `..`, symlinks and repeated slashes are
resolved; the Docker (or containerd) socket, and any directory holding it, never.
"""

from __future__ import annotations

import os

from mcp_docker.config import Settings
from mcp_docker.utils.errors import UnsafeOperation

_ENGINE_SOCKETS = (
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/var/run/containerd/containerd.sock",
)
_SOCKET_NAMES = ("docker.sock", "containerd.sock")


def refuse(what: str, setting: str) -> UnsafeOperation:
    return UnsafeOperation(
        f"Refused: {what}. Nothing was created.",
        f"The server's operator can allow it with {setting}; otherwise leave it out.",
    )


def resolve(path: str) -> str:
    real = os.path.realpath(os.path.expanduser(path))
    return "/" + real.lstrip("/") if real.startswith("/") else real


def under(path: str, roots: list[str]) -> bool:
    for root in roots:
        real_root = resolve(root)
        if path == real_root or path.startswith(real_root.rstrip("/") + "/"):
            return True
    return False


def _engine_sockets() -> set[str]:
    paths = set(_ENGINE_SOCKETS)
    host = os.environ.get("DOCKER_HOST", "")
    if host.startswith("unix://"):
        paths.add(host[len("unix://") :])
    return paths | {resolve(p) for p in paths}


def _exposes_socket(real: str) -> bool:
    if os.path.basename(real) in _SOCKET_NAMES:
        return True
    prefix = real.rstrip("/") + "/"
    return any(sock == real or sock.startswith(prefix) for sock in _engine_sockets())


def check_bind_source(source: str, settings: Settings, how: str = "bind mount of") -> None:
    """A host path may be mounted (or copied from or into, `how` says which) only below an allowed root,
    and the engine's socket never."""
    real = resolve(source)
    if _exposes_socket(real):
        raise UnsafeOperation(
            f"Refused: {how} {source!r} exposes the Docker socket (the engine's control channel), which is "
            "control of the host. Nothing was created.",
            "This is never allowed, whatever MCP_DOCKER_ALLOWED_BIND_ROOTS says.",
        )
    if not under(real, settings.allowed_bind_roots):
        resolved = f" (resolves to {real})" if real != source else ""
        raise refuse(f"{how} host path {source!r}{resolved}", "MCP_DOCKER_ALLOWED_BIND_ROOTS")


def check_build_context(path: str, settings: Settings) -> None:
    """A build context's files go to the engine and can be copied into an image (then read with exec),
    so, like a bind mount, it must lie under an allowed root (build roots or bind roots)."""
    real = resolve(path)
    if not under(real, [*settings.allowed_build_roots, *settings.allowed_bind_roots]):
        raise refuse(
            f"building from {path!r} (a build context's files are sent to the engine and can be copied into an image)",
            "MCP_DOCKER_ALLOWED_BUILD_ROOTS (or MCP_DOCKER_ALLOWED_BIND_ROOTS)",
        )
