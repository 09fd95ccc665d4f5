"""The engine gate's rules for what a container (or service task) mounts: bind strings, `Mounts`
entries, named volumes, and volume driver options.

- A bind source must be an absolute host path that resolves (symlinks, `..`, repeated slashes) under
  `MCP_DOCKER_ALLOWED_BIND_ROOTS`; the engine's socket (or a directory holding it) never.
- A named volume is checked by what it really is: an existing volume's driver and options are looked
  up, so a volume made elsewhere with `type=none,o=bind,device=/etc` is a bind of /etc.
- Volume driver options: only the `local` driver, and only two shapes of options are let through:
  `type=tmpfs` (device `tmpfs`, `o` made of size/uid/gid/mode/nr_inodes/nr_blocks), which is memory
  only, and `type=none,o=bind,device=PATH` whose PATH passes the bind rule above. Everything else
  (overlay with lowerdir=/etc, proc, sysfs, cgroup, nfs/cifs addresses, block devices, a relative
  device) is refused: the local driver hands them to mount(2) as the engine's root.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mcp_docker.config import Settings
from mcp_docker.safety.gate_base import NEVER, Facts, GateRefusal, check_fields, is_zero
from mcp_docker.safety.host_paths import _exposes_socket, resolve, under

BIND = "MCP_DOCKER_ALLOWED_BIND_ROOTS"
VOLUME_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
_TMPFS_OPTIONS = {"size", "uid", "gid", "mode", "nr_inodes", "nr_blocks"}
_BIND_OPTIONS = {"bind", "rbind", "ro", "rw"}
_SAFE_PROPAGATION = {"", "private", "rprivate", "slave", "rslave"}
_BIND_STRING_OPTIONS = {"ro", "rw", "z", "nocopy", "consistent", "cached", "delegated"} | _SAFE_PROPAGATION


def check_bind_source(source: Any, path: str, settings: Settings) -> None:
    """A host path: absolute, resolved under an allowed root, never the engine's socket."""
    if not isinstance(source, str) or not source.startswith("/"):
        raise GateRefusal(f"bind source {source!r} is not an absolute host path", path)
    real = resolve(source)
    if _exposes_socket(real):
        raise GateRefusal(
            f"bind of {source!r} exposes the Docker socket (the engine's control channel, so control of the host)",
            path,
        )
    if not under(real, settings.allowed_bind_roots):
        resolved = f" (resolves to {real})" if real != source else ""
        raise GateRefusal(f"bind of host path {source!r}{resolved} outside the allowed roots", path, BIND)


def _split_o(value: str) -> list[tuple[str, str]]:
    items = []
    for part in value.split(","):
        key, _, val = part.strip().partition("=")
        if key:
            items.append((key.strip().lower(), val.strip()))
    return items


def check_volume_driver(driver: Any, options: Any, path: str, settings: Settings) -> None:
    """A volume's driver and driver options (see the module's docstring for what is allowed)."""
    if driver not in (None, "", "local"):
        raise GateRefusal(f"volume driver {driver!r} (a plugin can mount anything; only 'local' is allowed)", path)
    if is_zero(options):
        return
    if not isinstance(options, Mapping):
        raise GateRefusal("volume driver options must be an object", path)
    opts = {str(k).strip().lower(): str(v).strip() for k, v in options.items()}
    unknown = sorted(set(opts) - {"type", "device", "o"})
    if unknown:
        raise GateRefusal(f"volume driver option(s) {unknown} of the local driver", f"{path}.{unknown[0]}")
    kind = opts.get("type", "").lower()
    device = opts.get("device", "")
    o = _split_o(opts.get("o", ""))
    if kind == "tmpfs":
        bad = [k for k, _ in o if k not in _TMPFS_OPTIONS]
        if device not in ("", "tmpfs") or bad:
            raise GateRefusal(
                f"tmpfs volume options device={device!r} o={opts.get('o', '')!r} (only device=tmpfs and "
                f"{sorted(_TMPFS_OPTIONS)} are allowed)",
                path,
            )
        return
    if kind == "none" and any(k in ("bind", "rbind") and not v for k, v in o):
        bad = [k for k, _ in o if k not in _BIND_OPTIONS]
        if bad:
            raise GateRefusal(f"bind volume mount options {bad}", f"{path}.o")
        check_bind_source(device, f"{path}.device", settings)
        return
    raise GateRefusal(
        f"volume driver options type={kind!r} device={device!r} o={opts.get('o', '')!r} (the local driver "
        "mounts them as root on the host; only type=tmpfs and type=none,o=bind with an allowed device are allowed)",
        path,
        NEVER if kind != "none" else BIND,
    )


