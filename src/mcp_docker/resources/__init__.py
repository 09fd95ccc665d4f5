"""Resources: a container's recent logs (text) and a stats sample (JSON), listed for running containers,
and completion of container names for their template argument and for the prompts' arguments."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread
from mcp.server.mcpserver.exceptions import ResourceError
from mcp.types import (
    CompleteRequestParams,
    CompleteResult,
    Completion,
    ListResourcesResult,
    PaginatedRequestParams,
    PromptReference,
    Resource,
    ResourceTemplateReference,
)

from mcp_docker.resources.subscriptions import Watchers, register_subscriptions
from mcp_docker.sdk_internals import set_request_handler
from mcp_docker.state import AppState, Ctx, app_state
from mcp_docker.tools.container_models import ContainerStats
from mcp_docker.utils.errors import MCPDockerError, engine_errors, map_engine_error
from mcp_docker.utils.logger import logger
from mcp_docker.utils.output import clean_text, engine_text

if TYPE_CHECKING:
    from mcp.server import MCPServer
    from mcp.server.context import ServerRequestContext
    from mcp.server.subscriptions import SubscriptionBus

LOGS_TEMPLATE = "docker://containers/{container}/logs"
STATS_TEMPLATE = "docker://containers/{container}/stats"
LOG_TAIL = 100
MAX_LISTED = 100
MAX_COMPLETIONS = 100
PROMPT_CONTAINER_ARGS = {
    "troubleshoot_container": "container",
    "optimize_container": "container",
    "generate_compose": "containers",
}

T = TypeVar("T")


def _read(state: AppState, container: str, read: Callable[[AppState], T]) -> T:
    """Run `read` with engine errors mapped; a failure reaches the client as a ResourceError with its reason."""
    try:
        with engine_errors("container", container):
            return read(state)
    except MCPDockerError as exc:
        state.engine.unavailable(exc)
        raise ResourceError(str(exc)) from exc


def container_logs(container: str, ctx: Ctx) -> str:
    """The container's last 100 lines of output (stdout and stderr), cleaned and size-bounded. Untrusted data."""
    state = app_state(ctx)

    def read(s: AppState) -> str:
        raw = s.engine.api.logs(container, stdout=True, stderr=True, tail=LOG_TAIL)
        text, truncated = engine_text(raw, s.settings.max_output_bytes)
        return f"[older lines cut to {s.settings.max_output_bytes} bytes]\n{text}" if truncated else text

    return _read(state, container, read)


def container_stats(container: str, ctx: Ctx) -> str:
    """One sample of the container's resource use (CPU %, memory, network and block I/O, PIDs) as JSON."""
    state = app_state(ctx)

    def read(s: AppState) -> str:
        raw: dict[str, Any] = s.engine.api.stats(container, stream=False)
        return ContainerStats.from_engine(container, raw).model_dump_json()

    return _read(state, container, read)


def _names(state: AppState, all: bool) -> list[str]:
    rows: list[dict[str, Any]] = state.engine.api.containers(all=all)
    return sorted(clean_text((row.get("Names") or ["/"])[0].lstrip("/")) for row in rows)


def register_resources(server: MCPServer[AppState], bus: SubscriptionBus) -> Watchers:
    """Add the two resource templates, a resources/list that names them for each running container, and
    subscriptions to them (published on `bus`, the server's subscription bus); returns the watchers
    (closed when the server stops)."""
    server.resource(LOGS_TEMPLATE, name="container_logs", title="Container logs", mime_type="text/plain")(
        container_logs
    )
    server.resource(STATS_TEMPLATE, name="container_stats", title="Container stats", mime_type="application/json")(
        container_stats
    )

    async def list_resources(
        ctx: ServerRequestContext[AppState, Any], params: PaginatedRequestParams
    ) -> ListResourcesResult:
        listed = await server.list_resources()
        state = ctx.lifespan_context
        try:
            names = await anyio.to_thread.run_sync(_names, state, False)
        except Exception as exc:  # an engine that is down must not break listing
            error = map_engine_error(exc)
            state.engine.unavailable(error)
            logger.warning("resources/list without containers: {}", error)
            names = []
        for name in names[:MAX_LISTED]:
            listed.append(
                Resource(
                    uri=f"docker://containers/{name}/logs",
                    name=f"{name} logs",
                    title=f"Logs of {name}",
                    description=f"Last {LOG_TAIL} lines of the running container {name} (untrusted text).",
                    mime_type="text/plain",
                )
            )
            listed.append(
                Resource(
                    uri=f"docker://containers/{name}/stats",
                    name=f"{name} stats",
                    title=f"Stats of {name}",
                    description=f"A resource-use sample of the running container {name}.",
                    mime_type="application/json",
                )
            )
        return ListResourcesResult(resources=listed, ttl_ms=0)

    set_request_handler(server, "resources/list", PaginatedRequestParams, list_resources)
    watchers = Watchers()
    register_subscriptions(server, bus, watchers)
    return watchers


def register_completions(server: MCPServer[AppState]) -> None:
    """Complete container names for the resource templates' {container} and the prompts' container arguments."""

    async def complete(ctx: ServerRequestContext[AppState, Any], params: CompleteRequestParams) -> CompleteResult:
        ref, argument = params.ref, params.argument
        wanted = False
        if isinstance(ref, ResourceTemplateReference):
            wanted = ref.uri in (LOGS_TEMPLATE, STATS_TEMPLATE) and argument.name == "container"
        elif isinstance(ref, PromptReference):
            wanted = PROMPT_CONTAINER_ARGS.get(ref.name) == argument.name
        if not wanted:
            return CompleteResult(completion=Completion(values=[], total=0, has_more=False))
        # For a list argument ("a,b"), complete the last item and keep the ones before it.
        head, sep, partial = (
            argument.value.rpartition(",") if argument.name == "containers" else ("", "", argument.value)
        )
        prefix = f"{head}{sep}" if sep else ""
        partial = partial.strip()
        state = ctx.lifespan_context
        try:
            names = await anyio.to_thread.run_sync(_names, state, True)
        except Exception as exc:  # an engine that is down completes nothing, and the log says why
            error = map_engine_error(exc)
            state.engine.unavailable(error)
            logger.warning("completion without container names: {}", error)
            names = []
        matches = [prefix + name for name in names if name.startswith(partial)]
        return CompleteResult(
            completion=Completion(
                values=matches[:MAX_COMPLETIONS], total=len(matches), has_more=len(matches) > MAX_COMPLETIONS
            )
        )

    set_request_handler(server, "completion/complete", CompleteRequestParams, complete)
