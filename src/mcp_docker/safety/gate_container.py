"""The engine gate's allow-lists for containers: the create body (`Config`, `HostConfig`,
`NetworkingConfig`), exec create, container update, and a container's CURRENT configuration (checked
again before start, restart, exec, attach and copying into it).

Every field of these bodies is on a table below, with the checker its value must pass (None: any value
is safe). docs/SECURITY.md has the same table with the reason each field is safe.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from mcp_docker.config import Settings, normalise_capability
from mcp_docker.safety.gate_base import (
    NEVER,
    Checker,
    Facts,
    GateRefusal,
    check_fields,
    each,
    fields,
    flag,
    only,
    refused,
)
from mcp_docker.safety.gate_mounts import check_bind_string, check_mount

PRIV = "MCP_DOCKER_ALLOW_PRIVILEGED=true"
CAPS = "MCP_DOCKER_ALLOWED_CAPABILITIES"
NS = "MCP_DOCKER_ALLOW_HOST_NAMESPACES=true"
DEV = "MCP_DOCKER_ALLOW_DEVICES=true"
SEC = "MCP_DOCKER_ALLOW_UNCONFINED=true"
PUBLISH = "MCP_DOCKER_ALLOWED_PUBLISH_ADDRESSES"

_SAFE_SECURITY_OPTS = {"no-new-privileges", "no-new-privileges=true", "no-new-privileges:true"}
BASE_MASKED = {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug", "/sys/firmware"}
BASE_READONLY = {"/proc/bus", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
_LOG_TYPES = {"json-file", "local", "none"}
_LOG_OPTIONS = {"max-size", "max-file", "compress", "labels", "labels-regex", "env", "env-regex", "tag", "mode"}


def _caps(settings: Settings) -> Checker:
    def check(value: Any, path: str) -> None:
        allowed = set(settings.allowed_capabilities)
        if "ALL" in allowed:
            return
        extra = sorted({normalise_capability(str(c)) for c in value} - allowed)
        if extra:
            raise GateRefusal(f"added capabilities {extra}", path, CAPS)

    return check


def _security_opts(settings: Settings) -> Checker:
    def check(value: Any, path: str) -> None:
        if settings.allow_unconfined:
            return
        bad = [o for o in value if str(o).strip().lower().replace(" ", "") not in _SAFE_SECURITY_OPTS]
        if bad:
            raise GateRefusal(f"security options {bad} (only no-new-privileges is allowed by default)", path, SEC)

    return check


def _paths_kept(base: set[str], settings: Settings) -> Checker:
    def check(value: Any, path: str) -> None:
        if not settings.allow_unconfined and not base <= set(value or []):
            raise GateRefusal(f"{path} drops the engine's protected /proc and /sys paths", path, SEC)

    return check


def _namespace(what: str, ok: set[str], settings: Settings) -> Checker:
    def check(value: Any, path: str) -> None:
        if settings.allow_host_namespaces or str(value).strip().lower() in ok:
            return
        raise GateRefusal(f"{what} {value!r} (shares a namespace outside the container)", path, NS)

    return check


def check_network_ref(name: Any, path: str, facts: Facts, settings: Settings) -> None:
    """A network by name, id or id prefix: never the host's network namespace (nor another container's)."""
    if settings.allow_host_namespaces:
        return
    text = str(name).strip()
    normal = text.lower()
    if normal in ("", "default", "bridge", "none"):
        return
    if normal == "host" or normal.startswith(("container:", "ns:")):
        raise GateRefusal(f"network {text!r} (shares a namespace outside the container)", path, NS)
    network = facts.network(text)
    if network is not None and str(network.get("Driver") or "").lower() == "host":
        raise GateRefusal(f"network {text!r} uses the host driver (the host's network namespace)", path, NS)


def publish_address_ok(address: str, settings: Settings) -> bool:
    allowed = {a.strip("[]") for a in settings.allowed_publish_addresses}
    text = address.strip().strip("[]")
    if not text:
        return bool(allowed & {"0.0.0.0", "::"})  # noqa: S104 - a check, not a bind
    if text in allowed:
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def _port_bindings(settings: Settings) -> Checker:
    def check(value: Any, path: str) -> None:
        if not isinstance(value, Mapping):
            raise GateRefusal("port bindings must be an object", path)
        for port, bindings in value.items():
            for i, binding in enumerate(bindings or []):
                where = f"{path}[{port!r}][{i}]"
                check_fields(binding, {"HostIp": None, "HostPort": None}, where)
                address = str((binding or {}).get("HostIp") or "")
                if not publish_address_ok(address, settings):
                    shown = address or "every interface (no HostIp)"
                    raise GateRefusal(
                        f"port {port} published on {shown}; publish on 127.0.0.1 (e.g. '127.0.0.1:8080:80')",
                        f"{where}.HostIp",
                        PUBLISH,
                    )

    return check


def _publish_all(settings: Settings) -> Checker:
    def check(value: Any, path: str) -> None:
        if not publish_address_ok("", settings):
            raise GateRefusal("publishing every exposed port on every interface", path, PUBLISH)

    return check


def _log_config(value: Any, path: str) -> None:
    check_fields(value, {"Type": None, "Config": None}, path)
    kind = str(value.get("Type") or "").lower()
    if kind and kind not in _LOG_TYPES:
        raise GateRefusal(f"log driver {kind!r} (only {sorted(_LOG_TYPES)} keep logs on the engine)", f"{path}.Type")
    bad = sorted(set(value.get("Config") or {}) - _LOG_OPTIONS)
    if bad:
        raise GateRefusal(f"log options {bad}", f"{path}.Config")


def _oom_kill_disable(value: Any, path: str, body: Mapping[str, Any]) -> None:
    if not body.get("Memory"):
        raise GateRefusal("OomKillDisable without a memory limit (the host's OOM killer would pick others)", path)


def _non_negative(value: Any, path: str) -> None:
    if not isinstance(value, int) or value < 0:
        raise GateRefusal(f"{path} = {value!r} (a negative value makes the host kill other processes first)", path)


def _storage_opt(value: Any, path: str) -> None:
    bad = sorted(set(value or {}) - {"size"})
    if bad:
        raise GateRefusal(f"storage options {bad} (only size is allowed)", path)


def resources_fields(settings: Settings) -> dict[str, Checker | None]:
    """`Resources` fields (in HostConfig and in the container update body)."""
    devices = flag("host devices", lambda s: s.allow_devices, DEV, settings)
    return {
        "CpuShares": None,
        "Memory": None,
        "CgroupParent": flag(
            "a cgroup parent (places the container in the host's cgroup tree)",
            lambda s: s.allow_host_namespaces,
            NS,
            settings,
        ),
        "BlkioWeight": None,
        "BlkioWeightDevice": devices,
        "BlkioDeviceReadBps": devices,
        "BlkioDeviceWriteBps": devices,
        "BlkioDeviceReadIOps": devices,
        "BlkioDeviceWriteIOps": devices,
        "CpuPeriod": None,
        "CpuQuota": None,
        "CpuRealtimePeriod": refused("real-time CPU scheduling"),
        "CpuRealtimeRuntime": refused("real-time CPU scheduling"),
        "CpusetCpus": None,
        "CpusetMems": None,
        "Devices": devices,
        "DeviceCgroupRules": devices,
        "DeviceRequests": devices,
        "KernelMemory": None,
        "KernelMemoryTCP": None,
        "MemoryReservation": None,
        "MemorySwap": None,
        "MemorySwappiness": None,
        "NanoCpus": None,
        "OomKillDisable": None,  # checked with Memory, see host_config_fields
        "Init": None,
        "PidsLimit": None,
        "Ulimits": None,
        "CpuCount": None,
        "CpuPercent": None,
        "IOMaximumIOps": None,
        "IOMaximumBandwidth": None,
    }


def host_config_fields(settings: Settings, facts: Facts, *, current: bool = False) -> dict[str, Checker | None]:
    """Every HostConfig field the gate knows, with its checker. `current`: checking what the engine
    reports for an existing container (its defaults filled in), rather than a create request."""
    cgroupns_ok = {"", "private"}
    if current and str(facts.info().get("CgroupVersion") or "") == "1":
        cgroupns_ok.add("host")  # the engine's own default on cgroup v1: every container has it
    masked_current = current and not settings.allow_unconfined
    return {
        **resources_fields(settings),
        "Binds": each(lambda v, p: check_bind_string(v, p, facts, settings)),
        "ContainerIDFile": refused("a container id file on the host"),
        "LogConfig": _log_config,
        "NetworkMode": lambda v, p: check_network_ref(v, p, facts, settings),
        "PortBindings": _port_bindings(settings),
        "RestartPolicy": fields({"Name": None, "MaximumRetryCount": None}),
        "AutoRemove": None,
        "VolumeDriver": only("local", what="volume driver"),
        "VolumesFrom": refused("volumes of another container (whatever it mounts, host paths included)"),
        "Mounts": each(lambda v, p: check_mount(v, p, facts, settings)),
        "ConsoleSize": None,
        "Annotations": refused("OCI annotations (read by runtimes as configuration)"),
        "CapAdd": _caps(settings),
        "CapDrop": None,
        "Capabilities": refused("a replacement capability set (use CapAdd and CapDrop)"),
        "CgroupnsMode": _namespace("cgroupns mode", cgroupns_ok, settings),
        "Dns": None,
        "DnsOptions": None,
        "DnsSearch": None,
        "ExtraHosts": None,
        "GroupAdd": None,
        "IpcMode": _namespace("ipc mode", {"", "private", "shareable", "none"}, settings),
        "Cgroup": _namespace("cgroup", set(), settings),
        "Links": None,
        "OomScoreAdj": _non_negative,
        "PidMode": _namespace("pid mode", {""}, settings),
        "Privileged": flag("privileged mode (full access to the host)", lambda s: s.allow_privileged, PRIV, settings),
        "PublishAllPorts": _publish_all(settings),
        "ReadonlyRootfs": None,
        "SecurityOpt": _security_opts(settings),
        "StorageOpt": _storage_opt,
        "Tmpfs": None,
        "UTSMode": _namespace("uts mode", {""}, settings),
        "UsernsMode": _namespace("userns mode", {""}, settings),
        "ShmSize": None,
        "Sysctls": flag("kernel parameters (sysctls)", lambda s: s.allow_unconfined, SEC, settings),
        "Runtime": only("runc", "io.containerd.runc.v2", what="runtime"),
        "Isolation": only("default", what="isolation"),
        "MaskedPaths": None if masked_current else _paths_kept(BASE_MASKED, settings),
        "ReadonlyPaths": None if masked_current else _paths_kept(BASE_READONLY, settings),
    }


def check_host_config(body: Any, settings: Settings, facts: Facts, where: str, *, current: bool = False) -> None:
    check_fields(body, host_config_fields(settings, facts, current=current), where)
    if isinstance(body, Mapping):
        if body.get("OomKillDisable"):
            _oom_kill_disable(body["OomKillDisable"], f"{where}.OomKillDisable", body)
        if current and not settings.allow_unconfined and not body.get("Privileged"):
            for key, base in (("MaskedPaths", BASE_MASKED), ("ReadonlyPaths", BASE_READONLY)):
                _paths_kept(base, settings)(body.get(key), f"{where}.{key}")


CONFIG_FIELDS: dict[str, Checker | None] = {
    # What runs and how it is seen inside the container: none of it reaches outside it.
    **dict.fromkeys(
        [
            "Hostname",
            "Domainname",
            "User",
            "AttachStdin",
            "AttachStdout",
            "AttachStderr",
            "ExposedPorts",
            "Tty",
            "OpenStdin",
            "StdinOnce",
            "Env",
            "Cmd",
            "Healthcheck",
            "ArgsEscaped",
            "Image",
            "Volumes",
            "WorkingDir",
            "Entrypoint",
            "NetworkDisabled",
            "MacAddress",
            "OnBuild",
            "Labels",
            "StopSignal",
            "StopTimeout",
            "Shell",
        ]
    ),
}
ENDPOINT_FIELDS: dict[str, Checker | None] = dict.fromkeys(
    [
        "IPAMConfig",
        "Links",
        "Aliases",
        "MacAddress",
        "DriverOpts",
        "NetworkID",
        "EndpointID",
        "Gateway",
        "IPAddress",
        "IPPrefixLen",
        "IPv6Gateway",
        "GlobalIPv6Address",
        "GlobalIPv6PrefixLen",
        "DNSNames",
    ]
)


def check_networking_config(body: Any, settings: Settings, facts: Facts, where: str) -> None:
    check_fields(body, {"EndpointsConfig": None}, where)
    endpoints = (body or {}).get("EndpointsConfig") or {}
    if not isinstance(endpoints, Mapping):
        raise GateRefusal("EndpointsConfig must be an object", f"{where}.EndpointsConfig")
    for name, endpoint in endpoints.items():
        path = f"{where}.EndpointsConfig[{name!r}]"
        check_network_ref(name, path, facts, settings)
        check_fields(endpoint, ENDPOINT_FIELDS, path)
        if isinstance(endpoint, Mapping) and endpoint.get("NetworkID"):
            check_network_ref(endpoint["NetworkID"], f"{path}.NetworkID", facts, settings)


def check_container_create(body: Any, settings: Settings, facts: Facts) -> None:
    """POST /containers/create: the whole body, field by field."""
    allowed: dict[str, Checker | None] = {
        **CONFIG_FIELDS,
        "HostConfig": lambda v, p: check_host_config(v, settings, facts, p),
        "NetworkingConfig": lambda v, p: check_networking_config(v, settings, facts, p),
    }
    check_fields(body if body is not None else {}, allowed, "create")


def check_container_update(body: Any, settings: Settings, facts: Facts) -> None:
    """POST /containers/{id}/update: resources and the restart policy only."""
    allowed = {**resources_fields(settings), "RestartPolicy": fields({"Name": None, "MaximumRetryCount": None})}
    check_fields(body, allowed, "update")
    if isinstance(body, Mapping) and body.get("OomKillDisable"):
        raise GateRefusal("OomKillDisable in an update", "update.OomKillDisable")


EXEC_FIELDS = {
    **dict.fromkeys(
        [
            "Container",
            "AttachStdin",
            "AttachStdout",
            "AttachStderr",
            "ConsoleSize",
            "DetachKeys",
            "Tty",
            "Env",
            "Cmd",
            "User",
        ]
    ),
    "WorkingDir": None,
}


def check_exec_create(body: Any, settings: Settings) -> None:
    allowed: dict[str, Checker | None] = {
        **EXEC_FIELDS,
        "Privileged": flag("a privileged exec (full access to the host)", lambda s: s.allow_privileged, PRIV, settings),
    }
    check_fields(body, allowed, "exec")


def check_current_container(ref: str, settings: Settings, facts: Facts, why: str) -> None:
    """A container's configuration as the engine has it NOW (made by anyone, through any door), before
    it is started, exec'd into, attached to or written into; bind sources are resolved at this moment."""
    data = facts.container(ref)
    if data is None:
        return  # the engine answers 404 itself
    where = f"container {str(data.get('Name') or ref).lstrip('/')!r} ({why}): HostConfig"
    host = data.get("HostConfig") or {}
    check_host_config(host, settings, facts, where, current=True)
    for name, endpoint in ((data.get("NetworkSettings") or {}).get("Networks") or {}).items():
        check_network_ref(name, f"{where}.Networks[{name!r}]", facts, settings)
        if isinstance(endpoint, Mapping) and endpoint.get("NetworkID"):
            check_network_ref(endpoint["NetworkID"], f"{where}.Networks[{name!r}]", facts, settings)


__all__ = ["NEVER", "check_container_create", "check_current_container", "check_exec_create"]
