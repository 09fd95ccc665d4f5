"""A gated engine endpoint for CLIs (Compose, buildx): a private unix socket that forwards to the real
engine only the requests the engine gate allows.

Use it around one CLI run::

    from mcp_docker.safety.gate_proxy import gated_engine

    async with gated_engine(eng) as gate:          # eng: the tool's `Engine`
        env = {**compose_env(eng), **gate.env}      # DOCKER_HOST=unix://<private socket>, no TLS vars
        async with await anyio.open_process(argv, env=env, ...) as proc:
            ...
    if gate.refusals:                               # what the gate refused, in order
        raise gate.refusals[0]                      # a GateRefusal (UnsafeOperation): field + setting

The socket lives in a fresh 0700 temporary directory, exists only inside the `async with`, and is
served by the calling event loop. Each request is read (request line, headers, and a JSON body in
full), decided by `check_engine_request` with facts looked up through the `Engine` (on a worker
thread), and then forwarded on its own connection to the engine's endpoint (unix socket, or tcp with
the engine's TLS settings). A refused request is answered `403` with Docker's error shape
`{"message": "Refused by mcp-docker: ..."}` (which the CLIs print) and recorded in `refusals`.
HTTP/1.1 keep-alive, chunked bodies both ways, streamed responses, and connection upgrades and
hijacks (`Upgrade: tcp` for attach and exec start, `h2c` for BuildKit's `/session` and `/grpc`) work:
after the gate allowed the request and the engine agreed to switch, bytes are copied both ways.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import ssl
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import anyio
import anyio.abc
import anyio.to_thread

from mcp_docker.docker.library_internals import unix_socket_path
from mcp_docker.safety.engine_gate import check_engine_request, parse_request, raw_body
from mcp_docker.safety.gate_base import GateRefusal
from mcp_docker.utils.logger import logger

if TYPE_CHECKING:
    from mcp_docker.docker.client import Engine

_MAX_HEAD = 64 * 1024
_MAX_JSON = 16 * 1024 * 1024


class _UnixStream(anyio.abc.ByteStream):
    """A unix-socket byte stream over asyncio's transport streams.

    Not anyio's own unix streams: those wait on the raw socket with `add_reader(fd, future.set_result)`,
    and when the waiting task is cancelled in the very loop iteration in which the socket became
    readable (a hijack's other direction ending, the block ending), the queued callback sets a result
    on the cancelled future and the loop reports an `InvalidStateError` (anyio 4.16, asyncio). Asyncio's
    transports check for that."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer

    async def receive(self, max_bytes: int = 65536) -> bytes:
        data = await self._reader.read(max_bytes)
        if not data:
            raise anyio.EndOfStream
        return data

    async def send(self, item: bytes) -> None:
        if self._writer.is_closing():
            raise anyio.ClosedResourceError
        self._writer.write(item)
        await self._writer.drain()

    async def send_eof(self) -> None:
        if self._writer.can_write_eof() and not self._writer.is_closing():
            self._writer.write_eof()

    async def aclose(self) -> None:
        self._writer.close()  # the transport closes on its own; nothing to await (the caller may be cancelled)


class _Reader:
    """Buffered reads over a byte stream."""

    def __init__(self, stream: anyio.abc.ByteStream) -> None:
        self.stream = stream
        self.buffer = bytearray()

    async def _fill(self) -> bool:
        try:
            chunk = await self.stream.receive(65536)
        except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            return False
        self.buffer += chunk
        return True

    async def until(self, marker: bytes, limit: int = _MAX_HEAD) -> bytes | None:
        while marker not in self.buffer:
            if len(self.buffer) > limit or not await self._fill():
                return None
        index = self.buffer.index(marker) + len(marker)
        data = bytes(self.buffer[:index])
        del self.buffer[:index]
        return data

    async def exactly(self, size: int) -> bytes | None:
        while len(self.buffer) < size:
            if not await self._fill():
                return None
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    async def some(self) -> bytes:
        if not self.buffer and not await self._fill():
            return b""
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


@dataclass
class _Head:
    raw: bytes
    first: str
    headers: dict[str, str]

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    @property
    def chunked(self) -> bool:
        return "chunked" in self.header("transfer-encoding").lower()

    @property
    def length(self) -> int | None:
        value = self.header("content-length")
        return int(value) if value.strip().isdigit() else None


async def _read_head(reader: _Reader) -> _Head | None:
    raw = await reader.until(b"\r\n\r\n")
    if raw is None:
        return None
    lines = raw.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return _Head(raw, lines[0], headers)


async def _copy_body(head: _Head, reader: _Reader, out: anyio.abc.ByteStream | None, until_close: bool) -> bytes:
    """Copy one message body, framed as its head says, to `out` (or collect it when out is None)."""
    collected = bytearray()

    async def emit(data: bytes) -> None:
        if out is None:
            collected.extend(data)
            if len(collected) > _MAX_JSON:
                raise GateRefusal("a JSON request body over 16 MiB", "body")
        else:
            await out.send(data)

    if head.chunked:
        while True:
            size_line = await reader.until(b"\r\n")
            if size_line is None:
                raise ConnectionError("chunked body ended early")
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if out is not None:
                await out.send(size_line)
            if size == 0:
                while True:  # trailers, up to the empty line
                    line = await reader.until(b"\r\n")
                    if line is None:
                        raise ConnectionError("chunked body ended early")
                    if out is not None:
                        await out.send(line)
                    if line == b"\r\n":
                        return bytes(collected)
            data = await reader.exactly(size + 2)
            if data is None:
                raise ConnectionError("chunked body ended early")
            await emit(data[:-2] if out is None else data)
    elif head.length is not None:
        left = head.length
        while left > 0:
            chunk = await reader.some()
            if not chunk:
                raise ConnectionError("body ended early")
            if len(chunk) > left:
                reader.buffer[:0] = chunk[left:]
                chunk = chunk[:left]
            left -= len(chunk)
            await emit(chunk)
    elif until_close:
        while chunk := await reader.some():
            await emit(chunk)
    return bytes(collected)


def _forward_head(head: _Head, buffered: bool) -> bytes:
    """The request head to send on; a body read in full is re-sent with a Content-Length."""
    if not buffered:
        return head.raw
    lines = [head.first] + [
        f"{k}: {v}" for k, v in head.headers.items() if k not in ("transfer-encoding", "content-length")
    ]
    return ("\r\n".join(lines) + "\r\n").encode("latin-1")


async def _pipe(source: _Reader, sink: anyio.abc.ByteStream, done: anyio.CancelScope | None = None) -> None:
    """Copy bytes until the source ends; then half-close the sink (or, with `done`, end the whole hijack)."""
    try:
        while chunk := await source.some():
            await sink.send(chunk)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        pass
    if done is not None:
        done.cancel()
        return
    with suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, OSError, NotImplementedError):
        await sink.send_eof()


