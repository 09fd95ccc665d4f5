"""The HTTP front door: the checks every request passes before the MCP SDK sees it, and /healthz.

In this order:

1. Host header against the allowed hosts (DNS rebinding) -> 421;
2. Origin header, when a browser sends one, against the allowed origins -> 403;
3. exactly one `Authorization` header -> 400; `Bearer <MCP_DOCKER_HTTP_TOKEN>` when a token is set -> 401;
4. the body: at most MCP_DOCKER_MAX_REQUEST_BYTES (-> 413), all of it within MCP_DOCKER_HTTP_BODY_TIMEOUT
   seconds (-> 408). The body is read here, whole, and handed on; a slow client cannot hold a worker.

`/healthz` answers GET without a token with `{"status": "ok"}` only; with the token it also names the
server and its version.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcp_docker import __version__
from mcp_docker.config import Settings, is_loopback
from mcp_docker.utils.logger import logger

HEALTH_PATH = "/healthz"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
WILDCARD_BINDS = ("0.0.0.0", "::", "")  # noqa: S104 - recognised, not bound


def _split_host(value: str) -> tuple[str, str | None]:
    """'name:port' / '[v6]:port' / 'name' -> (name, port or None); names lower-cased, brackets kept off."""
    value = value.strip().lower()
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else None
        return name, port or None
    if value.count(":") > 1:  # a bare IPv6 address
        return value, None
    name, sep, port = value.partition(":")
    return name, (port or None) if sep else None


def allowed_hosts(settings: Settings) -> list[str] | None:
    """Host header values accepted; None means any (a wildcard bind with no list configured)."""
    if settings.http_allowed_hosts:
        return list(settings.http_allowed_hosts)
    if settings.http_host in WILDCARD_BINDS:
        return None
    hosts = list(LOOPBACK_NAMES)
    if not is_loopback(settings.http_host):
        hosts.append(settings.http_host)
    return hosts


def allowed_origins(settings: Settings) -> list[str]:
    """Origin values accepted from browsers: configured, else http(s) on the allowed host names."""
    if settings.http_allowed_origins:
        return list(settings.http_allowed_origins)
    origins: list[str] = []
    for host in allowed_hosts(settings) or list(LOOPBACK_NAMES):
        name, _ = _split_host(host)
        shown = f"[{name}]" if ":" in name else name
        origins += [f"http://{shown}:*", f"https://{shown}:*"]
    return origins


def host_allowed(host: str | None, allowed: list[str] | None) -> bool:
    """'name' or 'name:*' allows any port; 'name:port' that port only."""
    if allowed is None:
        return True
    if not host:
        return False
    name, port = _split_host(host)
    for entry in allowed:
        a_name, a_port = _split_host(entry)
        if a_name == name and (a_port in (None, "*") or a_port == port):
            return True
    return False


def _origin_parts(value: str) -> tuple[str, str, str | None] | None:
    scheme, sep, rest = value.strip().lower().partition("://")
    if not sep or not scheme or not rest or "/" in rest.rstrip("/"):
        return None
    name, port = _split_host(rest.rstrip("/"))
    return (scheme, name, port) if name else None


def origin_allowed(origin: str | None, allowed: list[str]) -> bool:
    """No Origin (a non-browser client) is fine; else scheme, host and port must match an entry
    ('http://name:*' allows any port)."""
    if origin is None:
        return True
    got = _origin_parts(origin)
    if got is None:
        return False
    for entry in allowed:
        want = _origin_parts(entry)
        if want is not None and want[:2] == got[:2] and want[2] in ("*", got[2]):
            return True
    return False


async def _reply(send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
    data = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})


class BodyTooLarge(Exception):
    pass


async def read_body(receive: Receive, max_bytes: int, seconds: float) -> bytes | None:
    """The whole request body, or None when the client did not send it within `seconds`
    (BodyTooLarge past `max_bytes`; a client that hangs up ends the read like a timeout)."""
    chunks: list[bytes] = []
    size = 0
    with anyio.move_on_after(seconds):
        while True:
            message = await receive()
            if message["type"] != "http.request":  # http.disconnect
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > max_bytes:
                raise BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
    return None


def replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the body already read once, then passes on (disconnects)."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


class GuardMiddleware:
    """Host, Origin, token, size and body-deadline checks in front of the SDK's app, and /healthz."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.max_bytes = settings.max_request_bytes
        self.body_timeout = settings.http_body_timeout
        self.hosts = allowed_hosts(settings)
        self.origins = allowed_origins(settings)
        self.token = settings.http_token.encode() if settings.http_token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan: the SDK's session manager starts and stops here
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        authorizations = [v for k, v in scope["headers"] if k.lower() == b"authorization"]
        if scope.get("path", "") == HEALTH_PATH:
            await self._health(scope, send, authorizations)
            return
        refusal = self._refusal(headers, authorizations)
        if refusal is not None:
            await _reply(send, *refusal)
            return
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await _reply(send, 413, {"error": f"Request body larger than {self.max_bytes} bytes."})
            return
        try:
            body = await read_body(receive, self.max_bytes, self.body_timeout)
        except BodyTooLarge:
            await _reply(send, 413, {"error": f"Request body larger than {self.max_bytes} bytes."})
            return
        if body is None:
            logger.warning("HTTP request refused: body not received within {:g} s", self.body_timeout)
            await _reply(
                send,
                408,
                {"error": f"Request body not received within {self.body_timeout:g} s (MCP_DOCKER_HTTP_BODY_TIMEOUT)."},
                {"connection": "close"},
            )
            return
        await self.app(scope, replay(body, receive), send)

    def _refusal(
        self, headers: dict[str, str], authorizations: list[bytes]
    ) -> tuple[int, dict[str, str], dict[str, str]] | None:
        """The (status, body, headers) refusing this request, or None when it may pass."""
        if not host_allowed(headers.get("host"), self.hosts):
            logger.warning("HTTP request refused: Host {!r} not allowed", headers.get("host"))
            return 421, {"error": "Host not allowed: add it to MCP_DOCKER_HTTP_ALLOWED_HOSTS if it is yours."}, {}
        if not origin_allowed(headers.get("origin"), self.origins):
            logger.warning("HTTP request refused: Origin {!r} not allowed", headers.get("origin"))
            return 403, {"error": "Origin not allowed: add it to MCP_DOCKER_HTTP_ALLOWED_ORIGINS if it is yours."}, {}
        if len(authorizations) > 1:
            logger.warning("HTTP request refused: {} Authorization headers", len(authorizations))
            return 400, {"error": "More than one Authorization header: send exactly one."}, {}
        if self.token is not None and not self._authorized(authorizations):
            return (
                401,
                {"error": "Missing or wrong bearer token: send 'Authorization: Bearer <MCP_DOCKER_HTTP_TOKEN>'."},
                {"www-authenticate": 'Bearer realm="mcp-docker"'},
            )
        return None

    async def _health(self, scope: Scope, send: Send, authorizations: list[bytes]) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            await _reply(send, 405, {"error": "use GET"}, {"allow": "GET, HEAD"})
            return
        body: dict[str, Any] = {"status": "ok"}
        if self.token is not None and len(authorizations) == 1 and self._authorized(authorizations):
            body.update(server="mcp-docker", version=__version__)
        await _reply(send, 200, body)

    def _authorized(self, authorizations: list[bytes]) -> bool:
        if len(authorizations) != 1 or self.token is None:
            return False
        scheme, _, credentials = authorizations[0].strip().partition(b" ")
        if scheme.lower() != b"bearer":
            return False
        return hmac.compare_digest(credentials.strip(), self.token)
