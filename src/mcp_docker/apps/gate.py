"""Keeps clients that did not negotiate MCP Apps on exactly today's surface.

For them: app-only tools are not listed and cannot be called, `ui://` resources are not listed, and no
tool carries `_meta.ui`. For clients that did: the tools whose results a view shows get
`_meta.ui.resourceUri` (a tool that may need a person's confirmation shows the confirmation card's
view, compose its own), and the app-only tools are listed (hosts keep them from the model).
"""

from __future__ import annotations

from typing import Any

from mcp.server.apps import client_supports_apps
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.types import CallToolResult, TextContent

from mcp_docker.apps.registration import BOUND_VIEWS, CONFIRM_VIEW


def _app_only(tool: dict[str, Any]) -> bool:
    ui = (tool.get("_meta") or {}).get("ui") or {}
    return "model" not in (ui.get("visibility") or ["model", "app"])


def _dump(result: HandlerResult) -> dict[str, Any]:
    if result is None:
        return {}
    if isinstance(result, dict):
        return result
    return result.model_dump(by_alias=True, exclude_none=True, mode="json")


def apps_gate(app_only_tools: set[str], carded: set[str] | frozenset[str] = frozenset()) -> Any:
    """The middleware (see module doc); `app_only_tools` are the names only views may call; `carded` the
    tools that may end with a confirmation card (bound to the card's view unless they have their own)."""

    async def gate(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method not in ("tools/list", "tools/call", "resources/list"):
            return await call_next(ctx)
        apps = client_supports_apps(ctx)
        if ctx.method == "tools/call":
            name = (ctx.params or {}).get("name")
            if not apps and name in app_only_tools:
                # Exactly what the SDK answers for a tool that does not exist.
                return CallToolResult(content=[TextContent(type="text", text=f"Unknown tool: {name}")], is_error=True)
            return await call_next(ctx)
        result = _dump(await call_next(ctx))
        if ctx.method == "resources/list":
            if not apps:
                result["resources"] = [r for r in result.get("resources", []) if not r["uri"].startswith("ui://")]
            return result
        tools = result.get("tools", [])
        if not apps:
            result["tools"] = [t for t in tools if not _app_only(t)]
            return result
        for tool in tools:
            view = BOUND_VIEWS.get(tool["name"]) or (CONFIRM_VIEW if tool["name"] in carded else None)
            if view is not None:
                tool["_meta"] = {**(tool.get("_meta") or {}), "ui": {"resourceUri": view}}
        return result

    return gate