def _refusal_response(refusal: GateRefusal) -> bytes:
    body = json.dumps({"message": str(refusal)}).encode()
    head = (
        "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nApi-Version: 1.41\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


@dataclass
class GatedEngine:
    """A running gated endpoint: `docker_host` to point a CLI at, and the `refusals` recorded."""

    socket_path: str
    refusals: list[GateRefusal] = field(default_factory=list)
    forwarded: int = 0

    @property
    def docker_host(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def env(self) -> dict[str, str]:
        """Environment overrides for the CLI: this socket, and no TLS or context settings (the socket
        is plain; the proxy itself speaks TLS to the engine when the engine needs it)."""
        return {"DOCKER_HOST": self.docker_host, "DOCKER_TLS_VERIFY": "", "DOCKER_CERT_PATH": "", "DOCKER_CONTEXT": ""}


class _Upstream:
    """How to reach the engine the `Engine` talks to."""

    def __init__(self, eng: Engine) -> None:
        api = eng.api
        self.unix = unix_socket_path(api)
        self.tls: ssl.SSLContext | None = None
        parts = urlsplit(str(api.base_url))
        self.host, self.port = parts.hostname or "localhost", parts.port or 2375
        if self.unix is None and parts.scheme == "https":
            verify = getattr(api, "verify", True)
            self.tls = ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)
            if verify is False:
                self.tls.check_hostname = False
                self.tls.verify_mode = ssl.CERT_NONE
            cert = getattr(api, "cert", None)
            if cert:
                self.tls.load_cert_chain(*cert) if isinstance(cert, tuple) else self.tls.load_cert_chain(cert)
        elif self.unix is None and parts.scheme != "http":
            raise GateRefusal(f"a gated CLI endpoint for {api.base_url} (only unix and tcp engines)", "engine")

    async def connect(self) -> anyio.abc.ByteStream:
        if self.unix is not None:
            return _UnixStream(*await asyncio.open_unix_connection(self.unix))
        if self.tls is not None:
            return await anyio.connect_tcp(self.host, self.port, ssl_context=self.tls, tls_standard_compatible=False)
        return await anyio.connect_tcp(self.host, self.port)


async def _serve_connection(client: anyio.abc.ByteStream, eng: Engine, upstream: _Upstream, gate: GatedEngine) -> None:
    from mcp_docker.docker.gate_hook import ApiFacts

    reader = _Reader(client)
    engine_conn: anyio.abc.ByteStream | None = None
    engine_reader = _Reader(client)  # replaced by the engine's side once connected
    try:
        while True:
            head = await _read_head(reader)
            if head is None:
                return
            method, _, rest = head.first.partition(" ")
            target = rest.rpartition(" ")[0] or rest
            upgrade = "upgrade" in head.header("connection").lower()
            is_json = not raw_body(target)  # every other body is JSON to the engine: read and checked whole
            try:
                body = await _copy_body(head, reader, None, False) if is_json else b""
                decoded = json.loads(body) if body.strip() else None
                request = parse_request(method, target, decoded, upgrade)
                await anyio.to_thread.run_sync(check_engine_request, request, ApiFacts(eng.api), eng.gate_settings())
            except (GateRefusal, ValueError) as exc:
                refusal = exc if isinstance(exc, GateRefusal) else GateRefusal("a malformed request", "body")
                logger.warning("gated CLI endpoint refused {} {}: {}", method, target, refusal.message)
                gate.refusals.append(refusal)
                await client.send(_refusal_response(refusal))
                return
            if engine_conn is None:
                engine_conn = await upstream.connect()
                engine_reader = _Reader(engine_conn)
            gate.forwarded += 1
            await engine_conn.send(_forward_head(head, is_json))
            if is_json:
                await engine_conn.send(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            else:
                await _copy_body(head, reader, engine_conn, False)
            response = await _read_head(engine_reader)
            if response is None:
                return
            await client.send(response.raw)
            status = response.first.split(" ")[1] if " " in response.first else ""
            hijack = status == "101" or (
                upgrade and "application/vnd.docker" in response.header("content-type").lower()
            )
            if hijack:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(_pipe, reader, engine_conn)
                    tg.start_soon(_pipe, engine_reader, client, tg.cancel_scope)
                return
            no_body = method == "HEAD" or status in ("204", "304") or status.startswith("1")
            framed = response.chunked or response.length is not None
            if not no_body:
                await _copy_body(response, engine_reader, client, until_close=not framed)
            if (not framed and not no_body) or "close" in response.header("connection").lower():
                return
    except (anyio.BrokenResourceError, anyio.ClosedResourceError, ConnectionError, OSError) as exc:
        logger.debug("gated CLI endpoint: connection ended: {}", exc)
    finally:
        if engine_conn is not None:
            await engine_conn.aclose()
        await client.aclose()


@asynccontextmanager
async def gated_engine(eng: Engine) -> AsyncIterator[GatedEngine]:
    """Serve a private gated socket for the engine `eng` for the duration of the block."""
    upstream = await anyio.to_thread.run_sync(_Upstream, eng)
    directory = tempfile.mkdtemp(prefix="mcp-docker-gate-")  # 0700
    path = os.path.join(directory, "engine.sock")
    gate = GatedEngine(path)
    handlers: set[asyncio.Task[None]] = set()
    closed = False

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = _UnixStream(reader, writer)
        if closed:  # accepted just before the block ended: served by nobody
            await client.aclose()
            return
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            await _serve_connection(client, eng, upstream, gate)
        finally:
            handlers.discard(task)

    server = await asyncio.start_unix_server(handle, path=path)
    os.chmod(path, 0o600)
    try:
        yield gate
    finally:
        closed = True
        server.close()
        for task in list(handlers):
            task.cancel()
        with anyio.CancelScope(shield=True):
            if handlers:
                await asyncio.wait(list(handlers), timeout=5)
            shutil.rmtree(directory, ignore_errors=True)


def refusal_summary(refusals: list[Any]) -> str:
    """One line per refusal, for a tool's report."""
    return "; ".join(str(r) for r in refusals)
