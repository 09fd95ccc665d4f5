"""Run the real HTTP app (uvicorn + the project's guard) in a background thread on a free port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx2

from mcp_docker.config import Settings
from mcp_docker.docker.client import Engine
from mcp_docker.server import create_server
from mcp_docker.transport import uvicorn_server

TOKEN = "test-token-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class HttpServer:
    url: str  # the MCP endpoint
    base: str
    token: str | None
    engine: Engine | None

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


@contextmanager
def running_http(settings: Settings, engine: Engine | None = None) -> Iterator[HttpServer]:
    port = free_port()
    settings = settings.model_copy(update={"transport": "http", "http_port": port})
    server: Any = uvicorn_server(create_server(settings, engine=engine), settings)
    thread = threading.Thread(target=server.run, name="mcpd-http", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the HTTP server did not start")
        time.sleep(0.05)
    try:
        yield HttpServer(url=f"{base}/mcp", base=base, token=settings.http_token, engine=engine)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        assert not thread.is_alive(), "the HTTP server did not stop"


def http_client(token: str | None, **kwargs: Any) -> httpx2.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0), **kwargs)
