"""Several named engines (`MCP_DOCKER_HOSTS`): the `host` argument and the rules that go with it.

With more than one engine, every tool gains a `host` argument (its values are the configured
names, so a tool can never point the server at a new endpoint). Reads without `host` go to the
first engine listed; writes must name their host. An engine marked `(ro)` refuses every tool but
the SAFE ones, `(nd)` refuses DESTRUCTIVE ones. With one engine nothing of this shows.
"""

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import Resolve
from pydantic import Field

from mcp_docker.config import HostSpec
from mcp_docker.safety.audit import audit_call
from mcp_docker.safety.levels import Level
from mcp_docker.sdk_internals import present_signature, resolved_by
from mcp_docker.state import CURRENT_HOST, app_state
from mcp_docker.tools.declare import CONFIRMATION, ToolSpec
from mcp_docker.utils.errors import UnsafeOperation


def choose_host(spec: ToolSpec, arguments: dict[str, Any], host: str | None, hosts: list[HostSpec]) -> HostSpec:
    """The engine a call goes to, or an `UnsafeOperation` saying why it may not run there."""
    level = spec.call_level(arguments)
    names = [h.name for h in hosts]
    if host is None:
        if level is not Level.SAFE:
            raise UnsafeOperation(
                f"Refused: {spec.name} changes state and this server manages several engines ({', '.join(names)}).",
                "Name the engine to change with the `host` argument.",
            )
        return hosts[0]
    chosen = next((h for h in hosts if h.name == host), None)
    if chosen is None:  # the schema's enum already stops this; kept for direct calls
        raise UnsafeOperation(f"Unknown host {host!r}.", f"Use one of: {', '.join(names)}.")
    if chosen.mode == "ro" and level is not Level.SAFE:
        raise UnsafeOperation(
            f"Refused: engine {host!r} is read-only (marked (ro) in MCP_DOCKER_HOSTS) and {spec.name} changes state.",
            "Only read-only tools may run there.",
        )
    if chosen.mode == "nd" and level is Level.DESTRUCTIVE:
        raise UnsafeOperation(
            f"Refused: engine {host!r} allows no destructive tools (marked (nd) in MCP_DOCKER_HOSTS).",
            "Destructive tools may not run there.",
        )
    return chosen


def with_host_argument(
    spec: ToolSpec, hosts: list[HostSpec], fn: Callable[..., Any] | None = None
) -> Callable[..., Any]:
    """`fn` (default `spec.fn`) with an extra `host` argument that routes the call to one of `hosts`."""
    fn = fn or spec.fn
    names = tuple(h.name for h in hosts)
    annotation = Annotated[
        Literal[names] | None,  # type: ignore[valid-type]
        Field(description=f"Engine to use: {', '.join(names)}. Reads default to {names[0]!r}; writes must name one."),
    ]
    signature = inspect.signature(fn, eval_str=True)
    parameters = [
        _routed_confirmation(p, spec, hosts) if p.name == CONFIRMATION else p for p in signature.parameters.values()
    ]
    parameters.append(inspect.Parameter("host", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation))

    @functools.wraps(fn)
    async def routed(*args: Any, host: str | None = None, **kwargs: Any) -> Any:
        try:
            chosen = choose_host(spec, kwargs, host, hosts)
        except UnsafeOperation as exc:
            raise _refused(spec, kwargs["ctx"], kwargs, host, exc) from exc
        token = CURRENT_HOST.set(chosen.name)
        try:
            return await fn(*args, **kwargs)
        finally:
            CURRENT_HOST.reset(token)

    present_signature(routed, signature.replace(parameters=parameters))
    return routed


def _routed_confirmation(param: inspect.Parameter, spec: ToolSpec, hosts: list[HostSpec]) -> inspect.Parameter:
    """The hidden confirmation parameter of a destructive tool, asked on the engine the call goes to.

    The question is resolved before the tool body runs (and before `routed` sets the host), so its
    resolver is wrapped: it takes `host` too, refuses a write that names no host (or a host whose
    mode forbids it) before anything is asked, and describes the target on the chosen engine."""
    type_arg, inner = resolved_by(param.annotation)
    inner_signature = inspect.signature(inner)

    async def resolver(ctx: Context[Any, Any], host: str | None = None, **arguments: Any) -> Any:
        try:
            chosen = choose_host(spec, arguments, host, hosts)
        except UnsafeOperation as exc:
            raise _refused(spec, ctx, arguments, host, exc) from exc
        token = CURRENT_HOST.set(chosen.name)
        try:
            return await inner(ctx, **arguments)
        finally:
            CURRENT_HOST.reset(token)

    resolver.__qualname__ = resolver.__name__ = f"{inner.__name__}_on_host"
    present_signature(
        resolver,
        inner_signature.replace(
            parameters=[
                *inner_signature.parameters.values(),
                inspect.Parameter("host", inspect.Parameter.KEYWORD_ONLY, default=None),
            ]
        ),
        {"ctx": Context},
    )
    return param.replace(annotation=Annotated[type_arg, Resolve(resolver)])


def _refused(spec: ToolSpec, ctx: Any, arguments: dict[str, Any], host: str | None, exc: UnsafeOperation) -> ToolError:
    """A call the host rules refuse is audited like any other refusal, then reaches the model as a ToolError."""
    audit_call(spec.name, spec.call_level(arguments), app_state(ctx).settings, {**arguments, "host": host}, exc)
    return ToolError(str(exc))
