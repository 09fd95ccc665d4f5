"""The transports: stdio (the default) and streamable HTTP (`--transport http`: MCP at /mcp, health at
/healthz).

On stdio, a line that is not JSON-RPC gets a JSON-RPC error (-32700 parse error, -32600 invalid
request) instead of silence, and the server keeps serving.

Safe by default: binds 127.0.0.1; off loopback it refuses to start without a bearer token (see
`config.Settings`). Every request to /mcp is checked, in this order, before the MCP SDK sees it:

1. Host header against the allowed hosts (DNS rebinding) -> 421;
2. Origin header, when a browser sends one, against the allowed origins -> 403;
3. `Authorization: Bearer <MCP_DOCKER_HTTP_TOKEN>` when a token is set -> 401;
4. body size against MCP_DOCKER_MAX_REQUEST_BYTES -> 413.

Both protocol eras are served on the same endpoint: 2025-11-25 clients do the initialize handshake
and get a session; 2026-07-28 clients send the protocol version header on every stateless request.
`/healthz` answers GET without a token (it reveals only that the server is up), for the container
image's HEALTHCHECK.
"""

from __future__ import annotations

import hmac
import json
import signal
import sys
import threading
from typing import Any

import anyio
import anyio.from_thread
import anyio.lowlevel
from mcp.server import MCPServer
from mcp.server.transport_security import RequestBodyLimitMiddleware, TransportSecuritySettings
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_docker import __version__
from mcp_docker.config import Settings, is_loopback
from mcp_docker.utils.logger import logger

MCP_PATH = "/mcp"
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


def protocol_error(exc: Exception) -> Any:
    """The JSON-RPC error for a line the SDK could not read as a message (id unknown: null)."""
    from mcp_types import INVALID_REQUEST, PARSE_ERROR, ErrorData, JSONRPCError
    from pydantic import ValidationError

    if isinstance(exc, ValidationError) and any(e.get("type") == "json_invalid" for e in exc.errors()):
        error = ErrorData(code=PARSE_ERROR, message="Parse error: the line is not valid JSON.")
    else:
        error = ErrorData(code=INVALID_REQUEST, message="Invalid request: not a JSON-RPC 2.0 message.")
    return JSONRPCError(jsonrpc="2.0", id=None, error=error)


class StdinLines:
    """Lines of stdin, read by a daemon thread: a signal can stop the server while a read is pending
    (a worker-thread read would hold shutdown until the client wrote something)."""

    def __init__(self) -> None:
        self._send, self._receive = anyio.create_memory_object_stream[str | None](16)
        self._thread: threading.Thread | None = None

    def _read(self, token: Any) -> None:
        buffer = sys.stdin.buffer
        try:
            while True:
                line = buffer.readline()
                anyio.from_thread.run(self._send.send, line.decode("utf-8", "replace") if line else None, token=token)
                if not line:
                    return
        except Exception:  # the event loop is gone: the server stopped
            return

    def __aiter__(self) -> StdinLines:
        if self._thread is None:
            token = anyio.lowlevel.current_token()
            self._thread = threading.Thread(target=self._read, args=(token,), name="mcp-stdin", daemon=True)
            self._thread.start()
        return self

    async def __anext__(self) -> str:
        item = await self._receive.receive()
        if item is None:
            raise StopAsyncIteration
        return item


async def run_stdio(server: MCPServer[Any]) -> None:
    """Serve MCP on stdin/stdout until end of input or SIGINT/SIGTERM; unreadable lines get protocol
    errors. Stopping cancels in-flight calls (their engine requests are shut) and closes the engine client."""
    from mcp.server.stdio import stdio_server
    from mcp.shared.message import SessionMessage

    lowlevel = server._lowlevel_server
    async with anyio.create_task_group() as outer:
        outer.start_soon(_cancel_on_signal, outer.cancel_scope)
        async with stdio_server(stdin=StdinLines()) as (read_stream, write_stream):  # type: ignore[arg-type]
            forward, messages = anyio.create_memory_object_stream[SessionMessage | Exception](0)

            async def pump() -> None:
                async with forward:
                    async for item in read_stream:
                        if isinstance(item, Exception):
                            logger.warning("unreadable message on stdin: {}", type(item).__name__)
                            await write_stream.send(SessionMessage(protocol_error(item)))
                        else:
                            await forward.send(item)

            async with anyio.create_task_group() as tg:
                tg.start_soon(pump)
                await lowlevel.run(messages, write_stream, lowlevel.create_initialization_options())
                tg.cancel_scope.cancel()
        outer.cancel_scope.cancel()


