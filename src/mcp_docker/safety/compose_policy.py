"""The container policy applied to a Compose project before `up` creates anything.

A compose file is another way to ask for containers: `privileged: true`, `network_mode: host` or
`volumes: ["/:/host"]` in it would otherwise walk past the checks `docker_create_container` makes.
So `up` first asks Compose for the resolved project (`config`, which expands variables, extends and
relative paths exactly as `up` will), and every service must pass `check_container_request`; the
project's volume definitions must pass the bind-in-disguise check, and build contexts must lie
under the allowed roots (`up` builds missing images). Nothing is started otherwise.
"""

from __future__ import annotations

from typing import Any

import yaml

from mcp_docker.config import Settings
from mcp_docker.safety.container_policy import (
    ContainerRequest,
    MountRequest,
    check_container_request,
    check_volume_driver_opts,
)
from mcp_docker.safety.host_paths import check_build_context
from mcp_docker.utils.errors import UnsafeOperation, ValidationError


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)]


def _mode(value: Any) -> str | None:
    """`service:NAME` joins another service of the same project: allowed like a private namespace."""
    if value is None:
        return None
    text = str(value)
    return None if text.startswith("service:") else text


def service_request(service: dict[str, Any]) -> ContainerRequest:
    """The parts of one resolved compose service that the container policy looks at."""
    short: list[str] = []
    mounts: list[MountRequest] = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, str):
            short.append(volume)
            continue
        if not isinstance(volume, dict):
            continue
        kind = str(volume.get("type", "volume"))
        source = volume.get("source")
        target = str(volume.get("target", ""))
        if kind == "bind" and source is not None:
            mounts.append(MountRequest(type="bind", target=target, source=str(source)))
        elif kind == "volume" and source is not None:
            mounts.append(MountRequest(type="volume", target=target, source=str(source)))
    return ContainerRequest(
        volumes=short,
        mounts=mounts,
        privileged=bool(service.get("privileged")),
        cap_add=_strings(service.get("cap_add")),
        network_mode=_mode(service.get("network_mode")),
        pid_mode=_mode(service.get("pid")),
        ipc_mode=_mode(service.get("ipc")),
        uts_mode=_mode(service.get("uts")),
        userns_mode=_mode(service.get("userns_mode")),
        cgroupns=_mode(service.get("cgroup")),
        devices=_strings(service.get("devices")),
        security_opt=_strings(service.get("security_opt")),
    )


def check_compose_config(config_text: str, settings: Settings) -> None:
    """Raise `UnsafeOperation` naming the service and what is refused, or `ValidationError` when the
    resolved configuration cannot be read."""
    try:
        data = yaml.safe_load(config_text)
    except yaml.YAMLError as exc:
        raise ValidationError(f"Cannot read the resolved compose configuration: {exc}.") from exc
    if not isinstance(data, dict):
        raise ValidationError("The resolved compose configuration is not a mapping.")
    for name, definition in (data.get("volumes") or {}).items():
        if isinstance(definition, dict) and not definition.get("external"):
            try:
                check_volume_driver_opts(definition.get("driver"), definition.get("driver_opts"), settings)
            except UnsafeOperation as exc:
                raise UnsafeOperation(f"Compose volume '{name}': {exc.message}", exc.hint) from exc
    for name, service in (data.get("services") or {}).items():
        if not isinstance(service, dict):
            continue
        build = service.get("build")
        context = build.get("context") if isinstance(build, dict) else build
        try:
            if context:
                check_build_context(str(context), settings)
            check_container_request(service_request(service), settings)
        except UnsafeOperation as exc:
            raise UnsafeOperation(f"Compose service '{name}': {exc.message}", exc.hint) from exc
