"""The HTTP front door under abuse: slow headers and bodies, duplicate credentials, a token that is
blank, /healthz without the token, and the session limits (number and idle expiry).

Each refusal must be clean: an HTTP status with a JSON body (a JSON-RPC error where the SDK answers),
and the server keeps serving afterwards.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator

import anyio
import httpx2
import pytest

from tests.conftest import allow_settings
from tests.e2e.http_server import TOKEN, HttpServer, free_port, running_http
from tests.e2e.test_http import ACCEPT, LEGACY, cli_env, modern_request, rpc_reply

pytestmark = [pytest.mark.anyio]

AUTH = {"Authorization": f"Bearer {TOKEN}"}
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "limits", "version": "0"}},
}


@pytest.fixture(scope="module")
def strict_server() -> Iterator[HttpServer]:
    settings = allow_settings(
        http_token=TOKEN, http_header_timeout=1, http_body_timeout=1, http_max_sessions=3, http_keep_alive_timeout=1
    )
    with running_http(settings) as server:
        yield server


async def open_session(c: httpx2.AsyncClient, server: HttpServer) -> httpx2.Response:
    return await c.post(server.url, json=INIT, headers={**ACCEPT, **AUTH})


async def still_serves(server: HttpServer) -> None:
    body, headers = modern_request("tools/list", {})
    async with httpx2.AsyncClient(timeout=30) as c:
        reply = await c.post(server.url, content=body, headers={**headers, **AUTH})
    assert reply.status_code == 200
    assert rpc_reply(reply)["result"]["tools"]


# --- slow clients ----------------------------------------------------------------------------------


def _slow_connection(port: int, partial: bytes) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port))
    if partial:
        s.sendall(partial)
    return s


async def test_60_slow_header_connections_are_cut_off(strict_server: HttpServer) -> None:
    port = int(strict_server.base.rsplit(":", 1)[1])
    silent = [_slow_connection(port, b"") for _ in range(20)]
    trickling = [_slow_connection(port, b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ") for _ in range(40)]
    try:
        for s in trickling[:10]:
            s.sendall(b"a")  # a little more, never the end of the headers
        ended: list[bytes] = []
        for s in silent + trickling:
            s.settimeout(15)  # a bound for the test, far over the 1 s deadline
            data = b""
            while chunk := s.recv(4096):
                data += chunk
            ended.append(data)
        assert len(ended) == 60
        assert all(d.startswith(b"HTTP/1.1 408") for d in ended), ended[:3]
        assert b"connect again" in ended[0]
    finally:
        for s in silent + trickling:
            s.close()
    await still_serves(strict_server)


async def test_slow_body_gets_408_and_the_server_keeps_serving(strict_server: HttpServer) -> None:
    port = int(strict_server.base.rsplit(":", 1)[1])
    body = json.dumps(INIT).encode()
    head = (
        f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
        f"Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    s = _slow_connection(port, head + body[:10])
    try:
        s.settimeout(15)
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    finally:
        s.close()
    assert data.startswith(b"HTTP/1.1 408"), data
    assert b"MCP_DOCKER_HTTP_BODY_TIMEOUT" in data
    await still_serves(strict_server)


# --- credentials and health ----------------------------------------------------------------------


async def test_two_authorization_headers_are_refused(strict_server: HttpServer) -> None:
    body, headers = modern_request("tools/list", {})
    raw = [(k, v) for k, v in headers.items()] + [("Authorization", f"Bearer {TOKEN}")] * 2
    async with httpx2.AsyncClient() as c:
        twice = await c.post(strict_server.url, content=body, headers=raw)
        mixed = await c.post(
            strict_server.url,
            content=body,
            headers=[*headers.items(), ("Authorization", "Bearer nope"), ("Authorization", f"Bearer {TOKEN}")],
        )
        once = await c.post(strict_server.url, content=body, headers={**headers, **AUTH})
    for refused in (twice, mixed):
        assert refused.status_code == 400
        assert "More than one Authorization header" in refused.json()["error"]
    assert once.status_code == 200


async def test_healthz_says_only_ok_without_the_token(strict_server: HttpServer) -> None:
    async with httpx2.AsyncClient() as c:
        anonymous = await c.get(f"{strict_server.base}/healthz")
        wrong = await c.get(f"{strict_server.base}/healthz", headers={"Authorization": "Bearer nope"})
        authorized = await c.get(f"{strict_server.base}/healthz", headers=AUTH)
    assert anonymous.status_code == wrong.status_code == authorized.status_code == 200
    assert anonymous.json() == {"status": "ok"}
    assert wrong.json() == {"status": "ok"}
    details = authorized.json()
    assert details["status"] == "ok" and details["server"] == "mcp-docker" and details["version"]


@pytest.mark.parametrize("token", ["", "   ", "\t"])
def test_blank_token_refuses_to_start(token: str) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "mcp_docker", "--transport", "http", "--port", str(free_port())],
        env=cli_env(MCP_DOCKER_HTTP_TOKEN=token),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert "MCP_DOCKER_HTTP_TOKEN is set but empty" in run.stderr
    assert "Traceback" not in run.stderr and run.stdout == ""


# --- sessions ------------------------------------------------------------------------------------


async def test_session_limit_refuses_new_sessions_with_503_and_frees_room(strict_server: HttpServer) -> None:
    async with httpx2.AsyncClient(timeout=30) as c:
        opened = [await open_session(c, strict_server) for _ in range(3)]
        assert [r.status_code for r in opened] == [200] * 3
        refused = await open_session(c, strict_server)
        assert refused.status_code == 503
        error = refused.json()["error"]
        assert error["code"] == -32603 and "Too many open sessions" in error["message"]
        # The open sessions still work; ending one makes room for a new one.
        first = opened[0].headers["mcp-session-id"]
        session = {**ACCEPT, **AUTH, "Mcp-Session-Id": first, "MCP-Protocol-Version": LEGACY}
        note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        assert (await c.post(strict_server.url, json=note, headers=session)).status_code == 202
        assert (await c.delete(strict_server.url, headers=session)).status_code == 200
        again = await open_session(c, strict_server)
        assert again.status_code == 200
        for r in [*opened[1:], again]:
            await c.delete(strict_server.url, headers={**session, "Mcp-Session-Id": r.headers["mcp-session-id"]})


async def test_idle_session_expires_and_its_id_gets_404() -> None:
    settings = allow_settings(http_token=TOKEN, http_session_idle_timeout=1, http_max_sessions=2)
    with running_http(settings) as server:
        async with httpx2.AsyncClient(timeout=30) as c:
            ids = [(await open_session(c, server)).headers["mcp-session-id"] for _ in range(2)]
            assert (await open_session(c, server)).status_code == 503
            await anyio.sleep(2.5)  # past the 1 s idle expiry
            session = {**ACCEPT, **AUTH, "Mcp-Session-Id": ids[0], "MCP-Protocol-Version": LEGACY}
            listed = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}
            gone = await c.post(server.url, json=listed, headers=session)
            assert gone.status_code == 404
            assert "Session not found" in gone.json()["error"]["message"]
            # Expired sessions no longer count against the limit.
            assert (await open_session(c, server)).status_code == 200
