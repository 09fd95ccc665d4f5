"""The streamable HTTP transport (`--transport http`): MCP at /mcp on 127.0.0.1 by default."""

from __future__ import annotations

from typing import Any

from mcp.server import MCPServer

from mcp_docker.config import Settings


async def run_http(server: MCPServer[Any], settings: Settings) -> None:  # pragma: no cover - issue 6
    await server.run_streamable_http_async(host=settings.http_host, port=settings.http_port)
