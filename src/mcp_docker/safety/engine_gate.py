"""The engine gate: one allow-list decision on every request that is really sent to the engine.

`check_engine_request(request, facts, settings)` is a pure function of one engine API request (method,
path without its `/v1.xx` prefix, query, decoded JSON body) and of what it may look up (`Facts`). It
returns None when the request may go, and raises `GateRefusal` (an `UnsafeOperation`) naming the field
refused and the setting that would allow it.

Every endpoint is on `ENDPOINTS`: the read-only GETs and HEADs the server and the CLIs need; each
state-changing endpoint with its checker (the bodies are checked field by field against allow-lists,
see gate_container.py, gate_mounts.py, gate_objects.py); any endpoint not on the table is refused.
Starting, restarting, exec'ing into, attaching to and copying into a container re-check its CURRENT
configuration as the engine reports it, whoever made it.

Where it runs: on the docker-py client of every `Engine` (docker/gate_hook.py), so every request any
tool sends passes here before it leaves; and in the gated socket that Compose and buildx are pointed
at (gate_proxy.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from mcp_docker.config import Settings
from mcp_docker.safety.gate_base import EngineRequest, Facts, GateRefusal, is_zero
from mcp_docker.safety.gate_container import (
    check_container_create,
    check_container_update,
    check_current_container,
    check_exec_create,
)
from mcp_docker.safety.gate_objects import (
    check_build,
    check_network_connect,
    check_network_create,
    check_service_spec,
    check_service_update,
    check_volume_create,
)

__all__ = ["ENDPOINTS", "EngineRequest", "Facts", "GateRefusal", "check_engine_request", "parse_request"]

Check = Callable[[EngineRequest, dict[str, str], Settings, Facts], None]


def _ok(request: EngineRequest, args: dict[str, str], settings: Settings, facts: Facts) -> None:
    return None


def _current(why: str) -> Check:
    def check(request: EngineRequest, args: dict[str, str], settings: Settings, facts: Facts) -> None:
        if why in ("start", "restart") and not is_zero(request.body):
            raise GateRefusal(f"a body on container {why} (old APIs took a new HostConfig there)", f"{why}.body")
        check_current_container(args["id"], settings, facts, why)

    return check


def _exec(request: EngineRequest, args: dict[str, str], settings: Settings, facts: Facts) -> None:
    check_exec_create(request.body, settings)
    check_current_container(args["id"], settings, facts, "exec")


def _create(request: EngineRequest, args: dict[str, str], settings: Settings, facts: Facts) -> None:
    check_container_create(request.body, settings, facts)


def _update(request: EngineRequest, args: dict[str, str], settings: Settings, facts: Facts) -> None:
    check_container_update(request.body, settings, facts)


def _pull(request: EngineRequest, args: dict[str, str], settings: Settings, facts: Facts) -> None:
    source = request.param("fromSrc")
    if source not in (None, "", "-"):
        raise GateRefusal("an image import from a URL (the engine would fetch it itself)", "images/create.fromSrc")


def _volume(request: EngineRequest, args: dict[str, str], settings: Settings, facts: Facts) -> None:
    check_volume_create(request.body, settings)


def _network(request: EngineRequest, args: dict[str, str], settings: Settings, facts: Facts) -> None:
    check_network_create(request.body, settings)


def _connect(request: EngineRequest, args: dict[str, str], settings: Settings, facts: Facts) -> None:
    check_network_connect(args["id"], request.body, settings, facts)


def _build(request: EngineRequest, args: dict[str, str], settings: Settings, facts: Facts) -> None:
    check_build(request, settings)


def _service_create(request: EngineRequest, args: dict[str, str], settings: Settings, facts: Facts) -> None:
    check_service_spec(request.body, settings, facts)


def _service_update(request: EngineRequest, args: dict[str, str], settings: Settings, facts: Facts) -> None:
    check_service_update(args["id"], request, settings, facts)


@dataclass(frozen=True)
class Endpoint:
    methods: frozenset[str]
    pattern: re.Pattern[str]
    check: Check
    why: str


def _e(methods: str, path: str, check: Check, why: str) -> Endpoint:
    regex = "^" + re.sub(r"\{(\w+)\}", lambda m: f"(?P<{m.group(1)}>[^/]+)", path) + "$"
    if "{name*}" in path:  # image names have slashes
        regex = "^" + path.replace("{name*}", "(?P<name>.+)") + "$"
    return Endpoint(frozenset(methods.split()), re.compile(regex), check, why)


READ = "GET HEAD"
ENDPOINTS: list[Endpoint] = [
    # Read-only: the engine's state, logs and files, nothing changed.
    *(
        _e(READ, p, _ok, "read only")
        for p in (
            "/_ping",
            "/version",
            "/info",
            "/events",
            "/system/df",
            "/containers/json",
            "/containers/{id}/json",
            "/containers/{id}/top",
            "/containers/{id}/logs",
            "/containers/{id}/changes",
            "/containers/{id}/stats",
            "/containers/{id}/archive",
            "/containers/{id}/export",
            "/images/json",
            "/images/search",
            "/images/get",
            "/images/{name*}/json",
            "/images/{name*}/history",
            "/images/{name*}/get",
            "/networks",
            "/networks/{id}",
            "/volumes",
            "/volumes/{id}",
            "/exec/{id}/json",
            "/swarm",
            "/services",
            "/services/{id}",
            "/services/{id}/logs",
            "/tasks",
            "/tasks/{id}",
            "/tasks/{id}/logs",
            "/nodes",
            "/nodes/{id}",
            "/plugins",
            "/distribution/{name*}/json",
        )
    ),
    _e("POST", "/auth", _ok, "checks registry credentials"),
    # Containers.
    _e("POST", "/containers/create", _create, "body checked field by field"),
    _e("POST", "/containers/{id}/start", _current("start"), "current configuration re-checked"),
    _e("POST", "/containers/{id}/restart", _current("restart"), "current configuration re-checked"),
    _e("POST", "/containers/{id}/attach", _current("attach"), "current configuration re-checked"),
    _e("PUT", "/containers/{id}/archive", _current("copy into"), "current configuration re-checked"),
    _e("POST", "/containers/{id}/exec", _exec, "exec body and current configuration checked"),
    _e("POST", "/containers/{id}/update", _update, "resources only, checked"),
    *(
        _e("POST", f"/containers/{{id}}/{verb}", _ok, "no new access")
        for verb in ("stop", "kill", "pause", "unpause", "wait", "rename", "resize")
    ),
    _e("DELETE", "/containers/{id}", _ok, "removal (levels and confirmation apply)"),
    _e("POST", "/containers/prune", _ok, "removal"),
    _e("POST", "/exec/{id}/start", _ok, "the exec was checked when created"),
    _e("POST", "/exec/{id}/resize", _ok, "no new access"),
    # Images.
    _e("POST", "/images/create", _pull, "pull or import from the request body"),
    _e("POST", "/images/load", _ok, "image layers only"),
    _e("POST", "/images/{name*}/tag", _ok, "a name only"),
    _e("POST", "/images/{name*}/push", _ok, "registries are checked by the push tool"),
    _e("DELETE", "/images/{name*}", _ok, "removal"),
    _e("POST", "/images/prune", _ok, "removal"),
    _e("POST", "/build", _build, "query checked"),
    _e("POST", "/build/prune", _ok, "removal"),
    _e("POST", "/build/cancel", _ok, "no new access"),
    _e("POST", "/session", _ok, "BuildKit session (the build request itself is checked)"),
    _e("POST", "/grpc", _ok, "BuildKit control API (see docs/SECURITY.md: its content is not inspected)"),
    # Networks and volumes.
    _e("POST", "/networks/create", _network, "body checked field by field"),
    _e("POST", "/networks/{id}/connect", _connect, "network and endpoint checked"),
    _e("POST", "/networks/{id}/disconnect", _ok, "no new access"),
    _e("DELETE", "/networks/{id}", _ok, "removal"),
    _e("POST", "/networks/prune", _ok, "removal"),
    _e("POST", "/volumes/create", _volume, "driver and options checked"),
    _e("DELETE", "/volumes/{id}", _ok, "removal"),
    _e("POST", "/volumes/prune", _ok, "removal"),
    # Swarm services.
    _e("POST", "/services/create", _service_create, "spec checked field by field"),
    _e("POST", "/services/{id}/update", _service_update, "resulting spec checked whole"),
    _e("DELETE", "/services/{id}", _ok, "removal"),
]

_VERSION = re.compile(r"^/v(\d+)\.(\d+)(?=/)")
_OLDEST_API = (1, 24)
"""Before API 1.24 the engine took a HostConfig in the body of `start`, and other old shapes."""
RAW_BODY = [
    re.compile(p)
    for p in (
        r"^/build$",
        r"^/containers/[^/]+/archive$",
        r"^/images/load$",
        r"^/images/create$",
        r"^/session$",
        r"^/grpc$",
    )
]
"""Endpoints whose body is not JSON (a tar stream, an image, a hijacked protocol). Every other body is
decoded as JSON whatever its Content-Type says (the engine decodes some without looking at it)."""


def raw_body(path: str) -> bool:
    stripped = _VERSION.sub("", path.split("?", 1)[0])
    return any(p.match(stripped) for p in RAW_BODY)


def parse_request(method: str, target: str, body: Any = None, upgrade: bool = False) -> EngineRequest:
    """An `EngineRequest` from a method, a URL or request target, and a decoded body."""
    parts = urlsplit(target)
    raw_path = unquote(parts.path) or "/"
    match = _VERSION.match(raw_path)
    version = f"{match.group(1)}.{match.group(2)}" if match else None
    path = _VERSION.sub("", raw_path)
    query = parse_qs(parts.query, keep_blank_values=True)
    return EngineRequest(method.upper(), path, query, body, upgrade, version)


def find_endpoint(method: str, path: str) -> tuple[Endpoint, dict[str, str]] | None:
    for endpoint in ENDPOINTS:
        match = endpoint.pattern.match(path)
        if match and method in endpoint.methods:
            return endpoint, match.groupdict()
    return None


def check_engine_request(request: EngineRequest, facts: Facts, settings: Settings) -> None:
    """Decide on one engine request: return to let it go, raise `GateRefusal` to refuse it."""
    if ".." in request.path.split("/"):
        raise GateRefusal(f"path {request.path!r}", "path")
    if request.version is not None and tuple(int(x) for x in request.version.split(".")) < _OLDEST_API:
        raise GateRefusal(f"engine API version {request.version} (the server speaks 1.24 or newer)", "version")
    found = find_endpoint(request.method, request.path)
    if found is None:
        raise GateRefusal(
            f"engine endpoint {request.method} {request.path} is not on the server's allow-list", "endpoint"
        )
    endpoint, args = found
    endpoint.check(request, args, settings, facts)
