"""Every place the server leans on the MCP SDK beyond its public API, behind one small function each.

Written against `mcp` 2.3 (`mcp>=2.3,<3`). Each function says which shape of the SDK it relies on and
why the public API does not do; `tests/unit/test_library_shapes.py` asserts every one of those
shapes and names the function here to fix when an SDK release changes one. Code elsewhere calls
these functions, never the SDK's private attributes.

Where the SDK has a public way, it is used instead: subscriptions are published on a
`SubscriptionBus` the server is built with (`MCPServer(subscriptions=...)`), not on the server's own.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, get_args

from mcp.server.mcpserver.resolve import Resolve

if TYPE_CHECKING:
    from mcp.server import MCPServer
    from mcp.server.context import ServerRequestContext
    from mcp.server.mcpserver.tools.base import Tool
    from pydantic import BaseModel

Handler = Callable[[Any, Any], Awaitable[Any]]


# --- registered tools: strict arguments and compacted schemas (tools/strict_arguments.py) ---


def registered_tool(server: MCPServer[Any], name: str) -> Tool | None:
    """The SDK's record of the registered tool `name`.

    Relies on: `MCPServer._tool_manager` (a `ToolManager`) and its `get_tool(name)`. The public API
    registers and removes tools but hands out only their wire form (`list_tools`), not the record
    whose argument model validates calls."""
    return server._tool_manager.get_tool(name)


def argument_model(tool: Tool) -> type[BaseModel]:
    """The pydantic model the SDK validates a call's arguments with.

    Relies on: `Tool.fn_metadata.arg_model`, validated through `arg_model.model_validate(...)` (a
    class attribute lookup, so a classmethod set on the model is what the SDK calls)."""
    model: type[BaseModel] = tool.fn_metadata.arg_model
    return model


def published_schemas(tool: Tool) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The input and output schemas tools/list publishes for `tool`.

    Relies on: `Tool.parameters` and `Tool.fn_metadata.output_schema`, read when tools/list is
    answered (results are still validated against the output model, not this schema)."""
    return tool.parameters, tool.fn_metadata.output_schema


def publish_schemas(tool: Tool, input_schema: dict[str, Any], output_schema: dict[str, Any] | None) -> None:
    """Replace the schemas tools/list publishes for `tool` (see `published_schemas`)."""
    tool.parameters = input_schema
    tool.fn_metadata.output_schema = output_schema


def validate_output_with(tool: Tool, model: type[BaseModel]) -> None:
    """Validate `tool`'s results against `model`, for a tool registered with `structured_output=False`.

    Registering unstructured skips the SDK's generation of the model's full nested JSON schema (half of
    a registration's cost), which this server would replace by a list of field names anyway; the
    schema to publish is then set with `publish_schemas`.

    Relies on: `Tool.fn_metadata.output_model` and `wrap_output` being read at each call, not copied at
    registration (the SDK documents reassigning them), and a `CallToolResult`'s structured content
    being validated against `output_model` whenever an output schema is published."""
    tool.fn_metadata.output_model = model
    tool.fn_metadata.wrap_output = False


# --- the low-level server: request handlers and the stdio loop ---


def set_request_handler(
    server: MCPServer[Any], method: str, params_type: type[BaseModel], handler: Callable[..., Awaitable[Any]]
) -> None:
    """Serve `method` with `handler(ctx, params)`, replacing the SDK's own handler if it has one.

    Relies on: `MCPServer._lowlevel_server` (the low-level `Server`) and its public
    `add_request_handler(method, params_type, handler)`, which replaces an existing entry. `MCPServer`
    has no public way to replace resources/list, to answer completions with the request's context
    (its `completion()` decorator passes no context), or to serve subscribe/unsubscribe."""
    server._lowlevel_server.add_request_handler(method, params_type, handler)


def request_handler(server: MCPServer[Any], method: str) -> tuple[Handler, type[BaseModel]] | None:
    """The SDK's handler for `method` and the model of its params, or None when it serves none.

    Relies on: `MCPServer._lowlevel_server.get_request_handler(method)` returning an entry with
    `handler` and `params_type` (the `HandlerEntry` of mcp 2.3)."""
    entry = server._lowlevel_server.get_request_handler(method)
    if entry is None:
        return None
    return entry.handler, entry.params_type


async def serve_streams(server: MCPServer[Any], read_stream: Any, write_stream: Any) -> None:
    """Serve one connection over a pair of message streams until the read side closes.

    Relies on: `MCPServer._lowlevel_server.run(read, write, create_initialization_options())`, what
    `MCPServer.run_stdio_async` does on the SDK's own stdin reader. The stdio transport
    (`transport.run_stdio`) needs it because it reads stdin itself (a line that is not JSON-RPC
    gets an error instead of silence, and a signal stops a pending read)."""
    lowlevel = server._lowlevel_server
    await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())


@asynccontextmanager
async def stdio_streams(stdin: AsyncIterable[str]) -> AsyncIterator[tuple[Any, Any]]:
    """The SDK's stdio message streams, reading lines from `stdin` instead of the process's stdin.

    Relies on: `mcp.server.stdio.stdio_server(stdin=...)` only iterating `stdin` (`async for line`),
    which its type (`anyio.AsyncFile[str]`) does not promise."""
    from mcp.server.stdio import stdio_server

    async with stdio_server(stdin=stdin) as streams:  # type: ignore[arg-type]
        yield streams


def connection_key(ctx: ServerRequestContext[Any, Any]) -> int:
    """A key for the client connection a request came on (the SDK makes a session object per request).

    Relies on: `ServerSession._connection`, the connection object every request's session shares;
    falls back to the session itself. No public attribute identifies the connection."""
    return id(getattr(ctx.session, "_connection", ctx.session))


# --- signatures the SDK reads: the hidden confirmation parameter, the `host` argument ---


def present_signature(
    fn: Callable[..., Any], signature: inspect.Signature, annotations: dict[str, Any] | None = None
) -> None:
    """Make the SDK see `fn` as having `signature` (its arguments, schema and resolvers come from it).

    Relies on: the SDK building a tool's argument model from `inspect.signature(fn, eval_str=True)`
    (which honours `__signature__`) and finding `Annotated[_, Resolve(...)]` parameters and a
    resolver's arguments through `typing.get_type_hints(fn, include_extras=True)` (which reads
    `__annotations__`) over `inspect.signature(fn).parameters`. `annotations` defaults to the
    signature's own (parameters and return)."""
    if annotations is None:
        annotations = {p.name: p.annotation for p in signature.parameters.values()}
        annotations["return"] = signature.return_annotation
    fn.__signature__ = signature  # type: ignore[attr-defined]
    fn.__annotations__ = annotations


def resolved_by(annotation: Any) -> tuple[Any, Callable[..., Any]]:
    """(the type, the resolver function) of an `Annotated[T, Resolve(fn)]` annotation.

    Relies on: `Resolve(fn)` keeping `fn` as its attribute `fn`."""
    type_arg, *metadata = get_args(annotation)
    return type_arg, next(m for m in metadata if isinstance(m, Resolve)).fn
