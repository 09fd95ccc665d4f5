"""The policy for a Compose project, applied to the resolved model before `up` or `build` does anything.

A compose file is another way to ask for containers, images, volumes and networks. So the server asks
Compose for the resolved project (`config`, with every profile active, JSON on v2) and checks it KEY BY
KEY against an allow-list (`compose_keys`): any key not on it is refused with its name (`provider`,
`secrets`, `sysctls`, `use_api_socket`, `volumes_from`, external volumes...). The values of allowed
keys pass the container policy (privileged, capabilities, namespaces, devices, binds), the root policy
(build contexts, Dockerfiles, env and label files) and the publish-address policy (ports).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from mcp_docker.config import Settings
from mcp_docker.safety import compose_keys as keys
from mcp_docker.safety.container_policy import (
    ContainerRequest,
    MountRequest,
    check_container_request,
    check_volume_driver_opts,
)
from mcp_docker.safety.host_paths import check_build_context, resolve, under
from mcp_docker.utils.errors import UnsafeOperation
from mcp_docker.utils.output import REDACTED

_HINT = "Remove it from the compose file: the server allows only the Compose keys listed in docs/SECURITY.md."


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


def refused_key(where: str, key: str, why: str | None = None) -> UnsafeOperation:
    reason = why or keys.REASONS.get(key, "it is not on the server's allow-list of Compose keys")
    return UnsafeOperation(f"{where}: key '{key}' is not allowed ({reason}). Nothing was created.", _HINT)


def _only(where: str, value: Any, allowed: frozenset[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {}
    for key in value:
        if key not in allowed and not str(key).startswith("x-"):
            raise refused_key(where, str(key))
    return value


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
        if kind not in ("bind", "volume", "tmpfs"):
            raise UnsafeOperation(f"Refused: a mount of type {kind!r}. Nothing was created.", _HINT)
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


def port_host_ips(port: Any) -> list[str]:
    """The host address of one `ports` entry ('' = every interface); long (dict) or short ('IP:H:C/proto')."""
    if isinstance(port, dict):
        return [str(port.get("host_ip") or "")]
    text = str(port).rsplit("/", 1)[0]
    if text.startswith("["):  # [::1]:8080:80
        return [text[1 : text.index("]")]]
    parts = text.split(":")
    return [parts[0]] if len(parts) >= 3 else [""]


def check_publish_address(host_ip: str, settings: Settings, where: str) -> None:
    allowed = set(settings.allowed_publish_addresses)
    if "0.0.0.0" in allowed:  # noqa: S104 - the operator's setting that allows every interface
        return
    try:
        if host_ip and ipaddress.ip_address(host_ip).is_loopback:
            return
    except ValueError:
        pass
    if host_ip and host_ip in allowed:
        return
    shown = host_ip or "every interface (no address given)"
    raise UnsafeOperation(
        f"Refused: {where} publishes a port on {shown}; by default ports are published on loopback only "
        "(write ports as '127.0.0.1:HOST:CONTAINER'). Nothing was created.",
        "The server's operator can allow other addresses with MCP_DOCKER_ALLOWED_PUBLISH_ADDRESSES.",
    )


def _check_build(where: str, build: Any, settings: Settings) -> None:
    if isinstance(build, str):
        build = {"context": build}
    spec = _only(f"{where} build", build, keys.BUILD)
    context = str(spec.get("context") or ".")
    if "://" in context or context.startswith("git@"):
        raise refused_key(f"{where} build", "context", "a remote context is fetched by the server")
    check_build_context(context, settings)
    real_context = resolve(context)
    dockerfile = spec.get("dockerfile")
    if dockerfile is not None:
        path = dockerfile if str(dockerfile).startswith("/") else f"{real_context}/{dockerfile}"
        if not under(resolve(str(path)), [real_context]):
            raise refused_key(f"{where} build", "dockerfile", f"{dockerfile!r} is outside the build context")
    network = spec.get("network")
    if network is not None and str(network) not in keys.BUILD_NETWORKS:
        raise refused_key(f"{where} build", "network", f"build steps on network {network!r}; only default/none")
    for name, extra in (spec.get("additional_contexts") or {}).items():
        text = str(extra)
        if text.startswith(("docker-image://", "service:")):
            continue
        if "://" in text:
            raise refused_key(f"{where} build", "additional_contexts", f"context {name!r} is fetched by the server")
        check_build_context(text, settings)
    for key in ("cache_from", "cache_to"):
        for entry in _strings(spec.get(key)):
            if "type=local" in entry.replace(" ", ""):
                raise refused_key(f"{where} build", key, "a local cache reads or writes host directories")


def _check_service(name: str, service: Any, settings: Settings) -> None:
    where = f"Compose service '{name}'"
    spec = _only(where, service, keys.SERVICE)
    roots = [*settings.allowed_bind_roots, *settings.allowed_build_roots]
    for key in ("env_file", "label_file"):
        entries = spec.get(key)
        for entry in entries if isinstance(entries, list) else _strings(entries):
            path = entry.get("path") if isinstance(entry, dict) else entry
            if path is not None and not under(resolve(str(path)), roots):
                raise refused_key(where, key, f"{path!r} is outside the allowed roots")
    extends = spec.get("extends")
    extended = extends.get("file") if isinstance(extends, dict) else None
    if extended is not None and not under(resolve(str(extended)), roots):
        raise refused_key(where, "extends", "its file is outside the allowed roots")
    if (spec.get("gpus") or _deploy_devices(spec.get("deploy"))) and not settings.allow_devices:
        raise UnsafeOperation(
            f"{where}: Refused: GPUs or devices reserved through gpus/deploy. Nothing was created.",
            "The server's operator can allow host devices with MCP_DOCKER_ALLOW_DEVICES=true.",
        )
    try:
        for port in spec.get("ports") or []:
            for host_ip in port_host_ips(port):
                check_publish_address(host_ip, settings, where)
        if spec.get("build") is not None:
            _check_build(where, spec["build"], settings)
        check_container_request(service_request(spec), settings)
    except UnsafeOperation as exc:
        message = exc.message if exc.message.startswith(where) else f"{where}: {exc.message}"
        raise UnsafeOperation(message, exc.hint) from exc


def _deploy_devices(deploy: Any) -> bool:
    if not isinstance(deploy, dict):
        return False
    reservations = (deploy.get("resources") or {}).get("reservations") or {}
    return bool(reservations.get("devices") or reservations.get("generic_resources"))


def check_compose_model(model: Any, settings: Settings) -> None:
    """Raise `UnsafeOperation` naming the object and the key refused; nothing else is looked at first."""
    top = _only("Compose project", model, keys.TOP_LEVEL)
    for name, definition in (top.get("volumes") or {}).items():
        where = f"Compose volume '{name}'"
        spec = _only(where, definition, keys.VOLUME | {"external", "driver_opts"})
        if spec.get("external"):
            raise refused_key(where, "external")
        driver = spec.get("driver")
        if driver is not None and driver not in keys.VOLUME_DRIVERS:
            raise refused_key(where, "driver", f"volume driver {driver!r}; only local")
        try:
            check_volume_driver_opts(driver, spec.get("driver_opts"), settings)
        except UnsafeOperation as exc:
            raise UnsafeOperation(f"{where}: {exc.message}", exc.hint) from exc
    for name, definition in (top.get("networks") or {}).items():
        where = f"Compose network '{name}'"
        spec = _only(where, definition, keys.NETWORK | {"external", "driver_opts"})
        for key in ("external", "driver_opts"):
            if spec.get(key):
                raise refused_key(where, key)
        driver = spec.get("driver")
        if driver is not None and driver not in keys.NETWORK_DRIVERS:
            raise refused_key(where, "driver", f"network driver {driver!r}; only bridge or overlay")
    for name, service in (top.get("services") or {}).items():
        _check_service(str(name), service, settings)


def redact_model(model: Any, redact_env: bool = True) -> Any:
    """The resolved model with environment values, labels, annotations and build args hidden (on the parsed
    model, so no YAML folding or quoting can carry a value past it)."""
    if not isinstance(model, dict):
        return model

    def hide(values: Any) -> Any:
        if isinstance(values, dict):
            return {k: (REDACTED if v is not None else None) for k, v in values.items()}
        if isinstance(values, list):
            return [f"{str(v).partition('=')[0]}={REDACTED}" if "=" in str(v) else v for v in values]
        return REDACTED

    out = dict(model)
    services: dict[str, Any] = {}
    for name, service in (model.get("services") or {}).items():
        if not isinstance(service, dict):
            services[name] = service
            continue
        copy = dict(service)
        for key in ("environment", "labels", "annotations") if redact_env else ("labels",):
            if key in copy:
                copy[key] = hide(copy[key])
        if isinstance(copy.get("build"), dict):
            build = dict(copy["build"])
            for key in ("args", "labels"):
                if key in build:
                    build[key] = hide(build[key])
            copy["build"] = build
        services[name] = copy
    out["services"] = services
    for section in ("volumes", "networks"):
        if isinstance(model.get(section), dict):
            out[section] = {
                k: ({**v, "labels": hide(v["labels"])} if isinstance(v, dict) and "labels" in v else v)
                for k, v in model[section].items()
            }
    return out
