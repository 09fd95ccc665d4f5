"""Cancelling a call stops its engine requests, even one whose connection was not open yet.

urllib3 hands out pooled connections unconnected and opens the socket on the first request. A call
cancelled in that window used to find no socket to shut, and its request went out anyway and kept
its engine slot busy after the call had given its concurrency slot back (seen as one request too
many at a slow engine under HTTP load). The "engine" here is a unix socket that accepts and never
answers, so a request that goes out hangs until the client's timeout.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import requests

from mcp_docker.docker import client as engine_client
from mcp_docker.docker.library_internals import mark_call


class SilentEngine:
    """Accepts connections, records what each one sent, never answers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.received: list[bytes] = []
        self.closed_by_peer = 0
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        got = b""
        conn.settimeout(10)
        try:
            while chunk := conn.recv(65536):
                got += chunk
            self.closed_by_peer += 1
        except OSError:
            pass
        finally:
            self.received.append(got)
            conn.close()

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def silent(tmp_path: Path) -> Iterator[SilentEngine]:
    engine = SilentEngine(tmp_path / "silent.sock")
    try:
        yield engine
    finally:
        engine.close()


def _tracked_api(path: Path) -> docker.APIClient:
    api = docker.APIClient(base_url=f"unix://{path}", version="1.41", timeout=8)
    engine_client._track_adapters(api)
    return api


def _wait(condition: object, seconds: float = 5.0) -> bool:
    done = threading.Event()
    for _ in range(int(seconds / 0.05)):
        if callable(condition) and condition():
            return True
        done.wait(0.05)
    return False


def test_a_call_aborted_before_its_socket_opened_sends_nothing(silent: SilentEngine) -> None:
    api = _tracked_api(silent.path)
    handle = engine_client.CallHandle()
    handle.abort()  # the call is cancelled while its thread is between the pool and connect()
    token = engine_client._CURRENT_CALL.set(handle)
    try:
        with pytest.raises(requests.exceptions.ConnectionError) as caught:
            api.containers()
    finally:
        engine_client._CURRENT_CALL.reset(token)
    # The request never reached the engine: the socket was shut the moment it opened, not left to
    # wait for an answer until the 8 s client timeout.
    assert not isinstance(caught.value, requests.exceptions.ReadTimeout)
    assert _wait(lambda: len(silent.received) == 1)
    assert silent.received == [b""]
    assert silent.closed_by_peer == 1
    api.close()


def test_a_call_aborted_while_its_request_waits_is_shut(silent: SilentEngine) -> None:
    api = _tracked_api(silent.path)
    handle = engine_client.CallHandle()
    errors: list[BaseException] = []

    def work() -> None:
        token = engine_client._CURRENT_CALL.set(handle)
        try:
            api.containers()
        except BaseException as exc:  # the shut socket ends the blocked read
            errors.append(exc)
        finally:
            engine_client._CURRENT_CALL.reset(token)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    assert _wait(lambda: _sent(handle))
    assert handle.abort() == 1
    thread.join(5)
    assert not thread.is_alive(), "the aborted call's thread still waits for the engine"
    assert errors and not isinstance(errors[0], requests.exceptions.ReadTimeout)
    assert _wait(lambda: silent.closed_by_peer == 1)
    api.close()


def _sent(handle: engine_client.CallHandle) -> bool:
    """The call's one connection is open (its request is on the wire)."""
    conns = list(handle._conns)
    return len(conns) == 1 and getattr(conns[0], "sock", None) is not None


def test_connections_of_other_calls_are_left_alone(silent: SilentEngine) -> None:
    """A pooled connection reused by a later call answers to that call only."""
    conn = type("Conn", (), {"sock": None, "connect": lambda self: None})()
    first, second = engine_client.CallHandle(), engine_client.CallHandle()
    first.attach(conn)
    first.detach(conn)
    first.abort()
    mark_call(conn, second)
    second.attach(conn)
    shut: list[object] = []
    conn.sock = type("Sock", (), {"shutdown": lambda self, how: shut.append(how)})()
    conn.connect()
    assert shut == []  # the first call's abort does not reach the second call's request
    second.abort()
    assert shut == [socket.SHUT_RDWR]
