"""The gated CLI endpoint's HTTP framing and upstreams, against a scripted engine on the other side.

A real engine never sends a body that ends early, a response it never finishes, or a reply framed only
by closing the connection on demand, and a CLI does not send truncated chunked bodies; so the engine
here is a small asyncio server that records what reached it and answers with the bytes each test
scripts. What is asserted is what a CLI sees and what the engine receives (nothing, for a request the
gate could not read whole). The same scripted engine listens on tcp and on tcp with TLS and client
certificates (made with openssl), for engines the proxy reaches over the network.

tests/integration/test_gate_proxy.py runs the real CLIs through the endpoint against the real engine."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import ssl
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio
import pytest

from mcp_docker.config import Settings
from mcp_docker.safety.gate_base import GateRefusal
from mcp_docker.safety.gate_proxy import GatedEngine, _UnixStream, _Upstream, gated_engine, refusal_summary
from tests.private_engine import make_certs

pytestmark = pytest.mark.anyio

PING_OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK"
CREATED = b'HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"Id":"c1"}'
CLOSE_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK"


class ScriptedEngine:
    """Answers the n-th request of a connection with `responses[n]` (None: close without answering);
    closes the connection after the last one. Records every request's head and body."""

    def __init__(self, *responses: bytes | None) -> None:
        self.responses = responses
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.peer_certs: list[Any] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peercert")
        if peer is not None:
            self.peer_certs.append(peer)
        try:
            for response in self.responses:
                raw = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                headers = {
                    k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in raw[1:] if line)
                }
                length = int(headers.get("content-length", "0"))
                self.requests.append((raw[0], headers, await reader.readexactly(length)))
                if response is None:
                    break
                writer.write(response)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


class FakeEngine:
    """What `gated_engine` reads of an `Engine`: its APIClient's base URL, adapter, TLS settings."""

    def __init__(self, base_url: str, socket_path: str | None = None, verify: Any = True, cert: Any = None) -> None:
        adapter = SimpleNamespace(socket_path=socket_path) if socket_path else None
        self.api = SimpleNamespace(base_url=base_url, _custom_adapter=adapter, verify=verify, cert=cert)

    def gate_settings(self) -> Settings:
        return Settings()


@pytest.fixture
def short_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="xq-"))  # unix socket paths must stay short
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def _unix_engine(engine: ScriptedEngine, directory: Path) -> tuple[asyncio.AbstractServer, FakeEngine]:
    path = str(directory / "engine.sock")
    server = await asyncio.start_unix_server(engine.handle, path=path)
    return server, FakeEngine("http+docker://localhost", socket_path=path)


async def _exchange(gate: GatedEngine, data: bytes, *, eof: bool = False) -> bytes:
    """Send `data` as a CLI would and read until the endpoint closes the connection."""
    reader, writer = await asyncio.open_unix_connection(gate.socket_path)
    try:
        writer.write(data)
        await writer.drain()
        if eof:
            writer.write_eof()
        return await asyncio.wait_for(reader.read(), 60)
    finally:
        writer.close()


async def _through_gate(engine: ScriptedEngine, directory: Path, data: bytes, **kw: Any) -> tuple[bytes, GatedEngine]:
    server, eng = await _unix_engine(engine, directory)
    try:
        async with gated_engine(eng) as gate:  # type: ignore[arg-type]
            answer = await _exchange(gate, data, **kw)
        return answer, gate
    finally:
        server.close()


def _create(body: bytes) -> bytes:
    head = f"POST /v1.41/containers/create HTTP/1.1\r\nHost: docker\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


# -- bodies framed by closing, by length, by chunks ----------------------------------------------------


