"""Every library shape the server relies on beyond a public API, asserted one by one.

`mcp_docker.sdk_internals` (the MCP SDK), `mcp_docker.http_serving` (uvicorn, h11) and
`mcp_docker.docker.library_internals` (docker-py, requests, urllib3) hold every such use. When a
library release changes a shape, a test here fails with a message naming the function to fix.
No engine is needed: clients are built against sockets that are never reached or are local.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Annotated, Any

import docker
import h11
import pytest
import requests
import urllib3
from mcp import Client
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.resolve import Resolve
from mcp.server.mcpserver.tools.base import Tool
from mcp.shared.message import SessionMessage
from mcp.types import CallToolResult, EmptyResult, PaginatedRequestParams, SubscribeRequestParams, TextContent
from pydantic import BaseModel, ValidationError

from mcp_docker import sdk_internals as sdk
from mcp_docker.docker import library_internals as lib

pytestmark = pytest.mark.anyio


def fix(function: str, what: str) -> str:
    """The failure message: which function to fix, and what changed."""
    return f"{function}: {what}; the library changed shape, fix {function} (and its docstring)"


class Answer(BaseModel):
    value: int


def _server() -> MCPServer[Any]:
    server: MCPServer[Any] = MCPServer("shapes")

    @server.tool()
    def double(value: int) -> Answer:
        """Twice the value."""
        return Answer(value=2 * value)

    return server


# --- the MCP SDK (mcp_docker.sdk_internals) ---


def test_registered_tool_reaches_the_sdk_record() -> None:
    name = "sdk_internals.registered_tool"
    server = _server()
    assert hasattr(server, "_tool_manager"), fix(name, "MCPServer has no _tool_manager")
    assert callable(getattr(server._tool_manager, "get_tool", None)), fix(name, "ToolManager has no get_tool")
    tool = sdk.registered_tool(server, "double")
    assert isinstance(tool, Tool), fix(name, f"get_tool returned {type(tool).__name__}, not a Tool")
    assert sdk.registered_tool(server, "missing") is None, fix(name, "get_tool of an unknown name is not None")


async def test_argument_model_is_what_a_call_is_validated_with() -> None:
    name = "sdk_internals.argument_model"
    server = _server()
    tool = sdk.registered_tool(server, "double")
    assert tool is not None
    model = sdk.argument_model(tool)
    assert isinstance(model, type) and issubclass(model, BaseModel), fix(name, "fn_metadata.arg_model is no model")
    seen: list[Any] = []
    validate = BaseModel.model_validate.__func__  # type: ignore[attr-defined]

    def recording(cls: type[BaseModel], obj: Any, **kwargs: Any) -> BaseModel:
        seen.append(obj)
        kwargs.setdefault("extra", "forbid")
        result: BaseModel = validate(cls, obj, **kwargs)
        return result

    model.model_validate = classmethod(recording)  # type: ignore[method-assign,assignment,arg-type]
    async with Client(server) as client:
        ok = await client.call_tool("double", {"value": 2})
        refused = await client.call_tool("double", {"value": 2, "extra": 1})
    assert seen, fix(name, "a tools/call did not validate through arg_model.model_validate")
    assert ok.structured_content == {"value": 4}
    assert refused.is_error, fix(name, "extra='forbid' on arg_model.model_validate no longer refuses an argument")
    with pytest.raises(ValidationError):
        tool.fn_metadata.validate_arguments({"value": 1, "extra": 1})


async def test_published_schemas_are_what_tools_list_answers() -> None:
    name = "sdk_internals.published_schemas / publish_schemas"
    server = _server()
    tool = sdk.registered_tool(server, "double")
    assert tool is not None
    parameters, output = sdk.published_schemas(tool)
    assert isinstance(parameters, dict) and "value" in parameters.get("properties", {}), fix(name, "Tool.parameters")
    assert isinstance(output, dict) and "value" in output.get("properties", {}), fix(
        name, "Tool.fn_metadata.output_schema"
    )
    sdk.publish_schemas(tool, {**parameters, "x-mark": "in"}, {**output, "x-mark": "out"})
    async with Client(server) as client:
        listed = (await client.list_tools()).tools[0]
        result = await client.call_tool("double", {"value": 3})
    assert listed.input_schema.get("x-mark") == "in", fix(name, "tools/list does not publish Tool.parameters")
    assert (listed.output_schema or {}).get("x-mark") == "out", fix(
        name, "tools/list does not publish fn_metadata.output_schema"
    )
    assert result.structured_content == {"value": 6}


async def test_an_output_model_set_after_an_unstructured_registration_validates_results() -> None:
    name = "sdk_internals.validate_output_with"
    server: MCPServer[Any] = MCPServer("shapes")

    def double(value: int) -> CallToolResult:
        """Twice the value (a negative one gives a result that is not an Answer)."""
        content = {"value": 2 * value} if value >= 0 else {"wrong": value}
        return CallToolResult(content=[TextContent(type="text", text="x")], structured_content=content)

    server.add_tool(double, structured_output=False)
    tool = sdk.registered_tool(server, "double")
    assert tool is not None
    assert tool.fn_metadata.output_schema is None, fix(name, "structured_output=False still generated a schema")
    sdk.validate_output_with(tool, Answer)
    sdk.publish_schemas(tool, tool.parameters, {"type": "object", "required": ["value"]})
    async with Client(server) as client:
        listed = (await client.list_tools()).tools[0]
        ok = await client.call_tool("double", {"value": 2})
        wrong = await client.call_tool("double", {"value": -1})
    assert listed.output_schema == {"type": "object", "required": ["value"]}
    assert ok.structured_content == {"value": 4} and not ok.is_error
    assert wrong.is_error, fix(name, "a result is no longer validated against fn_metadata.output_model")


async def test_request_handlers_are_replaced_and_read() -> None:
    name = "sdk_internals.set_request_handler / request_handler"
    server = _server()
    assert hasattr(server, "_lowlevel_server"), fix(name, "MCPServer has no _lowlevel_server")
    entry = sdk.request_handler(server, "subscriptions/listen")
    assert entry is not None, fix(name, "the SDK no longer serves subscriptions/listen by default")
    handler, params_type = entry
    assert callable(handler) and issubclass(params_type, BaseModel), fix(name, "HandlerEntry.handler/params_type")
    assert sdk.request_handler(server, "no/such/method") is None, fix(name, "get_request_handler of nothing")

    async def list_resources(ctx: Any, params: PaginatedRequestParams) -> Any:
        from mcp.types import ListResourcesResult, Resource

        return ListResourcesResult(resources=[Resource(uri="x://ours", name="ours")])

    sdk.set_request_handler(server, "resources/list", PaginatedRequestParams, list_resources)
    replaced = sdk.request_handler(server, "resources/list")
    assert replaced is not None and replaced[0] is list_resources, fix(name, "add_request_handler did not replace")
    async with Client(server) as client:
        listed = await client.list_resources()
    assert [str(r.uri) for r in listed.resources] == ["x://ours"], fix(name, "the replaced handler is not served")


@pytest.mark.filterwarnings("ignore:resources/subscribe is removed")
async def test_connection_key_is_one_per_connection() -> None:
    name = "sdk_internals.connection_key"
    server = _server()
    seen: list[tuple[int, Any]] = []

    async def subscribe(ctx: Any, params: SubscribeRequestParams) -> EmptyResult:
        seen.append((sdk.connection_key(ctx), ctx.session))
        return EmptyResult()

    sdk.set_request_handler(server, "resources/subscribe", SubscribeRequestParams, subscribe)
    for _ in range(2):
        async with Client(server, mode="legacy") as client:
            await client.subscribe_resource("x://a")
            await client.subscribe_resource("x://b")
    assert all(hasattr(session, "_connection") for _, session in seen), fix(name, "ServerSession has no _connection")
    keys = [key for key, _ in seen]
    assert keys[0] == keys[1] and keys[2] == keys[3], fix(name, "two requests of one connection have two keys")
    assert keys[0] != keys[2], fix(name, "two connections share a key")


class _Lines:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def __aiter__(self) -> AsyncIterator[str]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[str]:
        for line in self.lines:
            yield line


class _Out:
    def __init__(self) -> None:
        self.text = ""

    async def write(self, text: str) -> None:
        self.text += text

    async def flush(self) -> None:
        pass


async def test_stdio_streams_read_any_async_iterable_and_serve_streams_answers() -> None:
    name = "sdk_internals.stdio_streams / serve_streams"
    import anyio
    from mcp.server.stdio import stdio_server

    assert "stdin" in inspect.signature(stdio_server).parameters, fix(name, "stdio_server takes no stdin")
    lowlevel = _server()._lowlevel_server
    assert callable(getattr(lowlevel, "create_initialization_options", None)), fix(name, "no initialization options")
    assert list(inspect.signature(lowlevel.run).parameters)[:3] == [
        "read_stream",
        "write_stream",
        "initialization_options",
    ], fix(name, "Server.run(read_stream, write_stream, initialization_options)")
    ping = '{"jsonrpc": "2.0", "id": 1, "method": "ping"}\n'
    hello = (
        '{"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-11-25", '
        '"capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}\n'
    )
    out = _Out()
    server = _server()
    with anyio.fail_after(10):
        async with stdio_server(stdin=_Lines([hello, "not json\n", ping]), stdout=out) as (read, write):  # type: ignore[arg-type]
            forward, messages = anyio.create_memory_object_stream[SessionMessage | Exception](0)
            unreadable: list[Exception] = []

            async def pump() -> None:
                async with forward:
                    async for item in read:
                        if isinstance(item, Exception):
                            unreadable.append(item)
                        else:
                            await forward.send(item)

            async with anyio.create_task_group() as tg:
                tg.start_soon(pump)
                await sdk.serve_streams(server, messages, write)
    assert len(unreadable) == 1, fix(name, "a line that is not JSON-RPC is not handed over as an exception")
    assert '"id":0' in out.text and '"id":1' in out.text, fix(name, "initialize and ping were not answered")


async def test_present_signature_is_what_the_sdk_reads() -> None:
    name = "sdk_internals.present_signature / resolved_by"
    server: MCPServer[Any] = MCPServer("shapes")
    asked: list[dict[str, Any]] = []

    async def resolver(ctx: Context[Any, Any], **arguments: Any) -> str:
        asked.append(arguments)
        return f"resolved {arguments['value']}"

    sdk.present_signature(
        resolver,
        inspect.Signature(
            [
                inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Context),
                inspect.Parameter("value", inspect.Parameter.KEYWORD_ONLY),
            ]
        ),
        {"ctx": Context},
    )
    hidden = Annotated[str, Resolve(resolver)]
    assert sdk.resolved_by(hidden) == (str, resolver), fix(name, "Resolve(fn).fn")

    async def tool(**kwargs: Any) -> str:
        return f"{kwargs['value']}: {kwargs['answer']}"

    sdk.present_signature(
        tool,
        inspect.Signature(
            [
                inspect.Parameter("value", inspect.Parameter.KEYWORD_ONLY, annotation=int),
                inspect.Parameter("answer", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=hidden),
            ],
            return_annotation=str,
        ),
    )
    server.tool(name="shaped")(tool)
    async with Client(server) as client:
        listed = (await client.list_tools()).tools[0]
        result = await client.call_tool("shaped", {"value": 7})
    assert list(listed.input_schema["properties"]) == ["value"], fix(name, "the argument model ignores __signature__")
    assert asked == [{"value": 7}], fix(name, "a resolver no longer gets the tool's arguments its signature names")
    assert result.content[0].text == "7: resolved 7", fix(name, "the resolved parameter was not filled")  # type: ignore[union-attr]


# --- uvicorn and h11 (mcp_docker.http_serving) ---


def test_uvicorn_h11_protocol_has_the_hooks_we_override() -> None:
    from uvicorn.config import Config
    from uvicorn.protocols.http.h11_impl import H11Protocol
    from uvicorn.server import ServerState

    from mcp_docker.http_serving import HeaderDeadlineProtocol

    name = "http_serving.HeaderDeadlineProtocol"
    for method in ("connection_made", "connection_lost", "handle_events", "on_response_complete"):
        assert callable(getattr(H11Protocol, method, None)), fix(name, f"uvicorn's H11Protocol lost {method}")
        assert method in HeaderDeadlineProtocol.__dict__
    loop = asyncio.new_event_loop()
    try:
        config = Config(app=lambda *_: None, log_config=None)
        proto = H11Protocol(config, ServerState(), {}, _loop=loop)
        assert isinstance(proto.conn, h11.Connection), fix(name, "H11Protocol.conn is no h11.Connection")
        assert proto.conn.their_state is h11.IDLE, fix(name, "a new connection is not IDLE")
        assert hasattr(proto, "transport") and hasattr(proto, "loop"), fix(name, "H11Protocol.transport / loop")
    finally:
        loop.close()


# --- docker-py, requests, urllib3 (mcp_docker.docker.library_internals) ---


def _api(tmp_path: Path) -> docker.APIClient:
    return docker.APIClient(base_url=f"unix://{tmp_path}/engine.sock", version="1.41", timeout=2)


def test_api_client_private_helpers_exist_with_their_arguments() -> None:
    expected = {
        "api_url": ("_url", ["pathfmt"]),
        "api_get": ("_get", None),  # behind docker-py's `update_headers`: (*args, **kwargs)
        "api_put": ("_put", None),
        "api_post_json": ("_post_json", ["url", "data"]),
        "raise_for_status": ("_raise_for_status", ["response"]),
        "json_result": ("_result", ["response", "json"]),
        "engine_api_version": ("_retrieve_server_version", []),
    }
    for function, (attribute, params) in expected.items():
        name = f"library_internals.{function}"
        method = getattr(docker.APIClient, attribute, None)
        assert callable(method), fix(name, f"docker.APIClient has no {attribute}")
        if params is not None:
            names = list(inspect.signature(method).parameters)[1:]
            assert names[: len(params)] == params, fix(name, f"APIClient.{attribute} takes {names}, not {params}")


class _FakeEngine(ThreadingHTTPServer):
    """Answers the few requests the helpers send; records what it was sent."""

    def __init__(self) -> None:
        self.got: list[tuple[str, str, bytes]] = []
        super().__init__(("127.0.0.1", 0), _FakeHandler)


class _FakeHandler(BaseHTTPRequestHandler):
    server: _FakeEngine

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _record(self) -> None:
        size = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding") == "chunked":
            data = b""
            while (length := int(self.rfile.readline().strip(), 16)) != 0:
                data += self.rfile.read(length)
                self.rfile.readline()
            self.rfile.readline()
        else:
            data = self.rfile.read(size)
        self.server.got.append((self.command, self.path, data))

    def do_GET(self) -> None:
        self._record()
        if self.path == "/version":
            self._answer(200, b'{"ApiVersion": "1.43"}')
        else:
            self._answer(200, b"streamed body")

    def do_PUT(self) -> None:
        self._record()
        self._answer(200, b"")

    def do_POST(self) -> None:
        self._record()
        self._answer(200, b'{"Warnings": ["w"]}')

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake_engine() -> Iterator[tuple[_FakeEngine, docker.APIClient]]:
    server = _FakeEngine()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api = docker.APIClient(base_url=f"tcp://127.0.0.1:{server.server_address[1]}", version="1.41", timeout=5)
    try:
        yield server, api
    finally:
        api.close()
        server.shutdown()
        server.server_close()


def test_api_requests_reach_the_engine(fake_engine: tuple[_FakeEngine, docker.APIClient]) -> None:
    server, api = fake_engine
    assert lib.engine_api_version(api) == "1.43", fix("library_internals.engine_api_version", "GET /version")
    res = lib.api_get(api, lib.api_url(api, "/containers/{0}/archive", "x"), params={"path": "/"}, stream=True)
    assert res.raw.read() == b"streamed body", fix("library_internals.api_get", "_get(url, stream=True).raw")
    res.close()
    lib.raise_for_status(api, res)
    lib.api_put(api, lib.api_url(api, "/containers/{0}/archive", "x"), data=io.BytesIO(b"tar"))
    res = lib.api_post_json(api, lib.api_url(api, "/containers/{0}/update", "x"), {"PidsLimit": 5})
    assert lib.json_result(api, res) == {"Warnings": ["w"]}, fix("library_internals.json_result", "_result(r, True)")
    sent = [(method, path.split("?")[0], body) for method, path, body in server.got]
    assert sent[1:] == [
        ("GET", "/v1.41/containers/x/archive", b""),
        ("PUT", "/v1.41/containers/x/archive", b"tar"),
        ("POST", "/v1.41/containers/x/update", b'{"PidsLimit": 5}'),
    ], fix("library_internals.api_get / api_put / api_post_json", f"the engine was sent {sent}")


def test_api_url_and_version(tmp_path: Path) -> None:
    api = _api(tmp_path)
    assert lib.api_url(api, "/containers/{0}/archive", "a b").endswith("/v1.41/containers/a%20b/archive"), fix(
        "library_internals.api_url", "_url no longer quotes and versions"
    )
    lib.use_api_version(api, "1.43")
    assert api.api_version == "1.43", fix("library_internals.use_api_version", "APIClient._version is not the version")
    assert "/v1.43/" in lib.api_url(api, "/info"), fix("library_internals.use_api_version", "_url ignores _version")


def test_raise_for_status_and_json_result_read_a_response() -> None:
    response = requests.Response()
    response.status_code, response._content = 404, b'{"message": "no such container"}'
    response.url = "http://engine/v1.41/containers/x/json"
    api = docker.APIClient(base_url="tcp://127.0.0.1:1", version="1.41")
    with pytest.raises(docker.errors.NotFound):
        lib.raise_for_status(api, response)
    response.status_code = 200
    response._content = b'{"Warnings": []}'
    assert lib.json_result(api, response) == {"Warnings": []}, fix("library_internals.json_result", "_result(r, True)")


def test_unix_socket_path(tmp_path: Path) -> None:
    name = "library_internals.unix_socket_path"
    assert lib.unix_socket_path(_api(tmp_path)) == f"{tmp_path}/engine.sock", fix(name, "_custom_adapter.socket_path")
    tcp = docker.APIClient(base_url="tcp://127.0.0.1:1", version="1.41")
    assert lib.unix_socket_path(tcp) is None, fix(name, "a tcp client reports a socket path")


def test_raw_socket_of_a_socket_io() -> None:
    ours, theirs = socket.socketpair()
    try:
        wrapped = socket.SocketIO(ours, "rb")
        assert lib.raw_socket(wrapped) is ours, fix("library_internals.raw_socket", "SocketIO._sock")
        assert lib.raw_socket(ours) is ours
    finally:
        ours.close()
        theirs.close()


def test_check_before_send_sees_every_request_first(tmp_path: Path) -> None:
    name = "library_internals.check_before_send"
    api = _api(tmp_path)
    assert issubclass(type(api), requests.Session), fix(name, "APIClient is no requests.Session")

    class Stop(Exception):
        pass

    seen: list[str] = []

    def check(request: Any) -> None:
        seen.append(f"{request.method} {request.url}")
        raise Stop

    lib.check_before_send(api, check)
    lib.check_before_send(api, check)  # once per client
    with pytest.raises(Stop):  # no socket: without the check this would be a ConnectionError
        api.containers()
    with pytest.raises(Stop):
        api.create_container("busybox")
    assert len(seen) == 2 and seen[1].startswith("POST "), fix(name, "docker-py no longer sends through Session.send")


def test_keep_session_ca_beats_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    name = "library_internals.keep_session_ca"
    params = list(inspect.signature(requests.Session.merge_environment_settings).parameters)
    assert params == ["self", "url", "proxies", "stream", "verify", "cert"], fix(name, f"merge takes {params}")
    assert "self.merge_environment_settings(" in inspect.getsource(requests.Session.request), fix(
        name, "Session.request no longer asks merge_environment_settings"
    )
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/public/cas.pem")
    api = docker.APIClient(base_url="tcp://127.0.0.1:1", version="1.41")
    api.verify = str(tmp_path / "ca.pem")
    assert api.merge_environment_settings("https://e:2376", {}, False, None, None)["verify"] == "/public/cas.pem"
    lib.keep_session_ca(api)
    merged = api.merge_environment_settings("https://e:2376", {}, False, None, None)
    assert merged["verify"] == str(tmp_path / "ca.pem"), fix(name, "the session's CA is not kept")


def test_hook_pools_sees_connections_handed_out_and_back(tmp_path: Path) -> None:
    name = "library_internals.hook_pools"
    from urllib3.connectionpool import HTTPConnectionPool

    source = inspect.getsource(HTTPConnectionPool.urlopen)
    assert "self._get_conn(" in source and "self._put_conn(" in source, fix(name, "urlopen without _get/_put_conn")
    assert "get_connection_with_tls_context(" in inspect.getsource(requests.adapters.HTTPAdapter.send), fix(
        name, "requests' HTTPAdapter.send no longer asks get_connection_with_tls_context"
    )
    for api in (_api(tmp_path), docker.APIClient(base_url="tcp://127.0.0.1:1", version="1.41")):
        assert api.adapters, fix(name, "APIClient.adapters is empty")
        for adapter in api.adapters.values():
            assert all(callable(getattr(adapter, m, None)) for m in lib.ADAPTER_METHODS), fix(
                name, f"{type(adapter).__name__} lacks {lib.ADAPTER_METHODS}"
            )
    api = _api(tmp_path)
    out: list[Any] = []
    back: list[Any] = []
    lib.hook_pools(api, out.append, back.append)
    lib.hook_pools(api, out.append, back.append)  # once per adapter
    request = requests.Request("GET", "http+docker://localhost/v1.41/info").prepare()
    adapter = api.get_adapter(request.url)
    pool = adapter.get_connection_with_tls_context(request, True)
    assert isinstance(pool, HTTPConnectionPool), fix(name, f"the adapter handed out a {type(pool).__name__}")
    conn = pool._get_conn()
    pool._put_conn(conn)
    assert out == [conn] and back == [conn], fix(name, "the pool's _get_conn/_put_conn were not seen")


@pytest.fixture
def listener() -> Iterator[int]:
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        thread.join(2)
        for s in accepted:
            s.close()
        server.close()


def test_watch_connect_and_the_connection_socket(listener: int) -> None:
    name = "library_internals.watch_connect / connection_socket / mark_call"
    conn = urllib3.connection.HTTPConnection("127.0.0.1", listener)
    assert lib.connection_socket(conn) is None, fix(name, "a new urllib3 connection already has a socket")
    opened: list[Any] = []
    lib.watch_connect(conn, opened.append)
    lib.watch_connect(conn, opened.append)  # once per connection
    lib.mark_call(conn, "the call")
    assert lib.call_of(conn) == "the call", fix(name, "a urllib3 connection takes no attribute")
    conn.connect()
    try:
        assert opened == [conn], fix(name, "connect() was not seen")
        assert isinstance(lib.connection_socket(conn), socket.socket), fix(name, "HTTPConnection.sock")
    finally:
        conn.close()