async def _cancel_on_signal(scope: anyio.CancelScope) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            logger.info("signal {}: stopping", signal.Signals(signum).name)
            scope.cancel()
            return


async def _reply(send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
    data = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})


class GuardMiddleware:
    """Host, Origin, token and size checks in front of the SDK's app, and the /healthz endpoint."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.limited = RequestBodyLimitMiddleware(app, settings.max_request_bytes)
        self.max_bytes = settings.max_request_bytes
        self.hosts = allowed_hosts(settings)
        self.origins = allowed_origins(settings)
        self.token = settings.http_token.encode() if settings.http_token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan: the SDK's session manager starts and stops here
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path = scope.get("path", "")
        if path == HEALTH_PATH:
            if scope["method"] not in ("GET", "HEAD"):
                await _reply(send, 405, {"error": "use GET"}, {"allow": "GET, HEAD"})
                return
            await _reply(send, 200, {"status": "ok", "server": "mcp-docker", "version": __version__})
            return
        if not host_allowed(headers.get("host"), self.hosts):
            logger.warning("HTTP request refused: Host {!r} not allowed", headers.get("host"))
            await _reply(
                send, 421, {"error": "Host not allowed: add it to MCP_DOCKER_HTTP_ALLOWED_HOSTS if it is yours."}
            )
            return
        if not origin_allowed(headers.get("origin"), self.origins):
            logger.warning("HTTP request refused: Origin {!r} not allowed", headers.get("origin"))
            await _reply(
                send, 403, {"error": "Origin not allowed: add it to MCP_DOCKER_HTTP_ALLOWED_ORIGINS if it is yours."}
            )
            return
        if self.token is not None and not self._authorized(headers.get("authorization")):
            await _reply(
                send,
                401,
                {"error": "Missing or wrong bearer token: send 'Authorization: Bearer <MCP_DOCKER_HTTP_TOKEN>'."},
                {"www-authenticate": 'Bearer realm="mcp-docker"'},
            )
            return
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await _reply(send, 413, {"error": f"Request body larger than {self.max_bytes} bytes."})
            return
        await self.limited(scope, receive, send)

    def _authorized(self, header: str | None) -> bool:
        if not header:
            return False
        scheme, _, credentials = header.strip().partition(" ")
        if scheme.lower() != "bearer" or self.token is None:
            return False
        return hmac.compare_digest(credentials.strip().encode(), self.token)


def build_app(server: MCPServer[Any], settings: Settings) -> ASGIApp:
    """The ASGI app: the SDK's streamable HTTP app at /mcp behind `GuardMiddleware`."""
    inner = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        max_request_body_size=settings.max_request_bytes,
        # Host/Origin are checked by GuardMiddleware (with configurable lists); the SDK still checks
        # the Content-Type of POSTs.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        host=settings.http_host,
    )
    return GuardMiddleware(inner, settings)


def uvicorn_server(server: MCPServer[Any], settings: Settings) -> Any:
    import uvicorn

    config = uvicorn.Config(
        build_app(server, settings),
        host=settings.http_host,
        port=settings.http_port,
        log_level=settings.log_level.lower(),
        access_log=False,
        log_config=None,  # uvicorn's own config would log to stdout
        timeout_graceful_shutdown=5,
        lifespan="on",
    )
    return uvicorn.Server(config)


async def run_http(server: MCPServer[Any], settings: Settings) -> None:
    """Serve until SIGINT/SIGTERM; in-flight calls are cancelled and the engine client closed."""
    if settings.http_host in WILDCARD_BINDS and not settings.http_allowed_hosts:
        logger.warning(
            "HTTP on {} accepts any Host header; set MCP_DOCKER_HTTP_ALLOWED_HOSTS to the names clients use",
            settings.http_host,
        )
    if not settings.http_token:
        logger.warning("HTTP without a token: any local process can use the engine; set MCP_DOCKER_HTTP_TOKEN")
    logger.info("serving MCP on http://{}:{}{}", settings.http_host, settings.http_port, MCP_PATH)
    await uvicorn_server(server, settings).serve()
