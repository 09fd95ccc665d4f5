"""docker/client.py and contexts.py on their edges, without an engine: a broken or missing docker context
said clearly (named by MCP_DOCKER_HOSTS, DOCKER_CONTEXT or the current context, and described as used), a
connection that cannot be shut counted as not shut, a pooled connection given back left alone by its
old call, and a cancelled async call's connections shut down."""

from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path
from typing import Any

import anyio
import pytest

from mcp_docker.docker import client as engine_client
from mcp_docker.docker.client import CallHandle, Engine
from mcp_docker.docker.contexts import describe_endpoint
from mcp_docker.utils.errors import DockerDaemonUnavailable


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A DOCKER_CONFIG of the test's own (the user's contexts are never read)."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    return tmp_path


def _context(config: Path, name: str, meta: str) -> None:
    (config / "config.json").write_text(json.dumps({"currentContext": name}))
    folder = config / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    folder.mkdir(parents=True)
    (folder / "meta.json").write_text(meta)


def test_a_corrupt_current_context_does_not_stop_the_server_and_is_said(docker_config: Path) -> None:
    """docker-py raises a bare Exception for a corrupt meta.json: described, then refused clearly (it had
    reached the model as a bare 'Error executing tool')."""
    _context(docker_config, "broken", "{not json")
    assert describe_endpoint({}) == "context 'broken' (unreadable)"
    engine = Engine(connect_timeout=1)
    with pytest.raises(DockerDaemonUnavailable) as caught:
        engine.client  # noqa: B018
    message = str(caught.value)
    assert message.startswith("The docker context 'broken' cannot be read: Detected corrupted meta file"), message
    assert "docker context rm broken" in message and "Endpoint:" not in message


def test_a_named_context_is_shown_with_its_name(docker_config: Path) -> None:
    meta = {"Name": "far", "Metadata": {}, "Endpoints": {"docker": {"Host": "tcp://10.9.8.7:2376"}}}
    _context(docker_config, "far", json.dumps(meta))
    assert describe_endpoint({}) == "tcp://10.9.8.7:2376 (context far)"
    assert describe_endpoint({"DOCKER_HOST": "unix:///elsewhere.sock"}) == "unix:///elsewhere.sock"


def test_a_context_that_does_not_exist_is_refused_not_replaced_by_the_default(docker_config: Path) -> None:
    (docker_config / "config.json").write_text("{}")
    engine = Engine(base_url="context:xq-nowhere", connect_timeout=1)
    with pytest.raises(DockerDaemonUnavailable) as caught:
        engine.client  # noqa: B018 - creating the client is the call under test
    message = str(caught.value)
    assert f"No docker context 'xq-nowhere' (MCP_DOCKER_HOSTS names it) in {docker_config}." in message, message
    assert "docker context create" in message and "DOCKER_CONFIG" in message
    assert engine._client is None  # nothing half-made is kept: the next call tries again


def test_docker_context_is_described_as_it_is_used(docker_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DOCKER_CONTEXT wins over config.json's currentContext, in the description as in the connection."""
    meta = {"Name": "far", "Metadata": {}, "Endpoints": {"docker": {"Host": "tcp://10.9.8.7:2376"}}}
    _context(docker_config, "far", json.dumps(meta))
    assert describe_endpoint({"DOCKER_CONTEXT": "default"}) == "unix:///var/run/docker.sock"
    assert describe_endpoint({"DOCKER_CONTEXT": "xq-gone"}) == "context 'xq-gone' (not found)"
    monkeypatch.setenv("DOCKER_CONTEXT", "default")
    assert Engine(connect_timeout=1).endpoint == "unix:///var/run/docker.sock"


@pytest.mark.parametrize("chosen_by", ["DOCKER_CONTEXT", "currentContext"])
def test_a_chosen_context_that_does_not_exist_is_refused_not_replaced_by_the_local_socket(
    docker_config: Path, monkeypatch: pytest.MonkeyPatch, chosen_by: str
) -> None:
    """docker-py connects to the local socket when the context named does not exist; the CLI refuses."""
    if chosen_by == "DOCKER_CONTEXT":
        (docker_config / "config.json").write_text("{}")
        monkeypatch.setenv("DOCKER_CONTEXT", "xq-nowhere")
        source = "DOCKER_CONTEXT names it"
    else:
        (docker_config / "config.json").write_text(json.dumps({"currentContext": "xq-nowhere"}))
        source = "config.json's currentContext names it"
    engine = Engine(connect_timeout=1)
    with pytest.raises(DockerDaemonUnavailable) as caught:
        engine.client  # noqa: B018 - creating the client is the call under test
    message = str(caught.value)
    assert f"No docker context 'xq-nowhere' ({source}) in {docker_config}." in message, message
    assert "docker context ls" in message and engine._client is None
    monkeypatch.setenv("DOCKER_HOST", "unix:///xq-nowhere.sock")  # DOCKER_HOST comes first, as in the CLI
    with pytest.raises(DockerDaemonUnavailable) as caught:
        engine.client  # noqa: B018
    assert "No docker context 'xq-nowhere'" not in str(caught.value), str(caught.value)
    assert "Cannot reach the Docker engine" in str(caught.value)


def test_without_a_config_json_the_refusal_names_the_config_folder(docker_config: Path) -> None:
    engine = Engine(base_url="context:xq-nowhere", connect_timeout=1)
    with pytest.raises(DockerDaemonUnavailable) as caught:
        engine.client  # noqa: B018
    message = str(caught.value)
    assert f"in {docker_config}, which has no config.json" in message, message
    assert " in contexts" not in message


class Conn:
    """A pooled connection as urllib3 hands it out: unconnected until connect()."""

    def __init__(self, sock: Any = None) -> None:
        self.sock = sock
        self.pending = sock

    def connect(self) -> None:
        self.sock = self.pending


def test_a_connection_whose_socket_cannot_be_shut_is_not_counted() -> None:
    closed = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    closed.close()  # closed under the pool's feet: shutdown() on it fails
    handle = CallHandle()
    handle.attach(Conn(closed))
    assert handle.abort() == 0
    assert handle.aborted is True


def test_a_connection_given_back_is_left_alone_when_it_reconnects() -> None:
    ours, peer = socket.socketpair()
    try:
        conn = Conn()
        conn.pending = ours
        handle = CallHandle()
        token = engine_client._CURRENT_CALL.set(handle)
        engine_client._handed_out(conn)
        engine_client._given_back(conn)  # back in the pool, no call's any more
        engine_client._CURRENT_CALL.reset(token)
        assert handle.abort() == 0
        conn.connect()  # reused by a request outside any call: its socket opens
        ours.sendall(b"ping")
        assert peer.recv(4) == b"ping"  # still open both ways
    finally:
        ours.close()
        peer.close()


@pytest.mark.anyio
async def test_a_cancelled_async_call_shuts_its_connections() -> None:
    ours, peer = socket.socketpair()
    engine = Engine()
    inside = anyio.Event()

    async def body() -> None:
        handle = engine_client._CURRENT_CALL.get()
        assert handle is not None
        handle.attach(Conn(ours))  # a connection of a worker thread of this call, blocked reading
        inside.set()
        await anyio.sleep_forever()

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(engine.run_async, body)
            await inside.wait()
            tg.cancel_scope.cancel()
        assert engine.aborted_connections == 1
        assert peer.recv(16) == b""  # the engine's side sees the connection end
        assert engine_client._CURRENT_CALL.get() is None
    finally:
        ours.close()
        peer.close()
