"""The streamable HTTP transport through real HTTP: token, Host/Origin, size cap, health, both eras.

The server runs the project's real ASGI app under uvicorn on a free loopback port; the SDK's own
client talks to it in both protocol eras, and raw HTTP requests check each refusal.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import docker
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import MODES, TEST_LABELS, allow_settings, error_text, structured
from tests.e2e.http_server import TOKEN, HttpServer, free_port, http_client, running_http

pytestmark = [pytest.mark.anyio]

MODERN = "2026-07-28"
LEGACY = "2025-11-25"
ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
META = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}


@pytest.fixture(scope="module")
def http_server() -> Iterator[HttpServer]:
    with running_http(allow_settings(http_token=TOKEN, max_request_bytes=64 * 1024)) as server:
        yield server


def mcp_client(server: HttpServer, mode: str, token: str | None = TOKEN) -> Client:
    return Client(streamable_http_client(server.url, http_client=http_client(token)), mode=mode)


def modern_request(method: str, params: dict[str, Any], rid: int = 1) -> tuple[str, dict[str, str]]:
    body = json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": {**params, "_meta": META}})
    headers = {**ACCEPT, "MCP-Protocol-Version": MODERN, "Mcp-Method": method}
    if isinstance(params.get("name"), str):
        headers["Mcp-Name"] = params["name"]
    return body, headers


def rpc_reply(response: httpx2.Response) -> dict[str, Any]:
    """The JSON-RPC message of a response, whether sent as JSON or as one SSE event."""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        for line in response.text.splitlines():
            if line.startswith("data:") and line[5:].strip():
                data: dict[str, Any] = json.loads(line[5:])
                return data
        raise AssertionError(f"no data event in {response.text!r}")
    reply: dict[str, Any] = response.json()
    return reply


# --- refusals ------------------------------------------------------------------------------------


async def test_no_token_and_wrong_token_get_401(http_server: HttpServer) -> None:
    body, headers = modern_request("tools/list", {})
    async with httpx2.AsyncClient() as c:
        missing = await c.post(http_server.url, content=body, headers=headers)
        wrong = await c.post(http_server.url, content=body, headers={**headers, "Authorization": "Bearer nope"})
        basic = await c.post(http_server.url, content=body, headers={**headers, "Authorization": f"Basic {TOKEN}"})
        good = await c.post(http_server.url, content=body, headers={**headers, **http_server.auth()})
    for refused in (missing, wrong, basic):
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert "MCP_DOCKER_HTTP_TOKEN" in refused.json()["error"]
    assert good.status_code == 200
    assert "docker_list_containers" in {t["name"] for t in rpc_reply(good)["result"]["tools"]}


async def test_foreign_origin_gets_403_and_local_origin_passes(http_server: HttpServer) -> None:
    body, headers = modern_request("tools/list", {})
    headers = {**headers, **http_server.auth()}
    async with httpx2.AsyncClient() as c:
        evil = await c.post(http_server.url, content=body, headers={**headers, "Origin": "https://evil.example"})
        null = await c.post(http_server.url, content=body, headers={**headers, "Origin": "null"})
        local = await c.post(http_server.url, content=body, headers={**headers, "Origin": "http://localhost:3000"})
    assert evil.status_code == 403
    assert "MCP_DOCKER_HTTP_ALLOWED_ORIGINS" in evil.json()["error"]
    assert null.status_code == 403
    assert local.status_code == 200


async def test_host_not_allowed_gets_421(http_server: HttpServer) -> None:
    body, headers = modern_request("tools/list", {})
    headers = {**headers, **http_server.auth()}
    async with httpx2.AsyncClient() as c:
        rebound = await c.post(http_server.url, content=body, headers={**headers, "Host": "attacker.example:8000"})
        local = await c.post(http_server.url, content=body, headers={**headers, "Host": "localhost:1234"})
    assert rebound.status_code == 421
    assert "MCP_DOCKER_HTTP_ALLOWED_HOSTS" in rebound.json()["error"]
    assert local.status_code == 200


async def test_oversized_body_gets_413(http_server: HttpServer) -> None:
    _, headers = modern_request("tools/call", {"name": "docker_list_containers"})
    headers = {**headers, **http_server.auth()}
    big = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 9,
            "method": "tools/call",
            "params": {"name": "docker_list_containers", "arguments": {"filters": {"name": "x" * 100_000}}},
        }
    )

    async def chunks() -> Any:
        for i in range(0, len(big), 8192):
            yield big[i : i + 8192].encode()

    async with httpx2.AsyncClient() as c:
        declared = await c.post(http_server.url, content=big, headers=headers)
        streamed = await c.post(http_server.url, content=chunks(), headers=headers)  # chunked, no length
    assert declared.status_code == 413
    assert streamed.status_code == 413


async def test_healthz_answers_without_token(http_server: HttpServer) -> None:
    async with httpx2.AsyncClient() as c:
        health = await c.get(f"{http_server.base}/healthz")
        post = await c.post(f"{http_server.base}/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert post.status_code == 405


# --- a real client in both eras ------------------------------------------------------------------


@pytest.mark.engine
@pytest.mark.parametrize("mode", MODES)
async def test_good_token_lists_tools_and_calls_work_in_both_eras(
    http_server: HttpServer,
    mode: str,
    docker_client: docker.DockerClient,
    test_image: str,
    unique: Callable[[str], str],
) -> None:
    name = unique("http")
    async with mcp_client(http_server, mode) as c:
        assert c.server_info is not None and c.server_info.name == "mcp-docker"
        tools = {t.name for t in (await c.list_tools()).tools}
        assert {"docker_list_containers", "docker_create_container"} <= tools
        created = structured(
            await c.call_tool(
                "docker_create_container",
                {"image": test_image, "name": name, "command": "sleep 300", "labels": TEST_LABELS, "start": True},
            )
        )
        assert created["state"] == "running"
        assert docker_client.containers.get(name).status == "running"
        listed = structured(await c.call_tool("docker_list_containers", {"filters": {"name": name}}))
        assert [x["name"] for x in listed["containers"]] == [name]
        missing = await c.call_tool("docker_inspect_container", {"container": f"{name}-ghost"})
        assert "No such container" in error_text(missing)


@pytest.mark.parametrize("mode", MODES)
async def test_client_without_token_cannot_connect(http_server: HttpServer, mode: str) -> None:
    with pytest.raises(Exception):  # noqa: PT011, B017 - the SDK wraps the 401 in its own error types
        async with mcp_client(http_server, mode, token=None) as c:
            await c.list_tools()


# --- malformed JSON-RPC ----------------------------------------------------------------------------


async def test_malformed_jsonrpc_modern_era_gets_protocol_errors(http_server: HttpServer) -> None:
    auth = http_server.auth()
    async with httpx2.AsyncClient() as c:
        _, headers = modern_request("tools/list", {})
        bad = await c.post(http_server.url, content="{not json", headers={**headers, **auth})
        assert bad.status_code == 400
        assert rpc_reply(bad)["error"]["code"] == -32700

        body, headers = modern_request("no/such/method", {})
        unknown = await c.post(http_server.url, content=body, headers={**headers, **auth})
        assert rpc_reply(unknown)["error"]["code"] == -32601

        body, headers = modern_request("tools/call", {"name": "docker_list_containers", "arguments": "all"})
        wrong = await c.post(http_server.url, content=body, headers={**headers, **auth})
        assert rpc_reply(wrong)["error"]["code"] == -32602

        body, headers = modern_request("tools/call", {"name": "docker_no_such_tool", "arguments": {}})
        reply = rpc_reply(await c.post(http_server.url, content=body, headers={**headers, **auth}))
        assert reply.get("error") or reply["result"]["isError"] is True
        assert "docker_no_such_tool" in json.dumps(reply)

        body, headers = modern_request("tools/list", {})
        still = await c.post(http_server.url, content=body, headers={**headers, **auth})
    assert still.status_code == 200
    assert rpc_reply(still)["result"]["tools"]


async def test_malformed_jsonrpc_legacy_session_gets_protocol_errors(http_server: HttpServer) -> None:
    auth = {**ACCEPT, **http_server.auth()}
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
    }
    async with httpx2.AsyncClient(timeout=30) as c:
        first = await c.post(http_server.url, json=init, headers=auth)
        assert first.status_code == 200
        session = {**auth, "Mcp-Session-Id": first.headers["mcp-session-id"], "MCP-Protocol-Version": LEGACY}
        note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        assert (await c.post(http_server.url, json=note, headers=session)).status_code == 202

        bad = await c.post(http_server.url, content="{not json", headers=session)
        assert bad.status_code == 400
        assert rpc_reply(bad)["error"]["code"] == -32700

        unknown = await c.post(http_server.url, json={"jsonrpc": "2.0", "id": 2, "method": "no/such"}, headers=session)
        assert rpc_reply(unknown)["error"]["code"] == -32601

        wrong_types = {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": 5, "arguments": []}}
        assert rpc_reply(await c.post(http_server.url, json=wrong_types, headers=session))["error"]["code"] == -32602

        nope = {"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "docker_nope", "arguments": {}}}
        reply = rpc_reply(await c.post(http_server.url, json=nope, headers=session))
        assert reply.get("error") or reply["result"]["isError"] is True

        listed = {"jsonrpc": "2.0", "id": 5, "method": "tools/list", "params": {}}
        assert rpc_reply(await c.post(http_server.url, json=listed, headers=session))["result"]["tools"]


# --- the CLI -------------------------------------------------------------------------------------


def cli_env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MCP_DOCKER_")}
    return {**base, "MCP_DOCKER_LOG_LEVEL": "WARNING", **extra}


def test_non_loopback_without_token_refuses_to_start() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "mcp_docker", "--transport", "http", "--host", "0.0.0.0", "--port", str(free_port())],
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert "refusing to serve HTTP on 0.0.0.0 without a token" in run.stderr
    assert "MCP_DOCKER_HTTP_TOKEN" in run.stderr
    assert run.stdout == ""


def test_cli_serves_http_and_stops_cleanly_on_sigterm() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcp_docker", "--transport", "http", "--port", str(port)],
        env=cli_env(MCP_DOCKER_HTTP_TOKEN=TOKEN),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx2.TransportError:
                assert proc.poll() is None, proc.communicate()[1]
                assert time.monotonic() < deadline, "server did not come up"
                time.sleep(0.1)
        assert health.status_code == 200
        refused = httpx2.post(f"http://127.0.0.1:{port}/mcp", json={}, timeout=5)
        assert refused.status_code == 401
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert out == ""


@pytest.mark.engine
@pytest.mark.parametrize("mode", MODES)
async def test_cancelled_call_over_http_stops_its_engine_request(mode: str, run_container: Callable[..., Any]) -> None:
    import anyio

    from mcp_docker.docker.client import Engine

    container = run_container("sleep 300")
    eng = Engine()
    with running_http(allow_settings(http_token=TOKEN), engine=eng) as server:
        async with mcp_client(server, mode) as c:
            with anyio.move_on_after(1.5) as scope:
                await c.call_tool("docker_exec_command", {"container": container.name, "command": ["sleep", "30"]})
            assert scope.cancelled_caught
            with anyio.move_on_after(10):
                while eng.inflight:
                    await anyio.sleep(0.05)
            assert eng.inflight == 0, "the cancelled call's engine request is still running"
            assert eng.aborted_connections >= 1
            out = structured(
                await c.call_tool("docker_exec_command", {"container": container.name, "command": "echo ok"})
            )
            assert out["stdout"] == "ok\n"
    eng.close()