def check_named_volume(name: str, path: str, facts: Facts, settings: Settings) -> None:
    """An existing volume is checked by its driver and options (a new one is a plain local volume)."""
    volume = facts.volume(name)
    if volume is None:
        return
    check_volume_driver(volume.get("Driver"), volume.get("Options"), f"{path} (volume {name!r})", settings)


def check_bind_string(spec: Any, path: str, facts: Facts, settings: Settings) -> None:
    """One `Binds` entry: 'source:target[:options]' (a named volume or a host path)."""
    if not isinstance(spec, str):
        raise GateRefusal("a bind must be a 'source:target[:options]' string", path)
    parts = spec.split(":")
    if len(parts) < 2:
        return  # only a target: an anonymous volume
    if len(parts) > 3:
        raise GateRefusal(f"bind {spec!r} has more than three parts", path)
    source = parts[0]
    if len(parts) == 3:
        bad = [o for o in parts[2].split(",") if o.strip().lower() not in _BIND_STRING_OPTIONS]
        if bad:
            raise GateRefusal(f"bind options {bad} (shared propagation reaches the host's mounts)", path)
    if source.startswith("/"):
        check_bind_source(source, path, settings)
    elif VOLUME_NAME.match(source):
        check_named_volume(source, path, facts, settings)
    else:
        raise GateRefusal(f"bind source {source!r} is neither an absolute path nor a volume name", path)


def _propagation(value: Any, path: str) -> None:
    if str(value).lower() not in _SAFE_PROPAGATION:
        raise GateRefusal(f"bind propagation {value!r} (shared propagation reaches the host's mounts)", path)


_BIND_OPTIONS_FIELDS = {
    "Propagation": _propagation,
    "NonRecursive": None,
    "CreateMountpoint": None,
    "ReadOnlyNonRecursive": None,
    "ReadOnlyForceRecursive": None,
}
_TMPFS_FIELDS = {"SizeBytes": None, "Mode": None, "Options": None}


def check_mount(mount: Any, path: str, facts: Facts, settings: Settings) -> None:
    """One `Mounts` entry (container HostConfig or service ContainerSpec)."""
    if not isinstance(mount, Mapping):
        raise GateRefusal("a mount must be an object", path)
    kind = str(mount.get("Type") or "volume").lower()
    allowed: dict[str, Any] = {"Target": None, "Source": None, "Type": None, "ReadOnly": None, "Consistency": None}
    if kind == "bind":
        allowed["BindOptions"] = lambda v, p: check_fields(v, _BIND_OPTIONS_FIELDS, p)
        check_fields(mount, allowed, path)
        check_bind_source(mount.get("Source"), f"{path}.Source", settings)
    elif kind == "volume":
        allowed["VolumeOptions"] = None  # checked below, with the volume's name
        check_fields(mount, allowed, path)
        options = mount.get("VolumeOptions") or {}
        check_fields(
            options, {"NoCopy": None, "Labels": None, "DriverConfig": None, "Subpath": None}, f"{path}.VolumeOptions"
        )
        driver = options.get("DriverConfig") or {}
        check_fields(driver, {"Name": None, "Options": None}, f"{path}.VolumeOptions.DriverConfig")
        check_volume_driver(driver.get("Name"), driver.get("Options"), f"{path}.VolumeOptions.DriverConfig", settings)
        source = mount.get("Source")
        if source:
            if not isinstance(source, str) or not VOLUME_NAME.match(source):
                raise GateRefusal(f"volume source {source!r} is not a volume name", f"{path}.Source")
            check_named_volume(source, f"{path}.Source", facts, settings)
    elif kind == "tmpfs":
        allowed["TmpfsOptions"] = lambda v, p: check_fields(v, _TMPFS_FIELDS, p)
        check_fields(mount, allowed, path)
        if mount.get("Source"):
            raise GateRefusal("a tmpfs mount has no source", f"{path}.Source")
    else:
        raise GateRefusal(f"mount type {mount.get('Type')!r} (only bind, volume and tmpfs are allowed)", f"{path}.Type")
