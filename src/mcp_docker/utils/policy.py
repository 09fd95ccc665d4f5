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

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mcp_docker.config import Settings, normalise_capability
from mcp_docker.utils import validation
from mcp_docker.utils.errors import UnsafeOperation, ValidationError

_NAMESPACE_OK = {"", "default", "private", "bridge", "none", "shareable"}
_ENGINE_SOCKETS = (
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/var/run/containerd/containerd.sock",
)
_SOCKET_NAMES = ("docker.sock", "containerd.sock")
_VOLUME_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
_SAFE_SECURITY_OPTS = {"no-new-privileges", "no-new-privileges=true"}
SHELLS = {"sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish"}

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


def _refuse(what: str, setting: str) -> UnsafeOperation:
    return UnsafeOperation(
        f"Refused: {what}. Nothing was created.",
        f"The server's operator can allow it with {setting}; otherwise leave it out.",
    )


def _resolve(path: str) -> str:
    real = os.path.realpath(os.path.expanduser(path))
    return "/" + real.lstrip("/") if real.startswith("/") else real


def _under(path: str, roots: list[str]) -> bool:
    for root in roots:
        real_root = _resolve(root)
        if path == real_root or path.startswith(real_root.rstrip("/") + "/"):
            return True
    return False


def _engine_sockets() -> set[str]:
    paths = set(_ENGINE_SOCKETS)
    host = os.environ.get("DOCKER_HOST", "")
    if host.startswith("unix://"):
        paths.add(host[len("unix://") :])
    return paths | {_resolve(p) for p in paths}


def _exposes_socket(real: str) -> bool:
    if os.path.basename(real) in _SOCKET_NAMES:
        return True
    prefix = real.rstrip("/") + "/"
    return any(sock == real or sock.startswith(prefix) for sock in _engine_sockets())


def check_bind_source(source: str, settings: Settings, how: str = "bind mount") -> None:
    """A host path may be mounted only below an allowed root, and the engine's socket never."""
    real = _resolve(source)
    if _exposes_socket(real):
        raise UnsafeOperation(
            f"Refused: {how} of {source!r} exposes the Docker socket (the engine's control channel), "
            "which gives the container "
            "control of the host. Nothing was created.",
            "This is never allowed, whatever MCP_DOCKER_ALLOWED_BIND_ROOTS says.",
        )
    if not _under(real, settings.allowed_bind_roots):
        resolved = f" (resolves to {real})" if real != source else ""
        raise _refuse(f"{how} of host path {source!r}{resolved}", "MCP_DOCKER_ALLOWED_BIND_ROOTS")


def check_build_context(path: str, settings: Settings) -> None:
    """A build context's files go to the engine and can be copied into an image (then read with exec),
    so, like a bind mount, it must lie under an allowed root (build roots or bind roots)."""
    real = _resolve(path)
    if not _under(real, [*settings.allowed_build_roots, *settings.allowed_bind_roots]):
        raise _refuse(
            f"building from {path!r} (a build context's files are sent to the engine and can be copied into an image)",
            "MCP_DOCKER_ALLOWED_BUILD_ROOTS (or MCP_DOCKER_ALLOWED_BIND_ROOTS)",
        )


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
            raise _refuse(f"mount type {mount.type!r}", "nothing (use bind, volume or tmpfs)")


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
        raise _refuse(f"{what} {mode!r} (shares a namespace outside the container)", "MCP_DOCKER_ALLOW_HOST_NAMESPACES")