async def test_a_response_framed_by_closing_the_connection_is_relayed_whole(short_dir: Path) -> None:
    engine = ScriptedEngine(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nevery byte until the end")
    answer, gate = await _through_gate(engine, short_dir, b"GET /v1.41/version HTTP/1.1\r\nHost: docker\r\n\r\n")
    assert answer.endswith(b"\r\n\r\nevery byte until the end")
    assert (gate.forwarded, gate.refusals) == (1, [])


async def test_pipelined_requests_keep_their_bodies_apart(short_dir: Path) -> None:
    body = json.dumps({"Image": "busybox", "Cmd": ["true"]}).encode()
    engine = ScriptedEngine(CREATED, CLOSE_OK)
    data = _create(body) + b"GET /v1.41/_ping HTTP/1.1\r\nHost: docker\r\n\r\n"  # one write: the body runs on
    answer, gate = await _through_gate(engine, short_dir, data)
    assert [(first, sent) for first, _, sent in engine.requests] == [
        ("POST /v1.41/containers/create HTTP/1.1", body),
        ("GET /v1.41/_ping HTTP/1.1", b""),
    ]
    assert answer == CREATED + CLOSE_OK and gate.forwarded == 2


async def test_a_chunked_json_body_with_trailers_is_checked_and_sent_with_a_length(short_dir: Path) -> None:
    body = json.dumps({"Image": "busybox", "Labels": {"a": "b"}}).encode()
    head = b"POST /v1.41/containers/create HTTP/1.1\r\nHost: docker\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunks = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(part), part) for part in (body[:10], body[10:]))
    data = head + chunks + b"0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n"
    engine = ScriptedEngine(CREATED)
    answer, _ = await _through_gate(engine, short_dir, data, eof=True)  # keep-alive: the CLI ends it
    assert answer == CREATED
    [(_, headers, sent)] = engine.requests
    assert sent == body
    assert headers["content-length"] == str(len(body)) and "transfer-encoding" not in headers


async def test_a_chunked_privileged_create_is_refused_like_a_plain_one(short_dir: Path) -> None:
    body = json.dumps({"Image": "busybox", "HostConfig": {"Privileged": True}}).encode()
    head = b"POST /v1.41/containers/create HTTP/1.1\r\nHost: docker\r\nTransfer-Encoding: chunked\r\n\r\n"
    engine = ScriptedEngine(CREATED)
    answer, gate = await _through_gate(engine, short_dir, head + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
    assert answer.startswith(b"HTTP/1.1 403 Forbidden") and b"privileged" in answer
    assert engine.requests == [] and gate.forwarded == 0
    assert "MCP_DOCKER_ALLOW_PRIVILEGED" in refusal_summary(gate.refusals)


TRUNCATED = {
    "before-a-chunk-size": b"5\r\nhello\r\n",
    "inside-a-chunk": b'10\r\n{"Image":',
    "inside-the-trailers": b"2\r\n{}\r\n0\r\nX-Trailer: 1\r\n",
}


@pytest.mark.parametrize("case", sorted(TRUNCATED))
async def test_a_chunked_body_that_ends_early_reaches_nothing(short_dir: Path, case: str) -> None:
    head = b"POST /v1.41/containers/create HTTP/1.1\r\nHost: docker\r\nTransfer-Encoding: chunked\r\n\r\n"
    engine = ScriptedEngine(CREATED)
    answer, gate = await _through_gate(engine, short_dir, head + TRUNCATED[case], eof=True)
    assert answer == b""  # the connection just ends: there was no whole request to answer
    assert engine.requests == [] and (gate.forwarded, gate.refusals) == (0, [])


async def test_a_body_shorter_than_its_length_reaches_nothing(short_dir: Path) -> None:
    engine = ScriptedEngine(CREATED)
    data = b'POST /v1.41/containers/create HTTP/1.1\r\nHost: docker\r\nContent-Length: 100\r\n\r\n{"Image":'
    answer, gate = await _through_gate(engine, short_dir, data, eof=True)
    assert answer == b"" and engine.requests == [] and gate.forwarded == 0


async def test_a_json_body_over_16_mib_is_refused_unread(short_dir: Path) -> None:
    engine = ScriptedEngine(CREATED)
    server, eng = await _unix_engine(engine, short_dir)
    piece = b" " * (1 << 20)
    head = b"POST /v1.41/containers/create HTTP/1.1\r\nHost: docker\r\nTransfer-Encoding: chunked\r\n\r\n"
    try:
        async with gated_engine(eng) as gate:  # type: ignore[arg-type]
            reader, writer = await asyncio.open_unix_connection(gate.socket_path)
            writer.write(head)
            try:
                for _ in range(17):
                    writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    await writer.drain()
            except ConnectionError:
                pass  # the endpoint stopped reading once the bound was passed
            answer = await asyncio.wait_for(reader.read(), 60)
            writer.close()
    finally:
        server.close()
    assert answer.startswith(b"HTTP/1.1 403 Forbidden")
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["message"].startswith(
        "Refused by mcp-docker: a JSON request body over 16 MiB [body]"
    )
    assert [r.field for r in gate.refusals] == ["body"] and engine.requests == []


async def test_an_engine_that_closes_without_answering_ends_the_connection(short_dir: Path) -> None:
    engine = ScriptedEngine(None)
    answer, gate = await _through_gate(engine, short_dir, b"GET /v1.41/_ping HTTP/1.1\r\nHost: docker\r\n\r\n")
    assert answer == b"" and gate.forwarded == 1 and len(engine.requests) == 1


async def test_a_response_cut_short_by_the_engine_reaches_the_cli_cut_short(short_dir: Path) -> None:
    engine = ScriptedEngine(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")
    answer, _ = await _through_gate(engine, short_dir, b"GET /v1.41/info HTTP/1.1\r\nHost: docker\r\n\r\n")
    assert answer == b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b"  # the CLI sees it end early


# -- upstreams: tcp, tcp with TLS, and what the proxy cannot reach ---------------------------------------


async def test_a_plain_tcp_engine_is_reached_over_tcp(short_dir: Path) -> None:
    engine = ScriptedEngine(CLOSE_OK)
    server = await asyncio.start_server(engine.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with gated_engine(FakeEngine(f"http://127.0.0.1:{port}")) as gate:  # type: ignore[arg-type]
            answer = await _exchange(gate, b"GET /v1.41/_ping HTTP/1.1\r\nHost: docker\r\n\r\n")
    finally:
        server.close()
    assert answer == CLOSE_OK and engine.requests[0][0] == "GET /v1.41/_ping HTTP/1.1"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return make_certs(tmp_path_factory.mktemp("gate-tls"))


def _server_context(certs: Any) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(certs.server / "ca.pem"))
    context.load_cert_chain(str(certs.server / "cert.pem"), str(certs.server / "key.pem"))
    context.verify_mode = ssl.CERT_REQUIRED
    return context


@pytest.fixture
async def tls_engine(certs: Any) -> AsyncIterator[tuple[ScriptedEngine, int]]:
    engine = ScriptedEngine(CLOSE_OK)
    server = await asyncio.start_server(engine.handle, "127.0.0.1", 0, ssl=_server_context(certs))
    yield engine, server.sockets[0].getsockname()[1]
    server.close()


async def test_a_tls_engine_is_reached_with_the_engines_ca_and_client_certificate(
    certs: Any, tls_engine: tuple[ScriptedEngine, int]
) -> None:
    engine, port = tls_engine
    client = certs.client
    eng = FakeEngine(
        f"https://127.0.0.1:{port}",
        verify=str(client / "ca.pem"),
        cert=(str(client / "cert.pem"), str(client / "key.pem")),
    )
    async with gated_engine(eng) as gate:  # type: ignore[arg-type]
        assert "DOCKER_TLS_VERIFY" in gate.env and gate.env["DOCKER_TLS_VERIFY"] == ""  # the CLI speaks plain
        answer = await _exchange(gate, b"GET /v1.41/_ping HTTP/1.1\r\nHost: docker\r\n\r\n")
    assert answer == CLOSE_OK
    [peer] = engine.peer_certs
    assert dict(pair[0] for pair in peer["subject"])["commonName"] == "client"


async def test_a_tls_engine_with_an_unknown_ca_is_not_reached(
    certs: Any, tls_engine: tuple[ScriptedEngine, int]
) -> None:
    engine, port = tls_engine
    wrong = certs.wrong_ca
    eng = FakeEngine(
        f"https://127.0.0.1:{port}",
        verify=str(wrong / "ca.pem"),
        cert=(str(wrong / "cert.pem"), str(wrong / "key.pem")),
    )
    async with gated_engine(eng) as gate:  # type: ignore[arg-type]
        answer = await _exchange(gate, b"GET /v1.41/_ping HTTP/1.1\r\nHost: docker\r\n\r\n")
    assert answer == b"" and engine.requests == []


def test_tls_settings_follow_the_api_clients(certs: Any, short_dir: Path) -> None:
    unverified = _Upstream(FakeEngine("https://10.0.0.1:2376", verify=False))  # type: ignore[arg-type]
    assert unverified.tls is not None
    assert (unverified.tls.check_hostname, unverified.tls.verify_mode) == (False, ssl.CERT_NONE)
    assert (unverified.host, unverified.port) == ("10.0.0.1", 2376)
    combined = short_dir / "client.pem"  # one file with both the certificate and its key
    combined.write_bytes((certs.client / "cert.pem").read_bytes() + (certs.client / "key.pem").read_bytes())
    verified = _Upstream(FakeEngine("https://localhost:2376", cert=str(combined)))  # type: ignore[arg-type]
    assert verified.tls is not None and verified.tls.verify_mode == ssl.CERT_REQUIRED and verified.tls.check_hostname
    plain = _Upstream(FakeEngine("http://engine.example"))  # type: ignore[arg-type]
    assert (plain.tls, plain.host, plain.port) == (None, "engine.example", 2375)


def test_an_engine_reached_over_ssh_gets_no_gated_endpoint() -> None:
    with pytest.raises(GateRefusal) as caught:
        _Upstream(FakeEngine("ssh://user@build-host"))  # type: ignore[arg-type]
    assert caught.value.field == "engine"
    assert "a gated CLI endpoint for ssh://user@build-host (only unix and tcp engines)" in str(caught.value)


def test_refusals_are_summed_up_one_per_refusal() -> None:
    first, second = GateRefusal("privileged mode", "create.HostConfig.Privileged"), GateRefusal("x", "y")
    assert refusal_summary([first, second]) == f"{first}; {second}"
    assert refusal_summary([]) == ""


async def test_half_closing_a_closed_unix_stream_does_nothing() -> None:
    ours, peer = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    stream = _UnixStream(*await asyncio.open_unix_connection(sock=ours))
    try:
        await stream.send_eof()  # open: the peer reads end of stream
        assert peer.recv(1) == b""
        await stream.aclose()
        await stream.send_eof()  # closing: nothing to half-close, and no error
        with pytest.raises(anyio.ClosedResourceError):
            await stream.send(b"late")
    finally:
        peer.close()


ASYNCIO_DROPPED = "Error on transport creation for incoming connection"


@pytest.mark.parametrize("turns", range(8))
async def test_a_connection_made_as_the_block_ends_is_closed_unserved(short_dir: Path, turns: int) -> None:
    """However far the accept got when the block ended (not yet accepted, accepted with its handler not
    started, handler running), nothing of the connection reaches the engine, and it is closed.

    One step of the accept is outside the endpoint's reach: when asyncio (CPython 3.11) creates the
    transport of an accepted connection after `Server.close()`, `Server._attach` fails its assertion and
    the accepted socket is left open, unserved (asyncio reports it in debug mode, as checked here)."""
    engine = ScriptedEngine(CLOSE_OK)
    server, eng = await _unix_engine(engine, short_dir)
    loop = asyncio.get_running_loop()
    reports: list[dict[str, Any]] = []
    handler, debug = loop.get_exception_handler(), loop.get_debug()
    loop.set_exception_handler(lambda _loop, context: reports.append(context))
    loop.set_debug(True)
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        async with gated_engine(eng) as gate:  # type: ignore[arg-type]
            client.connect(gate.socket_path)  # queued on the listening socket at once
            client.sendall(b"GET /v1.41/_ping HTTP/1.1\r\nHost: docker\r\n\r\n")
            for _ in range(turns):
                await asyncio.sleep(0)  # let the event loop take the accept some steps further
        await asyncio.sleep(0)
        dropped = any(report.get("message") == ASYNCIO_DROPPED for report in reports)
        if not dropped:
            client.setblocking(False)
            try:
                answer = await asyncio.wait_for(loop.sock_recv(client, 1024), 30)
            except ConnectionResetError:
                answer = b""
            assert answer == b""
    finally:
        loop.set_debug(debug)
        loop.set_exception_handler(handler)
        client.close()
        server.close()
    assert engine.requests == [] and gate.forwarded == 0
