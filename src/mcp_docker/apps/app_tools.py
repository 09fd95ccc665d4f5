"""Tools only the views call (`visibility: ["app"]`): the confirmation card's request, press and dismiss.

The card is how a person confirms a destructive action in a client that renders MCP Apps: the view asks
for the question (`docker_app_request_removal`), the server keeps the exact call behind a secret that
only the view receives (in the result's `_meta`), and only pressing the card's button sends it back
(`docker_app_confirm_removal`). A model never sees the secret, so it cannot press the button itself.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent
from pydantic import Field

from mcp_docker.apps.removal_tokens import TokenStore
from mcp_docker.safety import audit
from mcp_docker.safety.levels import Level, check_allowed
from mcp_docker.state import Ctx, engine, settings
from mcp_docker.tools.container_models import RemovedContainer
from mcp_docker.tools.container_tools import _removal_question
from mcp_docker.tools.params import ContainerRef
from mcp_docker.utils.errors import MCPDockerError, engine_errors

CONFIRM_META = "io.github.mcp-docker/confirmation"
"""The `_meta` key of a request result that carries the card's secret (for the view only)."""
REMOVE = "docker_remove_container"


def removal_tools(store: TokenStore) -> list[Any]:
    """The three app-only functions, sharing `store`."""

    async def docker_app_request_removal(
        ctx: Ctx,
        container: ContainerRef,
        force: Annotated[bool, Field(description="Kill and remove a running container.")] = False,
    ) -> CallToolResult:
        """For the containers view: the question its confirmation card shows before removing a container."""
        check_allowed(REMOVE, Level.DESTRUCTIVE, "containers", settings(ctx))
        arguments = {"container": container, "force": force, "volumes": False}
        eng = engine(ctx)
        try:
            with engine_errors("container", container):
                question = await anyio.to_thread.run_sync(_removal_question, eng, arguments)
        except MCPDockerError as exc:
            raise exc.to_tool_error() from exc
        token = store.issue(REMOVE, arguments, question)
        text = (
            f"{question}\nThe person was shown a confirmation card. Nothing is removed unless they press its "
            "button; wait for them."
        )
        return CallToolResult(
            content=[TextContent(type="text", text=text)],
            structured_content={"question": question, "container": container, "pending": True},
            _meta={CONFIRM_META: {"token": token}},
        )

    async def docker_app_confirm_removal(
        ctx: Ctx,
        token: Annotated[str, Field(description="The secret the confirmation card was given.", max_length=200)],
    ) -> RemovedContainer:
        """For the confirmation card's button: remove the container the card asked about."""
        pending = store.redeem(token, REMOVE)
        if pending is None:
            raise ToolError("This confirmation is unknown, used or expired; nothing was removed. Ask again.")
        cfg = settings(ctx)
        check_allowed(REMOVE, Level.DESTRUCTIVE, "containers", cfg)
        args = pending.arguments
        eng = engine(ctx)

        def remove() -> RemovedContainer:
            data = eng.api.inspect_container(args["container"])
            eng.api.remove_container(args["container"], v=args["volumes"], force=args["force"])
            return RemovedContainer(
                id=data["Id"][:12], name=data["Name"].lstrip("/"), removed=True, volumes_removed=args["volumes"]
            )

        try:
            with engine_errors("container", args["container"]):
                result = await anyio.to_thread.run_sync(remove)
        except MCPDockerError as exc:
            audit.record(cfg.audit_log, REMOVE, Level.DESTRUCTIVE.value, args, "error", str(exc))
            raise exc.to_tool_error() from exc
        audit.record(cfg.audit_log, REMOVE, Level.DESTRUCTIVE.value, args, "ok", "confirmed by a person (card)")
        return result

    async def docker_app_dismiss_removal(
        token: Annotated[str, Field(description="The secret the confirmation card was given.", max_length=200)],
    ) -> dict[str, bool]:
        """For the confirmation card's dismiss button: forget the pending removal."""
        return {"dismissed": store.cancel(token)}

    return [docker_app_request_removal, docker_app_confirm_removal, docker_app_dismiss_removal]
