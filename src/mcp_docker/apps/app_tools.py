"""Tools only the views call (`visibility: ["app"]`): the confirmation card's request, press and dismiss.

The card is how a person confirms a destructive action in a client that renders MCP Apps. It opens in
two ways: a destructive tool called by the model in such a client (when it cannot elicit) ends with
the card's result, or the containers view asks for one (`docker_app_request_removal`). Either way the
token of the general two-step store (`AppState.tokens`, safety/confirm_tokens.py) is issued with
`via="card"` and travels only in the result's `_meta`; only pressing the card's button sends it back
(`docker_app_confirm_removal`), which spends it and runs the call it was issued for through the tool
itself (same checks, question, audit). A model never sees the token, cannot call these tools, and a
card token passed as `confirm_token` is refused (and spent).
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Annotated, Any, TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent
from pydantic import Field

from mcp_docker.safety import audit
from mcp_docker.safety.confirm_tokens import TokenRefused
from mcp_docker.safety.confirmation import CONFIRM_META
from mcp_docker.safety.levels import Level
from mcp_docker.state import Ctx, app_state
from mcp_docker.tools.confirm_gate import CARD_ASK, CARD_PRESSED
from mcp_docker.tools.params import ContainerRef

__all__ = ["CONFIRM_META", "REMOVE", "call_as_model", "card_tools", "context_set", "request_tool"]

REMOVE = "docker_remove_container"
UNKNOWN = "This confirmation is unknown, used or expired; nothing was removed or changed. Ask again."
T = TypeVar("T")
Token = Annotated[str, Field(description="The secret the confirmation card was given.", max_length=200)]


@contextmanager
def context_set(var: ContextVar[T], value: T) -> Iterator[None]:
    """Set `var` to `value` inside the block (the hidden channels of confirm_gate and log_stream)."""
    reset = var.set(value)
    try:
        yield
    finally:
        var.reset(reset)


async def call_as_model(ctx: Ctx, name: str, arguments: dict[str, Any]) -> CallToolResult:
    """Run tool `name` inside this request, through everything a model's call goes through."""
    try:
        result = await ctx.mcp_server.call_tool(name, arguments, ctx)
    except ToolError as exc:
        raise ToolError(str(exc).removeprefix(f"Error executing tool {name}: ")) from exc
    if not isinstance(result, CallToolResult):  # pragma: no cover - the card path never elicits
        raise ToolError(f"{name} asked for input the card cannot give; nothing was done.")
    return result


def request_tool() -> Any:
    async def docker_app_request_removal(
        ctx: Ctx,
        container: ContainerRef,
        force: Annotated[bool, Field(description="Kill and remove a running container.")] = False,
        host: Annotated[str | None, Field(description="The engine, where several are served.")] = None,
    ) -> CallToolResult:
        """For the containers view: the question its confirmation card shows before removing a container."""
        arguments: dict[str, Any] = {"container": container, "force": force}
        if host is not None:
            arguments["host"] = host
        with context_set(CARD_ASK, True):
            result = await call_as_model(ctx, REMOVE, arguments)
        card = (result.meta or {}).get(CONFIRM_META)
        if card is None:  # no question: refused, or (MCP_DOCKER_DESTRUCTIVE=allow) removed at once
            return result
        question = card["question"]
        text = (
            f"{question}\nThe person was shown a confirmation card. Nothing is removed unless they press its "
            "button; wait for them."
        )
        return CallToolResult(
            content=[TextContent(type="text", text=text)],
            structured_content={"question": question, "container": container, "pending": True},
            _meta={CONFIRM_META: card},
        )

    return docker_app_request_removal


def card_tools() -> list[Any]:
    """The card's two buttons."""

    async def docker_app_confirm_removal(ctx: Ctx, token: Token) -> CallToolResult:
        """For the confirmation card's button: run the destructive call the card asked about."""
        tokens = app_state(ctx).tokens
        issued = tokens.peek(token)
        if issued is None or issued.via != "card":
            raise ToolError(UNKNOWN)
        arguments: dict[str, Any] = json.loads(issued.arguments)
        try:
            tokens.redeem(token, issued.tool, issued.host, arguments, via="card")  # spent from here on
        except TokenRefused:
            raise ToolError(UNKNOWN) from None
        if issued.host is not None:
            arguments["host"] = issued.host
        with context_set(CARD_PRESSED, issued):
            return await call_as_model(ctx, issued.tool, arguments)

    async def docker_app_dismiss_removal(ctx: Ctx, token: Token) -> dict[str, bool]:
        """For the confirmation card's dismiss button: forget the pending call; nothing is done."""
        state = app_state(ctx)
        issued = state.tokens.peek(token)
        dismissed = issued is not None and state.tokens.cancel(token, "card")
        if dismissed and issued is not None:
            audit.record(
                state.settings.audit_log,
                issued.tool,
                Level.DESTRUCTIVE.value,
                json.loads(issued.arguments),
                "dismissed",
                "the person dismissed the confirmation card",
                host=issued.host,
                token_digest=issued.digest[:16],
            )
        return {"dismissed": dismissed}

    return [docker_app_confirm_removal, docker_app_dismiss_removal]
