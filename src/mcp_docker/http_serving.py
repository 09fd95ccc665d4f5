"""uvicorn for the HTTP transport, with a deadline on request headers.

uvicorn bounds an idle keep-alive connection (`timeout_keep_alive`) but not a client that connects
and sends its request line and headers slowly, or not at all: such connections would stay open as
long as the client likes. `HeaderDeadlineProtocol` closes a connection whose request headers are
not complete within MCP_DOCKER_HTTP_HEADER_TIMEOUT seconds of the connection opening (or of the
previous response ending). Bodies are bounded in `http_guard` (MCP_DOCKER_HTTP_BODY_TIMEOUT).

This is the one module that leans on uvicorn's internals (`H11Protocol.conn`, `transport`,
`handle_events`, `on_response_complete`); `tests/unit/test_library_shapes.py` fails loudly when they
change shape.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from mcp_docker.config import Settings

_TIMEOUT_BODY = b'{"error": "Request headers not received in time (MCP_DOCKER_HTTP_HEADER_TIMEOUT); connect again."}'
TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
    + b"content-length: %d\r\n\r\n" % len(_TIMEOUT_BODY)
    + _TIMEOUT_BODY
)


class HeaderDeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing connections that do not finish their headers in time."""

    header_timeout: float = 10.0
    cut_off = 0  # connections closed for slow headers, for tests and the load report

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm()

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:  # request line and headers are in
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout, self._deadline_passed)

    def _disarm(self) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
            self._header_timer = None

    def _deadline_passed(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        type(self).cut_off += 1
        self.transport.write(TIMEOUT_RESPONSE)
        self.transport.close()


def protocol_for(settings: Settings) -> type[HeaderDeadlineProtocol]:
    """The protocol class with this server's header deadline."""
    return type("HeaderDeadline", (HeaderDeadlineProtocol,), {"header_timeout": settings.http_header_timeout})


def uvicorn_config(app: Any, settings: Settings) -> Any:
    import uvicorn

    return uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        http=protocol_for(settings),
        timeout_keep_alive=settings.http_keep_alive_timeout,
        log_level=settings.log_level.lower(),
        access_log=False,
        log_config=None,  # uvicorn's own config would log to stdout
        timeout_graceful_shutdown=5,
        lifespan="on",
    )
