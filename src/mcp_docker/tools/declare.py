"""How a tool is declared: one typed function, one decorator.

`@docker_tool(level, toolset)` records the function with its safety level; `register_tools` (in
`tools/__init__.py`) adds the recorded tools that the settings allow to a server. The decorator's
wrapper is the single place where, on every call:

- the settings are checked again (a tool hidden at registration cannot be called anyway);
- a destructive call runs only with the user's confirmation (MCP_DOCKER_DESTRUCTIVE=confirm): the
  question is asked by a resolver on a hidden parameter, by an MCP Apps confirmation card (the result
  then carries the card's secret in `_meta` only), or confirmed in two steps with a `confirm_token`
  (`tools/confirm_gate.py`);
- MODERATE and DESTRUCTIVE calls are written to the audit log (`audit_call`, when configured);
- the blocking docker-py work runs on a worker thread;
- engine errors are mapped to the project's hierarchy and reach the model as a `ToolError`;
- a pydantic result becomes structured content plus a compact JSON text block.
"""

import dataclasses
import functools
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar, cast

from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel

from mcp_docker.call_limits import call_guard
from mcp_docker.safety.audit import audit_call
from mcp_docker.safety.confirmation import CONFIRM_META, TOKEN, CardNeeded
from mcp_docker.safety.levels import Level, check_allowed
from mcp_docker.state import Ctx, app_state
from mcp_docker.tools.confirm_gate import CONFIRMATION, Describe, attach_confirmation, settle
from mcp_docker.utils.errors import Kind, MCPDockerError, engine_errors
from mcp_docker.utils.validation import check_arguments

P = ParamSpec("P")
R = TypeVar("R")
__all__ = ["CONFIRMATION", "TOOLS", "Describe", "ToolSpec", "docker_tool", "to_result"]


@dataclass(frozen=True)
class ToolSpec:
    """A declared tool: the function to register and the facts safety decisions need."""

    name: str
    fn: Callable[..., Any]
    level: Level
    toolset: str
    title: str
    idempotent: bool = False
    open_world: bool = False
    destructive_hint: bool | None = None
    conditional: bool = False
    """A tool that is not destructive but whose `confirm` question, when it has one, needs the same
    confirmation as a destructive call (e.g. a tag that would move an existing tag)."""
    fn_without_token: Callable[..., Any] | None = None
    """`fn` without the `confirm_token` argument, for servers where the two-step confirmation is off."""
    action_levels: dict[str, Level] = field(default_factory=dict)
    """For tools whose level depends on an `action` argument (compose): the level of each action.
    `level` is then the highest; the tool is offered when any action is allowed, and each call is
    checked at the level of its action."""

    def call_level(self, arguments: dict[str, Any]) -> Level:
        action = arguments.get("action")
        if self.action_levels and isinstance(action, str) and action in self.action_levels:
            return self.action_levels[action]
        return self.level

    def result_model(self) -> type[BaseModel]:
        """The pydantic model the tool's function returns (its results are validated against it)."""
        returns = inspect.signature(self.fn).return_annotation
        if not (isinstance(returns, type) and issubclass(returns, BaseModel)):
            raise TypeError(f"{self.name} must be declared to return a pydantic model, not {returns!r}")
        return returns

    def lowest_level(self) -> Level:
        order = list(Level)
        return min(self.action_levels.values(), key=order.index) if self.action_levels else self.level


TOOLS: dict[str, ToolSpec] = {}
"""Declarations of every tool (static facts, like a table; servers are built from it per settings)."""


def to_result(value: Any) -> Any:
    """A pydantic model becomes structured content plus a compact JSON text block (fewer tokens)."""
    if isinstance(value, BaseModel):
        return CallToolResult(
            content=[TextContent(type="text", text=value.model_dump_json(exclude_none=True))],
            structured_content=value.model_dump(mode="json"),
        )
    return value


def docker_tool(
    level: Level,
    toolset: str,
    *,
    title: str,
    subject: Kind | None = None,
    idempotent: bool = False,
    open_world: bool = False,
    destructive_hint: bool | None = None,
    action_levels: dict[str, Level] | None = None,
    confirm: Describe | None = None,
    conditional: bool = False,
) -> Callable[[Callable[P, R]], Callable[P, Awaitable[R]]]:
    """Declare a tool. `subject` names the argument (container, image...) a 404 refers to;
    `action_levels` gives per-action levels for tools driven by an `action` argument; `confirm`
    writes the question put to the user before a destructive call (what exactly will be lost, from
    the engine and the call's arguments); without it a generic question names the tool and its target.
    `conditional=True` makes a tool that is not destructive ask the same way whenever `confirm` returns a
    question (and run without asking when it returns None)."""

    def decorate(fn: Callable[P, R]) -> Callable[P, Awaitable[R]]:
        name = fn.__name__
        is_async = inspect.iscoroutinefunction(fn)
        spec: ToolSpec

        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            confirmation = kwargs.pop(CONFIRMATION, None)
            kwargs.pop(TOKEN, None)  # read by the confirmation resolver, never by the body
            ctx = cast(Ctx, kwargs["ctx"])
            state = app_state(ctx)
            subject_name = kwargs.get(subject) if subject else None
            level = spec.call_level(kwargs)
            arguments = {k: v for k, v in kwargs.items() if k != "ctx"}
            token_digest: str | None = None
            try:
                check_arguments(kwargs)  # NUL / control characters in names and paths (utils/validation.py)
                check_allowed(name, level, toolset, state.settings)
                if asks:
                    token_digest = settle(spec, level, state, arguments, confirmation)
                    if token_digest is not None:
                        audit_call(name, level, state.settings, kwargs, "confirmed", token_digest=token_digest)
                assert state.limiter is not None
                # The question to the user (resolved before this body) is not counted by the guard.
                async with call_guard(state.limiter, state.settings, name, level, long_job=is_async):
                    with engine_errors(subject, str(subject_name) if subject_name is not None else None):
                        call = functools.partial(fn, *args, **kwargs)
                        if is_async:
                            result = await state.current_engine().run_async(call)
                        else:
                            result = await state.current_engine().run_sync(call)
            except CardNeeded as exc:  # nothing done; the result opens the confirmation card (MCP Apps)
                audit_call(name, level, state.settings, kwargs, exc)
                text = TextContent(type="text", text=str(exc))
                return cast(R, CallToolResult(content=[text], is_error=True, _meta={CONFIRM_META: exc.meta}))
            except MCPDockerError as exc:
                state.current_engine().unavailable(exc)
                audit_call(name, level, state.settings, kwargs, exc, token_digest=token_digest)
                raise exc.to_tool_error() from exc
            except BaseException as exc:
                audit_call(name, level, state.settings, kwargs, exc, token_digest=token_digest)
                raise
            audit_call(name, level, state.settings, kwargs, None, token_digest=token_digest)
            return cast(R, to_result(result))

        asks = level is Level.DESTRUCTIVE or Level.DESTRUCTIVE in (action_levels or {}).values() or conditional
        spec = ToolSpec(
            name=name,
            fn=wrapper,
            level=level,
            toolset=toolset,
            title=title,
            idempotent=idempotent,
            open_world=open_world,
            destructive_hint=destructive_hint,
            conditional=conditional,
            action_levels=dict(action_levels or {}),
        )
        if asks:
            spec = dataclasses.replace(spec, fn_without_token=attach_confirmation(wrapper, fn, spec, subject, confirm))
        TOOLS[name] = spec
        return wrapper

    return decorate