def _check_network(what: str, name: str | None, network_driver: NetworkDriver | None) -> None:
    if name is None:
        return
    _namespace_mode(what, name)
    normal = name.strip().lower()
    if normal in _NAMESPACE_OK or network_driver is None:
        return
    if network_driver(name) == "host":
        raise _refuse(
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
        raise _refuse("privileged mode (full access to the host)", "MCP_DOCKER_ALLOW_PRIVILEGED=true")
    allowed_caps = set(settings.allowed_capabilities)
    if "ALL" not in allowed_caps:
        extra = sorted({normalise_capability(c) for c in request.cap_add} - allowed_caps)
        if extra:
            raise _refuse(f"added capabilities {extra}", "MCP_DOCKER_ALLOWED_CAPABILITIES")
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
        raise _refuse(f"host devices {request.devices}", "MCP_DOCKER_ALLOW_DEVICES=true")
    if not settings.allow_unconfined:
        unsafe = [o for o in request.security_opt if _normal_security_opt(o) not in _SAFE_SECURITY_OPTS]
        if unsafe:
            raise _refuse(
                f"security options {unsafe} (only no-new-privileges is allowed by default)",
                "MCP_DOCKER_ALLOW_UNCONFINED=true",
            )
    _check_mounts(request, settings, volume_options)


_SHELL_CHARS = set(";|&<>\n`")


def shell_syntax(command: str) -> str | None:
    """The first piece of shell syntax in `command` outside single quotes, or None.

    Commands are split like a shell would split words, but never run by one: `;`, `|`, `&`, `<`, `>`,
    a newline, backticks, `$(...)`, `${...}` and `$VAR` would reach the program as literal text, so a
    string that uses them is refused instead of being run with a meaning nobody intended.
    """
    quote: str | None = None
    escaped = False
    for i, char in enumerate(command):
        if escaped:
            escaped = False
            continue
        if char == "\\" and quote != "'":
            escaped = True
            continue
        if quote == "'":
            if char == "'":
                quote = None
            continue
        if char == "$" and i + 1 < len(command) and (command[i + 1] in "({" or command[i + 1].isalpha()):
            return command[i : i + 2]
        if char == "`":
            return char
        if quote == '"':
            if char == '"':
                quote = None
            continue
        if char in "'\"":
            quote = char
        elif char in _SHELL_CHARS:
            return char
    return None


def check_command_string(command: str) -> None:
    found = shell_syntax(command)
    if found is not None:
        raise UnsafeOperation(
            f"Refused: the command string uses shell syntax ({found!r}), but commands are never run by a "
            "shell, so it would not do what it says. Nothing was run.",
            "Pass the program and its arguments as a list; if a shell is really wanted, pass it "
            "explicitly as a list, e.g. ['sh', '-c', '...'] (allowed unless MCP_DOCKER_ALLOW_EXEC_SHELL=false).",
        )


def explicit_shell(argv: list[str]) -> bool:
    """True when argv runs a shell with a command string (`sh -c`, `/bin/bash -ec`, `busybox sh -c`)."""
    for i, arg in enumerate(argv):
        if os.path.basename(arg) in SHELLS and any(re.fullmatch(r"-[a-z]*c[a-z]*", a) for a in argv[i + 1 :]):
            return True
    return False


def check_exec_request(argv: list[str], settings: Settings) -> None:
    """Exec runs argv directly (never through a shell on the server); an explicit shell is the caller's
    visible choice, refused only when the operator says so."""
    if explicit_shell(argv) and not settings.allow_exec_shell:
        raise UnsafeOperation(
            f"Refused: running a shell command string ({argv[:2]}...). Nothing was run.",
            "Pass the program and its arguments directly, or ask the operator to set MCP_DOCKER_ALLOW_EXEC_SHELL=true.",
        )


_MOUNT_KEYS = {
    "type": "type",
    "source": "source",
    "src": "source",
    "target": "target",
    "destination": "target",
    "dst": "target",
    "read_only": "read_only",
    "readonly": "read_only",
    "ro": "read_only",
    "driver": "driver",
    "driver_opts": "driver_opts",
    "driveropts": "driver_opts",
}


class MountSpec(BaseModel):
    """A mount as `mounts` takes it. Keys are matched whatever their case, in the API's spelling too
    (`Type`, `Source`/`src`, `Target`/`destination`, `ReadOnly`, `VolumeOptions.DriverConfig`)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["bind", "volume", "tmpfs"] = Field(
        "volume", description="bind (a host path: refused outside MCP_DOCKER_ALLOWED_BIND_ROOTS), volume or tmpfs."
    )
    source: str | None = Field(None, description="Host path (bind) or volume name (volume); none for tmpfs.")
    target: str = Field(description="Absolute path inside the container.", min_length=1)
    read_only: bool = Field(False, description="Mount read-only.")
    driver: str | None = Field(None, description="Volume driver (type=volume only).")
    driver_opts: dict[str, str] | None = Field(
        None, description="Volume driver options (type=volume only); binds in disguise are policy-checked."
    )

    @model_validator(mode="before")
    @classmethod
    def _normalise_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out: dict[str, Any] = {}
        for key, value in data.items():
            low = str(key).strip().lower().replace("-", "_")
            if low == "volumeoptions" and isinstance(value, dict):
                config = {str(k).lower(): v for k, v in value.items()}.get("driverconfig") or {}
                config = {str(k).lower(): v for k, v in config.items()} if isinstance(config, dict) else {}
                out["driver"] = config.get("name")
                out["driver_opts"] = config.get("options")
                continue
            name = _MOUNT_KEYS.get(low, str(key))
            out[name] = value.strip().lower() if name == "type" and isinstance(value, str) else value
        return out

    @model_validator(mode="after")
    def _valid(self) -> MountSpec:
        try:
            validation.container_path(self.target, "mount target")
            if self.type == "volume" and self.source:
                validation.volume_name(self.source)
        except ValidationError as exc:
            raise ValueError(exc.message) from None
        return self

    def request(self) -> MountRequest:
        return MountRequest(
            type=self.type,
            target=self.target,
            source=self.source,
            driver=self.driver,
            driver_opts=dict(self.driver_opts or {}),
        )
