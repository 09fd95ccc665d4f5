"""The HTTP front door's body read (a client that never sends its body gets 408, one that hangs up too,
neither reaches the app), the warnings HTTP serving gives for an open bind or a missing token, the stdin
reader started once however often it is iterated, and the exit past a pending stdin read after a signal."""

from __future__ import annotations

import io
import os
import sys
import threading
from types import SimpleNamespace
from typing import Any

import anyio
import pytest

from mcp_docker import __main__ as main_module
from mcp_docker import transport
from mcp_docker.config import Settings
from mcp_docker.http_guard import GuardMiddleware, read_body

pytestmark = pytest.mark.anyio


class App:
    """The SDK's app behind the guard: records whether a request got through."""

    def __init__(self) -> None:
        self.called = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.called = True


def scope() -> dict[str, Any]:
    return {
        "type": "http",
        "method": "POST",
        "path": "/mcp",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"content-type", b"application/json")],
    }


async def through_guard(receive: Any, **settings: Any) -> tuple[App, list[dict[str, Any]]]:
    app, sent = App(), []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await GuardMiddleware(app, Settings(**settings))(scope(), receive, send)
    return app, sent


def status_and_body(sent: list[dict[str, Any]]) -> tuple[int, dict[bytes, bytes], bytes]:
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), body


async def test_a_body_that_never_comes_gets_408_naming_the_setting(log_lines: list[str]) -> None:
    async def receive() -> dict[str, Any]:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    with anyio.fail_after(10):
        app, sent = await through_guard(receive, http_body_timeout=0.2)
    status, headers, body = status_and_body(sent)
    assert status == 408 and not app.called
    assert b"Request body not received within 0.2 s (MCP_DOCKER_HTTP_BODY_TIMEOUT)." in body
    assert headers[b"connection"] == b"close"  # the slow client's connection is not kept
    assert any("body not received within 0.2 s" in line for line in log_lines)


async def test_a_client_that_hangs_up_mid_body_is_answered_like_a_timeout() -> None:
    messages = [
        {"type": "http.request", "body": b'{"jsonrpc": ', "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    assert await read_body(_replaying([{"type": "http.disconnect"}]), 1024, 5) is None
    app, sent = await through_guard(receive)
    assert status_and_body(sent)[0] == 408 and not app.called and messages == []


async def test_a_whole_body_in_pieces_reaches_the_app_once() -> None:
    parts = [
        {"type": "http.request", "body": b'{"a":', "more_body": True},
        {"type": "http.request", "body": b" 1}", "more_body": False},
    ]
    assert await read_body(_replaying(parts), 1024, 5) == b'{"a": 1}'


def _replaying(messages: list[dict[str, Any]]) -> Any:
    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    return receive


class FakeServer:
    def __init__(self) -> None:
        self.served = False

    async def serve(self) -> None:
        self.served = True


async def test_http_on_every_interface_without_a_token_warns_twice(
    monkeypatch: pytest.MonkeyPatch, log_lines: list[str]
) -> None:
    fake = FakeServer()
    monkeypatch.setattr(transport, "uvicorn_server", lambda server, settings: fake)
    await transport.run_http(SimpleNamespace(), Settings(http_host="0.0.0.0"))  # not bound: the server is faked
    assert fake.served
    assert any("HTTP on 0.0.0.0 accepts any Host header; set MCP_DOCKER_HTTP_ALLOWED_HOSTS" in m for m in log_lines)
    assert any("HTTP without a token: any local process can use the engine" in m for m in log_lines)


async def test_http_on_loopback_with_a_token_or_named_hosts_warns_nothing(
    monkeypatch: pytest.MonkeyPatch, log_lines: list[str]
) -> None:
    monkeypatch.setattr(transport, "uvicorn_server", lambda server, settings: FakeServer())
    token = "t0ken-" + "x" * 40
    await transport.run_http(SimpleNamespace(), Settings(http_token=token))
    await transport.run_http(
        SimpleNamespace(), Settings(http_host="::", http_allowed_hosts=["docker.example"], http_token=token)
    )
    assert not [m for m in log_lines if "accepts any Host" in m or "without a token" in m]
    assert sum("serving MCP on http://" in m for m in log_lines) == 2


async def test_stdin_is_read_by_one_thread_however_often_it_is_iterated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", SimpleNamespace(buffer=io.BytesIO(b'{"a": 1}\n\xff\n')))
    lines = transport.StdinLines()
    assert lines.__aiter__() is lines
    first = lines._thread
    assert lines.__aiter__() is lines and lines._thread is first  # no second reader
    with anyio.fail_after(10):
        read = [line async for line in lines]
    assert read == ['{"a": 1}\n', "\ufffd\n"]  # undecodable bytes are replaced, not fatal
    assert first is not None
    with anyio.fail_after(10):  # the reader ends at end of input
        while first.is_alive():
            await anyio.sleep(0.01)


def test_a_pending_stdin_read_is_left_behind_with_status_0(monkeypatch: pytest.MonkeyPatch) -> None:
    exits: list[int] = []
    monkeypatch.setattr(os, "_exit", exits.append)
    main_module._exit_past_a_pending_stdin_read()
    assert exits == []  # no reader thread: Python's own shutdown is fine
    release = threading.Event()
    reader = threading.Thread(target=release.wait, name="mcp-stdin", daemon=True)
    reader.start()
    try:
        main_module._exit_past_a_pending_stdin_read()
    finally:
        release.set()
        reader.join(10)
    assert exits == [0]
