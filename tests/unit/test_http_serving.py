"""The uvicorn and SDK shapes the HTTP transport leans on: these fail loudly when either changes.

`mcp_docker.http_serving` subclasses uvicorn's h11 protocol (it reads `conn` and `transport` and
overrides four methods); `transport.build_app` passes the SDK session manager's limits by name.
"""

from __future__ import annotations

import asyncio
import inspect

import h11
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from mcp_docker.config import Settings
from mcp_docker.http_serving import HeaderDeadlineProtocol, protocol_for, uvicorn_config


def test_uvicorn_h11_protocol_has_the_hooks_we_override() -> None:
    for name in ("connection_made", "connection_lost", "handle_events", "on_response_complete"):
        assert callable(getattr(H11Protocol, name, None)), f"uvicorn's H11Protocol lost {name}"
        assert name in HeaderDeadlineProtocol.__dict__
    loop = asyncio.new_event_loop()
    try:
        config = Config(app=lambda *_: None, log_config=None)
        proto = H11Protocol(config, ServerState(), {}, _loop=loop)
        assert isinstance(proto.conn, h11.Connection)
        assert proto.conn.their_state is h11.IDLE
        assert hasattr(proto, "transport") and hasattr(proto, "loop")
    finally:
        loop.close()


def test_uvicorn_config_takes_our_protocol_and_timeouts() -> None:
    settings = Settings(http_header_timeout=3, http_keep_alive_timeout=7)
    config = uvicorn_config(lambda *_: None, settings)
    config.load()
    assert issubclass(config.http_protocol_class, HeaderDeadlineProtocol)
    assert config.http_protocol_class.header_timeout == 3
    assert config.timeout_keep_alive == 7
    assert protocol_for(settings) is not HeaderDeadlineProtocol


def test_sdk_session_manager_takes_the_session_limits() -> None:
    params = inspect.signature(StreamableHTTPSessionManager.__init__).parameters
    assert "session_idle_timeout" in params and "max_sessions" in params
    from mcp.server import MCPServer

    app_params = inspect.signature(MCPServer.streamable_http_app).parameters
    assert "session_idle_timeout" in app_params and "max_sessions" in app_params
