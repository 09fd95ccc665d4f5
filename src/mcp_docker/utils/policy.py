"""The policy on container creation and exec, checked before anything reaches the engine.

Refused unless the operator's settings allow them: privileged mode, added capabilities, host
namespaces and `container:` modes, devices, unconfining security options, and bind mounts outside
`MCP_DOCKER_ALLOWED_BIND_ROOTS` (default: none). The docker socket is never mountable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from mcp_docker.config import Settings
from mcp_docker.utils.errors import UnsafeOperation

_NAMESPACE_OK = {None, "", "default", "private", "bridge", "none", "shareable"}
_DOCKER_SOCKETS = ("/var/run/docker.sock", "/run/docker.sock")


@dataclass
class ContainerRequest:
    """The parts of a container creation request that the policy looks at."""

    volumes: list[str] = field(default_factory=list)
    privileged: bool = False
    cap_add: list[str] = field(default_factory=list)
    network_mode: str | None = None
    pid_mode: str | None = None
    ipc_mode: str | None = None
    devices: list[str] = field(default_factory=list)
    security_opt: list[str] = field(default_factory=list)


def _refuse(what: str, setting: str) -> UnsafeOperation:
    return UnsafeOperation(
        f"Refused: {what}. Nothing was created.",
        f"The server's operator can allow it with {setting}; otherwise leave it out.",
    )


def _is_host_path(source: str) -> bool:
    return source.startswith(("/", ".", "~")) or "\\" in source


def _under(path: str, roots: list[str]) -> bool:
    for root in roots:
        real_root = os.path.realpath(os.path.expanduser(root))
        if path == real_root or path.startswith(real_root.rstrip("/") + "/"):
            return True
    return False


def check_bind_source(source: str, settings: Settings) -> None:
    """A host path may be mounted only below an allowed root, and the docker socket never."""
    real = os.path.realpath(os.path.expanduser(source))
    if real in _DOCKER_SOCKETS or real.endswith("/docker.sock") or os.path.basename(real) == "docker.sock":
        raise UnsafeOperation(
            f"Refused: mounting the Docker socket ({source}) gives the container control of the engine. "
            "Nothing was created.",
            "This is never allowed.",
        )
    if not _under(real, settings.allowed_bind_roots):
        raise _refuse(f"bind mount of host path {source!r}", "MCP_DOCKER_ALLOWED_BIND_ROOTS")


def check_container_request(request: ContainerRequest, settings: Settings) -> None:
    if request.privileged:
        raise _refuse("privileged mode", "a future MCP_DOCKER_ALLOW_PRIVILEGED setting")
    if request.cap_add:
        raise _refuse(f"added capabilities {request.cap_add}", "a future capability allow-list setting")
    for what, mode in (
        ("network mode", request.network_mode),
        ("pid mode", request.pid_mode),
        ("ipc mode", request.ipc_mode),
    ):
        if mode is not None and (mode == "host" or mode.startswith("container:")):
            raise _refuse(f"{what} {mode!r}", "a future host-namespace setting")
    if request.devices:
        raise _refuse(f"host devices {request.devices}", "a future devices setting")
    if request.security_opt:
        raise _refuse(f"security options {request.security_opt}", "a future security-options setting")
    for spec in request.volumes:
        source = spec.split(":", 1)[0]
        if _is_host_path(source):
            check_bind_source(source, settings)


def check_exec_request(argv: list[str], settings: Settings) -> None:
    """Exec arguments never reach a shell on the server; nothing more to refuse yet."""
    _ = (argv, settings)
