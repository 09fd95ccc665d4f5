"""The gated CLI endpoint's unix streams survive a receive cancelled as its data arrives.

The race: a task waits to receive; in one loop iteration the socket becomes readable and, before the
read callback runs, another callback cancels the waiting task (a hijack's other direction ending,
the gated block ending). anyio 4.16's unix streams then set a result on the cancelled future and the
event loop reports `InvalidStateError` (seen failing BuildKit builds through the gate under CI load).
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import anyio
import pytest

from mcp_docker.safety.gate_proxy import _UnixStream

pytestmark = pytest.mark.anyio


async def _cancel_as_data_arrives(stream: anyio.abc.ByteStream, peer: socket.socket) -> list[dict[str, Any]]:
    loop = asyncio.get_running_loop()
    errors: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    try:
        task = asyncio.ensure_future(stream.receive())
        await asyncio.sleep(0.05)  # the task waits for the socket to become readable
        peer.send(b"x")  # readable in the next iteration's select ...
        loop.call_soon(task.cancel)  # ... whose callbacks start with this cancel
        await asyncio.sleep(0.1)
        assert task.cancelled()
    finally:
        loop.set_exception_handler(previous)
    return errors


async def test_the_gates_unix_stream_takes_a_cancel_as_data_arrives() -> None:
    ours, peer = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    stream = _UnixStream(*await asyncio.open_unix_connection(sock=ours))
    try:
        assert await _cancel_as_data_arrives(stream, peer) == []
        assert await stream.receive() == b"x"  # nothing lost: the byte is read by the next receive
    finally:
        await stream.aclose()
        peer.close()


async def test_anyio_unix_streams_still_have_the_race(tmp_path: Path) -> None:
    """Why _UnixStream exists. When this fails, anyio fixed the race and _UnixStream can go."""
    path = str(tmp_path / "s.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    stream = await anyio.connect_unix(path)
    peer, _ = listener.accept()
    try:
        errors = await _cancel_as_data_arrives(stream, peer)
        assert any(isinstance(e.get("exception"), asyncio.InvalidStateError) for e in errors), errors
    finally:
        await stream.aclose()
        peer.close()
        listener.close()
