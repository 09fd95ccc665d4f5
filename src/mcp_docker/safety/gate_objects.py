"""The engine gate's allow-lists for volumes, networks, image builds and swarm services."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcp_docker.config import Settings
from mcp_docker.safety.gate_base import (
    Checker,
    EngineRequest,
    Facts,
    GateRefusal,
    check_fields,
    each,
    fields,
    flag,
    only,
    refused,
)
from mcp_docker.safety.gate_container import (
    NS,
    PUBLISH,
    SEC,
    _caps,
    _log_config,
    check_network_ref,
    publish_address_ok,
)
from mcp_docker.safety.gate_mounts import check_mount, check_volume_driver

# -- volumes ------------------------------------------------------------------------------------------


def check_volume_create(body: Any, settings: Settings) -> None:
    """POST /volumes/create: a local volume; driver options only as gate_mounts allows."""
    check_fields(body, {"Name": None, "Driver": None, "DriverOpts": None, "Labels": None}, "volume")
    body = body or {}
    check_volume_driver(body.get("Driver"), body.get("DriverOpts"), "volume.DriverOpts", settings)


# -- networks -----------------------------------------------------------------------------------------

_NETWORK_OPTIONS = {
    "com.docker.network.bridge.enable_icc",
    "com.docker.network.bridge.enable_ip_masquerade",
    "com.docker.network.driver.mtu",
    "com.docker.network.container_iface_prefix",
    "encrypted",  # overlay
}


def _network_options(value: Any, path: str) -> None:
    bad = sorted(set(value or {}) - _NETWORK_OPTIONS)
    if bad:
        raise GateRefusal(
            f"network driver options {bad} (a bridge name or host binding address reaches the host's interfaces)",
            f"{path}.{bad[0]}",
        )


NETWORK_FIELDS: dict[str, Checker | None] = {
    "Name": None,
    "CheckDuplicate": None,
    "Driver": only("bridge", "overlay", what="network driver"),
    "Scope": None,
    "Internal": None,
    "Attachable": None,
    "Ingress": refused("a swarm ingress network"),
    "ConfigOnly": refused("a config-only network (a template for macvlan/ipvlan networks)"),
    "ConfigFrom": refused("a network made from a config-only network"),
    "IPAM": fields({"Driver": only("default", what="IPAM driver"), "Config": None, "Options": None}),
    "EnableIPv4": None,
    "EnableIPv6": None,
    "Options": _network_options,
    "Labels": None,
}


def check_network_create(body: Any, settings: Settings) -> None:
    check_fields(body, NETWORK_FIELDS, "network")


def check_network_connect(network: str, body: Any, settings: Settings, facts: Facts) -> None:
    from mcp_docker.safety.gate_container import ENDPOINT_FIELDS

    check_network_ref(network, "connect.network", facts, settings)
    check_fields(body, {"Container": None, "EndpointConfig": fields(ENDPOINT_FIELDS)}, "connect")


# -- builds ---------------------------------------------------------------------------------------------

_BUILD_PARAMS = {
    "dockerfile",
    "t",
    "extrahosts",
    "q",
    "nocache",
    "cachefrom",
    "pull",
    "rm",
    "forcerm",
    "memory",
    "memswap",
    "cpushares",
    "cpusetcpus",
    "cpuperiod",
    "cpuquota",
    "buildargs",
    "shmsize",
    "squash",
    "labels",
    "networkmode",
    "platform",
    "target",
    "version",
    "session",
    "buildid",
    "ulimits",
    "isolation",
}


def check_build(request: EngineRequest, settings: Settings) -> None:
    """POST /build: only known query parameters; no remote context; default/bridge/none network."""
    for name, values in request.query.items():
        if name == "remote" and any(values):
            raise GateRefusal(
                "a remote build context (the engine would fetch a URL or git repository itself)", "build.remote"
            )
        if name not in _BUILD_PARAMS and name != "remote" and any(values):
            raise GateRefusal(f"build parameter {name!r} is not on the allow-list", f"build.{name}")
    mode = (request.param("networkmode") or "").strip().lower()
    if mode not in ("", "default", "bridge", "none") and not settings.allow_host_namespaces:
        raise GateRefusal(f"build network mode {mode!r}", "build.networkmode", NS)
    isolation = (request.param("isolation") or "").strip().lower()
    if isolation not in ("", "default"):
        raise GateRefusal(f"build isolation {isolation!r}", "build.isolation")


# -- swarm services -----------------------------------------------------------------------------------


def _privileges(settings: Settings) -> Checker:
    def check(value: Any, path: str) -> None:
        check_fields(
            value,
            {
                "CredentialSpec": None,
                "SELinuxContext": None,
                "Seccomp": None,
                "AppArmor": None,
                "NoNewPrivileges": None,
            },
            path,
        )
        if settings.allow_unconfined:
            return
        for key in ("CredentialSpec", "SELinuxContext", "Seccomp", "AppArmor"):
            item = value.get(key)
            mode = str(item.get("Mode") or "default").lower() if isinstance(item, Mapping) else "default"
            if item and (key in ("CredentialSpec", "SELinuxContext") or mode != "default"):
                raise GateRefusal(f"service {key} {item!r} (only the default confinement)", f"{path}.{key}", SEC)

    return check


def _service_networks(settings: Settings, facts: Facts) -> Checker:
    def check(value: Any, path: str) -> None:
        for i, net in enumerate(value):
            where = f"{path}[{i}]"
            check_fields(net, {"Target": None, "Aliases": None, "DriverOpts": None}, where)
            check_network_ref((net or {}).get("Target", ""), f"{where}.Target", facts, settings)

    return check


def _service_ports(settings: Settings) -> Checker:
    def check(value: Any, path: str) -> None:
        for i, port in enumerate(value):
            where = f"{path}[{i}]"
            check_fields(
                port,
                {"Name": None, "Protocol": None, "TargetPort": None, "PublishedPort": None, "PublishMode": None},
                where,
            )
            if (port or {}).get("PublishedPort") is not None and not publish_address_ok("", settings):
                raise GateRefusal(
                    f"service port {port.get('TargetPort')} published on every interface of every node",
                    f"{where}.PublishedPort",
                    PUBLISH,
                )

    return check


def service_spec_fields(settings: Settings, facts: Facts) -> dict[str, Checker | None]:
    container_spec: dict[str, Checker | None] = {
        **dict.fromkeys(
            [
                "Image",
                "Labels",
                "Command",
                "Args",
                "Hostname",
                "Env",
                "Dir",
                "User",
                "Groups",
                "TTY",
                "OpenStdin",
                "ReadOnly",
                "StopSignal",
                "StopGracePeriod",
                "HealthCheck",
                "Hosts",
                "DNSConfig",
                "Secrets",
                "Configs",
                "Init",
                "CapabilityDrop",
                "Ulimits",
                "OomScoreAdj",
            ]
        ),
        "Privileges": _privileges(settings),
        "Mounts": each(lambda v, p: check_mount(v, p, facts, settings)),
        "Isolation": only("default", what="isolation"),
        "Sysctls": flag("kernel parameters (sysctls)", lambda s: s.allow_unconfined, SEC, settings),
        "CapabilityAdd": _caps(settings),
    }
    task_template: dict[str, Checker | None] = {
        "ContainerSpec": fields(container_spec),
        "PluginSpec": refused("a plugin service (plugins run with host privileges)"),
        "NetworkAttachmentSpec": refused("a network attachment task"),
        "Resources": fields({"Limits": None, "Reservations": None}),
        "RestartPolicy": None,
        "Placement": None,
        "ForceUpdate": None,
        "Runtime": only("container", what="task runtime"),
        "Networks": _service_networks(settings, facts),
        "LogDriver": lambda v, p: _log_config({"Type": v.get("Name"), "Config": v.get("Options")}, p),
    }
    return {
        "Name": None,
        "Labels": None,
        "TaskTemplate": fields(task_template),
        "Mode": None,
        "UpdateConfig": None,
        "RollbackConfig": None,
        "Networks": _service_networks(settings, facts),
        "EndpointSpec": fields({"Mode": None, "Ports": _service_ports(settings)}),
    }


def check_service_spec(spec: Any, settings: Settings, facts: Facts, where: str = "service") -> None:
    check_fields(spec, service_spec_fields(settings, facts), where)


def check_service_update(service: str, request: EngineRequest, settings: Settings, facts: Facts) -> None:
    """POST /services/{id}/update: the spec that will result is checked whole. The body replaces the
    spec, but parts it leaves out are checked as the service has them now; a rollback is checked as
    the previous spec it restores."""
    current = facts.service(service) or {}
    if (request.param("rollback") or "").lower() == "previous":
        check_service_spec(current.get("PreviousSpec"), settings, facts, "service rollback (previous spec)")
    spec = dict(current.get("Spec") or {})
    spec.update({k: v for k, v in (request.body or {}).items() if v is not None})
    check_service_spec(spec, settings, facts, "service update (resulting spec)")
