"""The tools, one module per category, and the one function that registers what the settings allow."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase
from pydantic import ConfigDict

from mcp_docker.tools.base import TOOLS, ToolSpec
from mcp_docker.utils.safety import annotations_for, refusal

if TYPE_CHECKING:
    from mcp.server import MCPServer

    from mcp_docker.config import Settings

TOOL_MODULES = (
    "mcp_docker.tools.container_tools",
    "mcp_docker.tools.image_tools",
    "mcp_docker.tools.network_tools",
    "mcp_docker.tools.volume_tools",
    "mcp_docker.tools.system_tools",
    "mcp_docker.tools.compose_tools",
    "mcp_docker.tools.swarm_tools",
)


def all_tools() -> dict[str, ToolSpec]:
    """Every declared tool, whatever the settings (imports the tool modules once)."""
    for module in TOOL_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    return dict(TOOLS)


def check_tool_names(settings: Settings) -> None:
    """An unknown tool name in a setting is an error at start-up, never silently ignored."""
    known = all_tools()
    unknown = sorted(set(settings.disabled_tools) - set(known))
    if unknown:
        raise ValueError(f"MCP_DOCKER_DISABLED_TOOLS names unknown tool(s): {', '.join(unknown)}")


def register_tools(server: MCPServer, settings: Settings) -> list[str]:
    """Add to `server` every tool the settings allow; return their names."""
    check_tool_names(settings)
    registered: list[str] = []
    for spec in all_tools().values():
        if refusal(spec.name, spec.lowest_level(), spec.toolset, settings):
            continue
        server.add_tool(
            spec.fn,
            name=spec.name,
            title=spec.title,
            annotations=annotations_for(
                spec.level,
                spec.title,
                idempotent=spec.idempotent,
                open_world=spec.open_world,
                destructive_hint=spec.destructive_hint,
            ),
        )
        _forbid_unknown_arguments(server, spec.name)
        registered.append(spec.name)
    return registered


def _forbid_unknown_arguments(server: MCPServer, name: str) -> None:
    """A model that passes an argument the tool does not take is told so instead of it being dropped."""
    tool = server._tool_manager.get_tool(name)
    if tool is None:  # pragma: no cover - just registered
        return
    base = tool.fn_metadata.arg_model
    strict: type[ArgModelBase] = type(
        base.__name__,
        (base,),
        {
            "model_config": ConfigDict(extra="forbid", arbitrary_types_allowed=True),
            "__module__": base.__module__,
        },
    )
    tool.fn_metadata.arg_model = strict
    tool.parameters = strict.model_json_schema(by_alias=True)
