"""How a tool is declared: one typed function, one decorator.

`@docker_tool(level, toolset)` records the function with its safety level; `register_tools` (in
`tools/__init__.py`) adds the recorded tools that the settings allow to a server. The decorator's
wrapper is the single place where, on every call:

- the settings are checked again (a tool hidden at registration cannot be called anyway);
- the blocking docker-py work runs on a worker thread;
- engine errors are mapped to the project's hierarchy and reach the model as a `ToolError`;
- a pydantic result becomes structured content plus a compact JSON text block.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

import anyio
from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel

from mcp_docker.reliability import call_guard, new_limiter
from mcp_docker.utils.errors import Kind, MCPDockerError, engine_errors
from mcp_docker.utils.safety import Level, check_allowed

if TYPE_CHECKING:
    from mcp_docker.config import Settings
    from mcp_docker.docker.client import Engine

Ctx = Context[Any, Any]

P = ParamSpec("P")
R = TypeVar("R")


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
    action_levels: dict[str, Level] = field(default_factory=dict)
    """For tools whose level depends on an `action` argument (compose): the level of each action.
    `level` is then the highest; the tool is offered when any action is allowed, and each call is
    checked at the level of its action."""

    def call_level(self, arguments: dict[str, Any]) -> Level:
        action = arguments.get("action")
        if self.action_levels and isinstance(action, str) and action in self.action_levels:
            return self.action_levels[action]
        return self.level

    def lowest_level(self) -> Level:
        order = list(Level)
        return min(self.action_levels.values(), key=order.index) if self.action_levels else self.level


TOOLS: dict[str, ToolSpec] = {}
"""Declarations of every tool (static facts, like a table; servers are built from it per settings)."""


@dataclass
class AppState:
    """What the lifespan holds for every call: the settings and the engine client(s)."""

    settings: Settings
    engine: Engine
    engines: dict[str, Engine] = field(default_factory=dict)
    """Named engines (MCP_DOCKER_HOSTS); empty when the server manages one engine."""

    def current_engine(self) -> Engine:
        name = CURRENT_HOST.get()
        return self.engines[name] if name is not None and name in self.engines else self.engine

    limiter: anyio.CapacityLimiter | None = None
    """Bounds the calls running at once (MCP_DOCKER_MAX_CONCURRENCY); made from the settings."""

    def __post_init__(self) -> None:
        if self.limiter is None:
            self.limiter = new_limiter(self.settings)


CURRENT_HOST: ContextVar[str | None] = ContextVar("mcp_docker_current_host", default=None)
"""The named engine the running call was routed to (see tools/hosts.py); copied into worker threads."""


def app_state(ctx: Ctx) -> AppState:
    state = ctx.request_context.lifespan_context
    if not isinstance(state, AppState):  # pragma: no cover - wiring error
        raise RuntimeError("server lifespan state is not an AppState")
    return state


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
) -> Callable[[Callable[P, R]], Callable[P, Awaitable[R]]]:
    """Declare a tool. `subject` names the argument (container, image...) a 404 refers to;
    `action_levels` gives per-action levels for tools driven by an `action` argument."""

    def decorate(fn: Callable[P, R]) -> Callable[P, Awaitable[R]]:
        name = fn.__name__
        is_async = inspect.iscoroutinefunction(fn)
        spec: ToolSpec

        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            ctx = cast(Ctx, kwargs["ctx"])
            state = app_state(ctx)
            subject_name = kwargs.get(subject) if subject else None
            try:
                level_now = spec.call_level(kwargs)
                check_allowed(name, level_now, toolset, state.settings)
                assert state.limiter is not None
                async with call_guard(state.limiter, state.settings, name, level_now, long_job=is_async):
                    with engine_errors(subject, str(subject_name) if subject_name is not None else None):
                        call = functools.partial(fn, *args, **kwargs)
                        if is_async:
                            result = await state.current_engine().run_async(call)
                        else:
                            result = await state.current_engine().run_sync(call)
            except MCPDockerError as exc:
                state.current_engine().unavailable(exc)
                raise exc.to_tool_error() from exc
            return cast(R, to_result(result))

        spec = ToolSpec(
            name=name,
            fn=wrapper,
            level=level,
            toolset=toolset,
            title=title,
            idempotent=idempotent,
            open_world=open_world,
            destructive_hint=destructive_hint,
            action_levels=dict(action_levels or {}),
        )
        TOOLS[name] = spec
        return wrapper

    return decorate


def engine(ctx: Ctx) -> Engine:
    return app_state(ctx).current_engine()


def settings(ctx: Ctx) -> Settings:
    return app_state(ctx).settings
