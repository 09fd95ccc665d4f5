"""The one place where the engine gate is put on docker-py: `install_gate(api, settings)`.

docker-py's `APIClient` is a `requests.Session`; every request it makes (JSON calls, streams, builds,
attach and exec hijacks) goes through `Session.send` with the prepared request. `install_gate`
hooks that method on the instance (`library_internals.check_before_send`), so every request any
tool sends is decided by
`check_engine_request` before it leaves; a refusal raises `GateRefusal` (an `UnsafeOperation`, which
the tool decorator turns into a ToolError naming the field and the setting) and nothing is sent.
The facts the gate needs (inspect a container, network, volume, service; engine info) are read with
the same client: GET requests, which the gate lets through.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from mcp_docker.config import Settings
from mcp_docker.docker.library_internals import check_before_send
from mcp_docker.safety.engine_gate import check_engine_request, parse_request, raw_body
from mcp_docker.safety.gate_base import GateRefusal
from mcp_docker.utils.logger import logger


class ApiFacts:
    """`Facts` read through a docker-py APIClient (each object looked up once per request)."""

    def __init__(self, api: Any) -> None:
        self.api = api
        self._memo: dict[tuple[str, str], Any] = {}

    def _get(self, kind: str, ref: str, call: Callable[[str], Any]) -> Any:
        import docker.errors

        key = (kind, ref)
        if key not in self._memo:
            try:
                self._memo[key] = call(ref)
            except docker.errors.NotFound:
                self._memo[key] = None
        return self._memo[key]

    def container(self, ref: str) -> dict[str, Any] | None:
        return self._get("container", ref, self.api.inspect_container)  # type: ignore[no-any-return]

    def network(self, ref: str) -> dict[str, Any] | None:
        return self._get("network", ref, self.api.inspect_network)  # type: ignore[no-any-return]

    def volume(self, name: str) -> dict[str, Any] | None:
        return self._get("volume", name, self.api.inspect_volume)  # type: ignore[no-any-return]

    def service(self, ref: str) -> dict[str, Any] | None:
        return self._get("service", ref, self.api.inspect_service)  # type: ignore[no-any-return]

    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = self._get("info", "", lambda _: self.api.info()) or {}
        return info


def decode_body(body: Any, url: str) -> Any:
    """The JSON body of a request, decoded (whatever its Content-Type says); None for no body or an
    endpoint whose body is not JSON (a build's tar stream, an archive)."""
    if body is None or raw_body(urlsplit(url).path):
        return None
    if isinstance(body, bytes | bytearray):
        body = body.decode("utf-8")
    if not isinstance(body, str):
        raise GateRefusal("a streamed body on an endpoint that takes JSON", "body")
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError as exc:
        raise GateRefusal("a request body that is not valid JSON", "body") from exc


def install_gate(api: Any, settings: Callable[[], Settings]) -> None:
    """Make every request of `api` (a docker-py APIClient) pass the engine gate first."""

    def check(request: Any) -> None:
        headers = request.headers or {}
        decision = parse_request(
            request.method or "GET",
            request.url or "/",
            decode_body(request.body, request.url or "/"),
            upgrade="upgrade" in str(headers.get("Connection", "")).lower(),
        )
        try:
            check_engine_request(decision, ApiFacts(api), settings())
        except GateRefusal as refusal:
            logger.warning("engine gate refused {} {}: {}", decision.method, decision.path, refusal.message)
            raise

    check_before_send(api, check)
