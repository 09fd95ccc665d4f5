"""How a tool is declared: one typed function, one decorator.

`@docker_tool(level, toolset)` records the function with its safety level; `register_tools` (in
`tools/__init__.py`) adds the recorded tools that the settings allow to a server. The decorator's
wrapper is the single place where, on every call:

- the settings are checked again (a tool hidden at registration cannot be called anyway);
- a destructive call runs only with the user's confirmation (MCP_DOCKER_DESTRUCTIVE=confirm): the
  question is asked by a resolver on a hidden parameter (`_ask_before_running`);
- MODERATE and DESTRUCTIVE calls are written to the audit log (`audit_call`, when configured);
- the blocking docker-py work runs on a worker thread;
- engine errors are mapped to the project's hierarchy and reach the model as a `ToolError`;
- a pydantic result becomes structured content plus a compact JSON text block.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar, cast

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.resolve import Elicit, Resolve
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel

from mcp_docker.call_limits import call_guard
from mcp_docker.safety import audit
from mcp_docker.safety.confirmation import (
    Confirmation,
    ConfirmationDeclined,
    NoQuestion,
    check_confirmed,
    client_can_elicit,
    generic_question,
    needs_confirmation,
)
from mcp_docker.safety.levels import Level, check_allowed, refusal
from mcp_docker.state import Ctx, app_state
from mcp_docker.utils.errors import Kind, MCPDockerError, UnsafeOperation, engine_errors
from mcp_docker.utils.logger import logger
from mcp_docker.utils.validation import check_arguments

if TYPE_CHECKING:
    from mcp_docker.config import Settings
    from mcp_docker.docker.client import Engine

P = ParamSpec("P")
R = TypeVar("R")
CONFIRMATION = "confirmation"
"""The hidden parameter of destructive tools that carries the user's answer (never in the schema)."""
Describe = Callable[["Engine", dict[str, Any]], str]
"""Writes the question put to the user before a destructive call: what exactly will be lost."""


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
) -> Callable[[Callable[P, R]], Callable[P, Awaitable[R]]]:
    """Declare a tool. `subject` names the argument (container, image...) a 404 refers to;
    `action_levels` gives per-action levels for tools driven by an `action` argument; `confirm`
    writes the question put to the user before a destructive call (what exactly will be lost), from
    the engine and the call's arguments; without it a generic question names the tool and its target."""

    def decorate(fn: Callable[P, R]) -> Callable[P, Awaitable[R]]:
        name = fn.__name__
        is_async = inspect.iscoroutinefunction(fn)
        spec: ToolSpec

        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            confirmation = kwargs.pop(CONFIRMATION, None)
            ctx = cast(Ctx, kwargs["ctx"])
            state = app_state(ctx)
            subject_name = kwargs.get(subject) if subject else None
            level = spec.call_level(kwargs)
            try:
                check_arguments(kwargs)  # NUL / control characters in names and paths (utils/validation.py)
                check_allowed(name, level, toolset, state.settings)
                check_confirmed(name, level, state.settings, confirmation)
                assert state.limiter is not None
                # The question to the user (resolved before this body) is not counted by the guard.
                async with call_guard(state.limiter, state.settings, name, level, long_job=is_async):
                    with engine_errors(subject, str(subject_name) if subject_name is not None else None):
                        call = functools.partial(fn, *args, **kwargs)
                        if is_async:
                            result = await state.current_engine().run_async(call)
                        else:
                            result = await state.current_engine().run_sync(call)
            except MCPDockerError as exc:
                state.current_engine().unavailable(exc)
                audit_call(name, level, state.settings, kwargs, exc)
                raise exc.to_tool_error() from exc
            except BaseException as exc:
                audit_call(name, level, state.settings, kwargs, exc)
                raise
            audit_call(name, level, state.settings, kwargs, None)
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
        if level is Level.DESTRUCTIVE or Level.DESTRUCTIVE in spec.action_levels.values():
            _ask_before_running(wrapper, fn, spec, subject, confirm)
        return wrapper

    return decorate


def audit_call(
    name: str, level: Level, settings: Settings, arguments: dict[str, Any], exc: BaseException | None
) -> None:
    """One audit line per MODERATE / DESTRUCTIVE call (when MCP_DOCKER_AUDIT_LOG is set)."""
    if level is Level.SAFE or settings.audit_log is None:
        return
    if exc is None:
        outcome, detail = "ok", ""
    elif isinstance(exc, ConfirmationDeclined):
        outcome, detail = "declined", str(exc)
    elif isinstance(exc, UnsafeOperation):
        outcome, detail = "refused", str(exc)
    elif isinstance(exc, MCPDockerError):
        outcome, detail = "error", str(exc)
    else:
        outcome, detail = "error", type(exc).__name__
    try:
        audit.record(settings.audit_log, name, level.value, arguments, outcome, detail)
    except OSError as err:  # pragma: no cover - the file was checked at start-up
        logger.error("cannot write the audit log {}: {}", settings.audit_log, err)


def _ask_before_running(
    wrapper: Callable[..., Any], fn: Callable[..., Any], spec: ToolSpec, subject: Kind | None, describe: Describe | None
) -> None:
    """Give a destructive tool's wrapper a hidden `confirmation` parameter, filled by the SDK's resolver
    elicitation (both protocol eras) and never by the model: it is not in the input schema, and an
    argument of that name is rejected like any unknown one."""
    signature = inspect.signature(fn, eval_str=True)
    names = [p for p in signature.parameters if p != "ctx"]

    def resolver(ctx: Context[Any, Any], **arguments: Any) -> Any:
        state = app_state(ctx)
        level = spec.call_level(arguments)
        try:
            check_arguments(arguments)  # a bad name is refused before the user is asked about it
        except MCPDockerError as exc:
            raise exc.to_tool_error() from exc
        if not needs_confirmation(level, state.settings) or refusal(spec.name, level, spec.toolset, state.settings):
            return NoQuestion("not-needed")
        if not client_can_elicit(ctx.client_capabilities):
            return NoQuestion("no-elicitation")
        if describe is None:
            return Elicit(generic_question(spec.name, spec.title, subject, arguments), Confirmation)
        target = arguments.get(subject) if subject else None
        try:
            with engine_errors(subject, str(target) if target is not None else None):
                question = describe(state.current_engine(), arguments)
        except MCPDockerError as exc:
            audit_call(spec.name, level, state.settings, arguments, exc)
            raise exc.to_tool_error() from exc
        return Elicit(question, Confirmation)

    resolver.__qualname__ = resolver.__name__ = f"confirm_{spec.name}"
    resolver.__annotations__ = {"ctx": Context}
    resolver.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Context)]
        + [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY) for n in names]
    )
    hidden = inspect.Parameter(
        CONFIRMATION,
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[ElicitationResult[Confirmation], Resolve(resolver)],
    )
    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), hidden]
    )
    wrapper.__annotations__ = {**fn.__annotations__, CONFIRMATION: hidden.annotation}
