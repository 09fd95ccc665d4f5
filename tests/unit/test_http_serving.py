"""The HTTP transport's uvicorn config and the SDK session limits it passes by name.

The h11 protocol hooks `mcp_docker.http_serving` overrides are asserted in test_library_shapes.py.
"""

from __future__ import annotations

import inspect

from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

from mcp_docker.config import Settings
from mcp_docker.http_serving import HeaderDeadlineProtocol, protocol_for, uvicorn_config


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
