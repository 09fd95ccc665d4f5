"""The transports: stdio (the default) and streamable HTTP (`--transport http`: MCP at /mcp, health at
/healthz).

On stdio, a line that is not JSON-RPC gets a JSON-RPC error (-32700 parse error, -32600 invalid
request) instead of silence, and the server keeps serving.

Safe by default: binds 127.0.0.1; off loopback it refuses to start without a bearer token (see
`config.Settings`). Every request to /mcp passes the checks of `http_guard` (Host, Origin, token,
body size and deadline) before the MCP SDK sees it; `http_serving` bounds slow headers. Sessions
(2025-11-25 clients) are bounded in number (MCP_DOCKER_HTTP_MAX_SESSIONS, 503 past it) and expire
when idle (MCP_DOCKER_HTTP_SESSION_IDLE_TIMEOUT, their id then gets 404): both are the SDK session
manager's own limits, set here.

Both protocol eras are served on the same endpoint: 2025-11-25 clients do the initialize handshake
and get a session; 2026-07-28 clients send the protocol version header on every stateless request.
`/healthz` answers GET without a token (it says only "ok"), for the container image's HEALTHCHECK.
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

import anyio
import anyio.from_thread
import anyio.lowlevel
from mcp.server import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp

from mcp_docker.config import Settings
from mcp_docker.http_guard import (
    HEALTH_PATH,
    WILDCARD_BINDS,
    GuardMiddleware,
    allowed_hosts,
    allowed_origins,
    host_allowed,
    origin_allowed,
)
from mcp_docker.utils.logger import logger

MCP_PATH = "/mcp"
__all__ = [
    "HEALTH_PATH",
    "MCP_PATH",
    "allowed_hosts",
    "allowed_origins",
    "build_app",
    "host_allowed",
    "origin_allowed",
    "protocol_error",
    "run_http",
    "run_stdio",
    "uvicorn_server",
]


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
    from mcp.shared.message import SessionMessage

    from mcp_docker.sdk_internals import serve_streams, stdio_streams

    async with anyio.create_task_group() as outer:
        outer.start_soon(_cancel_on_signal, outer.cancel_scope)
        async with stdio_streams(StdinLines()) as (read_stream, write_stream):
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
                await serve_streams(server, messages, write_stream)
                tg.cancel_scope.cancel()
        outer.cancel_scope.cancel()


async def _cancel_on_signal(scope: anyio.CancelScope) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            logger.info("signal {}: stopping", signal.Signals(signum).name)
            scope.cancel()
            return


def build_app(server: MCPServer[Any], settings: Settings) -> ASGIApp:
    """The ASGI app: the SDK's streamable HTTP app at /mcp behind `GuardMiddleware`."""
    inner = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        max_request_body_size=settings.max_request_bytes,
        # Host/Origin are checked by GuardMiddleware (with configurable lists); the SDK still checks
        # the Content-Type of POSTs.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        host=settings.http_host,
        session_idle_timeout=settings.http_session_idle_timeout,
        max_sessions=settings.http_max_sessions,
    )
    return GuardMiddleware(inner, settings)


def uvicorn_server(server: MCPServer[Any], settings: Settings) -> Any:
    import uvicorn

    from mcp_docker.http_serving import uvicorn_config  # h11 only when serving HTTP

    return uvicorn.Server(uvicorn_config(build_app(server, settings), settings))


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
