"""The policy on container creation and exec, checked before anything reaches the engine.

Refused unless the operator's settings allow them (each refusal names its setting):

- privileged mode (`MCP_DOCKER_ALLOW_PRIVILEGED`);
- added capabilities outside `MCP_DOCKER_ALLOWED_CAPABILITIES` (default: Docker's own default set, so
  re-adding one changes nothing); names are normalised like the engine does (case, `CAP_` prefix);
- `host` and `container:` modes for network, pid, ipc, uts, userns and cgroupns, and attaching to a
  network whose driver is `host` (`MCP_DOCKER_ALLOW_HOST_NAMESPACES`);
- host devices (`MCP_DOCKER_ALLOW_DEVICES`);
- security options other than no-new-privileges (`MCP_DOCKER_ALLOW_UNCONFINED`): seccomp, apparmor,
  label and systempaths options are how a container is unconfined;
- host paths outside `MCP_DOCKER_ALLOWED_BIND_ROOTS` (default: none) in every form a mount can take:
  `volumes` strings, the `volumes` mapping, `mounts` of type bind, and volumes whose driver options
  make them binds in disguise (`o=bind`, `type=none`, a `device` that is a host path). Paths are
  resolved (`~`, `..`, symlinks, repeated and trailing slashes) before they are compared.
- The Docker (or containerd) socket, and any directory holding it, is never mountable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mcp_docker.config import Settings, normalise_capability
from mcp_docker.safety.host_paths import check_bind_source, refuse

_NAMESPACE_OK = {"", "default", "private", "bridge", "none", "shareable"}
_VOLUME_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
_SAFE_SECURITY_OPTS = {"no-new-privileges", "no-new-privileges=true"}

NetworkDriver = Callable[[str], str | None]
"""Looks up the driver of a network by name or id (None when it does not exist)."""
VolumeOptions = Callable[[str], Mapping[str, str] | None]
"""Looks up the driver options of an existing volume (None when it does not exist)."""


@dataclass
class MountRequest:
    """One entry of `mounts`, with keys already normalised."""

    type: str
    target: str
    source: str | None = None
    driver: str | None = None
    driver_opts: dict[str, str] = field(default_factory=dict)


@dataclass
class ContainerRequest:
    """The parts of a container creation request that the policy looks at."""

    volumes: list[str] | Mapping[str, Any] = field(default_factory=list)
    mounts: list[MountRequest] = field(default_factory=list)
    privileged: bool = False
    cap_add: list[str] = field(default_factory=list)
    network: str | None = None
    network_mode: str | None = None
    pid_mode: str | None = None
    ipc_mode: str | None = None
    uts_mode: str | None = None
    userns_mode: str | None = None
    cgroupns: str | None = None
    devices: list[str] = field(default_factory=list)
    security_opt: list[str] = field(default_factory=list)


def _is_volume_name(source: str) -> bool:
    return bool(_VOLUME_NAME.match(source))


def check_volume_driver_opts(driver: str | None, opts: Mapping[str, str] | None, settings: Settings) -> None:
    """Volume driver options of the local driver that mount a host path (`o=bind`, `type=none`, or a
    `device` that is a host path) are bind mounts in disguise: the same rules apply to their device."""
    if driver not in (None, "", "local") or not opts:
        return
    lowered = {str(k).strip().lower(): str(v).strip() for k, v in opts.items()}
    device = lowered.get("device", "")
    options = {o.strip().lower() for o in lowered.get("o", "").split(",")}
    is_bind = "bind" in options or "rbind" in options or lowered.get("type", "").lower() == "none"
    if device.startswith(("/", "~", ".")) or (is_bind and device):
        check_bind_source(device, settings, "volume driver options binding")


def _check_bind_spec(spec: str, settings: Settings, volume_options: VolumeOptions | None) -> None:
    parts = spec.split(":")
    if len(parts) < 2:  # only a target: an anonymous volume
        return
    source = parts[0]
    if _is_volume_name(source):
        _check_named_volume(source, settings, volume_options)
    else:
        check_bind_source(source, settings)


def _check_named_volume(name: str, settings: Settings, volume_options: VolumeOptions | None) -> None:
    """An existing volume created with bind options is a host path under another name."""
    if volume_options is None:
        return
    opts = volume_options(name)
    if opts:
        check_volume_driver_opts(None, opts, settings)


def _check_mounts(request: ContainerRequest, settings: Settings, volume_options: VolumeOptions | None) -> None:
    volumes = request.volumes
    if isinstance(volumes, Mapping):
        for source, target in volumes.items():
            _check_bind_spec(f"{source}:{target if isinstance(target, str) else '/'}", settings, volume_options)
    else:
        for spec in volumes:
            _check_bind_spec(spec, settings, volume_options)
    for mount in request.mounts:
        kind = mount.type.strip().lower()
        if kind == "bind":
            check_bind_source(mount.source or "", settings)
        elif kind == "volume":
            check_volume_driver_opts(mount.driver, mount.driver_opts, settings)
            if mount.source and not mount.driver_opts:
                _check_named_volume(mount.source, settings, volume_options)
        elif kind != "tmpfs":
            raise refuse(f"mount type {mount.type!r}", "nothing (use bind, volume or tmpfs)")


def _namespace_mode(what: str, mode: str | None) -> None:
    if mode is None:
        return
    normal = mode.strip().lower()
    if normal in _NAMESPACE_OK:
        return
    if (
        normal == "host"
        or normal.startswith("container:")
        or normal.startswith("ns:")
        or not what.startswith("network")
    ):
        raise refuse(f"{what} {mode!r} (shares a namespace outside the container)", "MCP_DOCKER_ALLOW_HOST_NAMESPACES")


def _check_network(what: str, name: str | None, network_driver: NetworkDriver | None) -> None:
    if name is None:
        return
    _namespace_mode(what, name)
    normal = name.strip().lower()
    if normal in _NAMESPACE_OK or network_driver is None:
        return
    if network_driver(name) == "host":
        raise refuse(
            f"{what} {name!r}: that network uses the host driver (the host's network namespace)",
            "MCP_DOCKER_ALLOW_HOST_NAMESPACES",
        )


def _normal_security_opt(option: str) -> str:
    text = option.strip().lower()
    key, sep, value = text.partition("=") if "=" in text else text.partition(":")
    return f"{key.strip()}={value.strip()}" if sep else key.strip()


def check_container_request(
    request: ContainerRequest,
    settings: Settings,
    *,
    network_driver: NetworkDriver | None = None,
    volume_options: VolumeOptions | None = None,
) -> None:
    """Raise `UnsafeOperation` naming what is refused and the setting that would allow it."""
    if request.privileged and not settings.allow_privileged:
        raise refuse("privileged mode (full access to the host)", "MCP_DOCKER_ALLOW_PRIVILEGED=true")
    allowed_caps = set(settings.allowed_capabilities)
    if "ALL" not in allowed_caps:
        extra = sorted({normalise_capability(c) for c in request.cap_add} - allowed_caps)
        if extra:
            raise refuse(f"added capabilities {extra}", "MCP_DOCKER_ALLOWED_CAPABILITIES")
    if not settings.allow_host_namespaces:
        _check_network("network mode", request.network_mode, network_driver)
        _check_network("network", request.network, network_driver)
        for what, mode in (
            ("pid mode", request.pid_mode),
            ("ipc mode", request.ipc_mode),
            ("uts mode", request.uts_mode),
            ("userns mode", request.userns_mode),
            ("cgroupns mode", request.cgroupns),
        ):
            _namespace_mode(what, mode)
    if request.devices and not settings.allow_devices:
        raise refuse(f"host devices {request.devices}", "MCP_DOCKER_ALLOW_DEVICES=true")
    if not settings.allow_unconfined:
        unsafe = [o for o in request.security_opt if _normal_security_opt(o) not in _SAFE_SECURITY_OPTS]
        if unsafe:
            raise refuse(
                f"security options {unsafe} (only no-new-privileges is allowed by default)",
                "MCP_DOCKER_ALLOW_UNCONFINED=true",
            )
    _check_mounts(request, settings, volume_options)
