"""The API floor: an engine older than API 1.41 (Docker 20.10) is refused with what to do.

No engine that old runs here, so a stand-in answers `/version` on a unix socket; the two real engines
(1.41 and 1.45) are negotiated in tests/integration/test_system.py."""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from mcp_docker.docker.client import MIN_API, Engine, api_at_least
from mcp_docker.utils.errors import MCPDockerError


class _OldEngine(BaseHTTPRequestHandler):
    def address_string(self) -> str:  # a unix socket has no client address
        return "unix"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body = json.dumps({"ApiVersion": "1.40", "MinAPIVersion": "1.12", "Version": "19.03.15"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def old_engine(tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "old.sock"
    server = socketserver.UnixStreamServer(str(path), _OldEngine)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"unix://{path}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_engine_below_the_floor_is_refused(old_engine: str) -> None:
    eng = Engine(base_url=old_engine, connect_timeout=3)
    with pytest.raises(MCPDockerError) as caught:
        _ = eng.client
    text = str(caught.value)
    assert "API 1.40" in text and f"API {MIN_API} (Docker 20.10) or newer" in text


def test_api_at_least() -> None:
    assert api_at_least("1.45", "1.42") and api_at_least("1.42", "1.42")
    assert not api_at_least("1.41", "1.42")
    assert api_at_least("1.100", "1.45")
