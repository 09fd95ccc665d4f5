"""The tools, one module per category, and the one function that registers what the settings allow."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from mcp_docker.safety import audit
from mcp_docker.safety.confirmation import offers_token
from mcp_docker.safety.levels import Level, annotations_for, refusal
from mcp_docker.tools.declare import TOOLS, ToolSpec
from mcp_docker.tools.host_routing import with_host_argument
from mcp_docker.tools.strict_arguments import make_strict

if TYPE_CHECKING:
    from mcp.server import MCPServer
    from mcp.types import ToolAnnotations

    from mcp_docker.config import Settings

TOOL_MODULES = (
    "mcp_docker.tools.container_tools",
    "mcp_docker.tools.image_tools",
    "mcp_docker.tools.network_tools",
    "mcp_docker.tools.volume_tools",
    "mcp_docker.tools.system_tools",
    "mcp_docker.tools.compose_tools",
    "mcp_docker.tools.file_tools",
    "mcp_docker.tools.container_ops_tools",
    "mcp_docker.tools.swarm_tools",
)


def all_tools() -> dict[str, ToolSpec]:
    """Every declared tool, whatever the settings (imports the tool modules once)."""
    for module in TOOL_MODULES:
        importlib.import_module(module)  # a name that is not a module fails loudly: never a missing toolset
    return dict(TOOLS)


def check_tool_names(settings: Settings) -> None:
    """An unknown tool name in a setting is an error at start-up, never silently ignored; so is an audit
    log that cannot be written."""
    known = all_tools()
    unknown = sorted(set(settings.disabled_tools) - set(known))
    if unknown:
        raise ValueError(f"MCP_DOCKER_DISABLED_TOOLS names unknown tool(s): {', '.join(unknown)}")
    audit.ensure(settings.audit_log)


def register_tools(server: MCPServer, settings: Settings) -> list[str]:
    """Add to `server` every tool the settings allow; return their names."""
    check_tool_names(settings)
    hosts = settings.engine_hosts()
    registered: list[str] = []
    for spec in all_tools().values():
        if refusal(spec.name, spec.lowest_level(), spec.toolset, settings):
            continue
        if len(hosts) > 1 and all(_host_refuses(h.mode, spec) for h in hosts):
            continue
        fn = spec.fn if offers_token(settings) or spec.fn_without_token is None else spec.fn_without_token
        server.add_tool(
            with_host_argument(spec, hosts, fn) if len(hosts) > 1 else fn,
            name=spec.name,
            title=spec.title,
            description=" ".join((spec.fn.__doc__ or "").split()),
            annotations=_annotations(spec, settings),
            structured_output=False,  # the output model is set by make_strict, without the SDK's full schema
        )
        make_strict(server, spec.name, spec.result_model())
        registered.append(spec.name)
    return registered


def _annotations(spec: ToolSpec, settings: Settings) -> ToolAnnotations:
    """Annotations from the highest level the settings let this tool reach (for an action-driven tool
    in read-only mode that is SAFE: only its read actions can run)."""
    order = list(Level)
    levels = list(spec.action_levels.values()) or [spec.level]
    allowed = [lv for lv in levels if not refusal(spec.name, lv, spec.toolset, settings)] or [spec.level]
    level = max(allowed, key=order.index)
    return annotations_for(
        level,
        spec.title,
        idempotent=spec.idempotent,
        open_world=spec.open_world,
        destructive_hint=spec.destructive_hint if level is spec.level else None,
    ).model_copy(update={"title": None})  # the tool's own title says it once


def _host_refuses(mode: str, spec: ToolSpec) -> bool:
    lowest = spec.lowest_level()
    return (mode == "ro" and lowest is not Level.SAFE) or (mode == "nd" and lowest is Level.DESTRUCTIVE)
