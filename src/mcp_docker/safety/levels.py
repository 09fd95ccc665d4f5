"""Operation levels and what follows from them: MCP annotations and which tools are offered.

Every tool declares its level once (SAFE, MODERATE, DESTRUCTIVE); its MCP annotations are derived
here, and the same function decides, at registration and again at call time, whether the
operator's settings allow it. How destructive calls are confirmed is in `confirmation`.
"""

from __future__ import annotations

from enum import StrEnum

from mcp.types import ToolAnnotations

from mcp_docker.config import Settings
from mcp_docker.utils.errors import UnsafeOperation


class Level(StrEnum):
    SAFE = "safe"  # reads only
    MODERATE = "moderate"  # changes state, recoverable
    DESTRUCTIVE = "destructive"  # loses data


def annotations_for(
    level: Level,
    title: str,
    *,
    idempotent: bool = False,
    open_world: bool = False,
    destructive_hint: bool | None = None,
) -> ToolAnnotations:
    """MCP annotations derived from a level; `destructive_hint` only for tools whose effect depends on input.

    Hints that say what the spec's defaults say are left out (tools/list is a budget): readOnlyHint false,
    and idempotentHint where it is false or has no meaning (read-only tools). destructiveHint is always
    given for tools that change state, and openWorldHint (default true) always."""
    read_only = level is Level.SAFE
    return ToolAnnotations(
        title=title,
        read_only_hint=True if read_only else None,
        destructive_hint=None
        if read_only
        else (destructive_hint if destructive_hint is not None else level is Level.DESTRUCTIVE),
        idempotent_hint=True if (idempotent and not read_only) else None,
        open_world_hint=open_world,
    )


def refusal(name: str, level: Level, toolset: str, settings: Settings) -> str | None:
    """Why the settings do not allow this tool, or None when they do."""
    if name in settings.disabled_tools:
        return f"Tool {name} is disabled by MCP_DOCKER_DISABLED_TOOLS."
    if toolset not in settings.toolsets:
        return f"Tool {name} belongs to the '{toolset}' toolset, which MCP_DOCKER_TOOLSETS does not enable."
    if settings.read_only and level is not Level.SAFE:
        return f"Tool {name} changes state and the server runs with MCP_DOCKER_READ_ONLY=true."
    if level is Level.DESTRUCTIVE and settings.destructive == "deny":
        return f"Tool {name} is destructive and MCP_DOCKER_DESTRUCTIVE=deny refuses destructive tools."
    return None


def check_allowed(name: str, level: Level, toolset: str, settings: Settings) -> None:
    reason = refusal(name, level, toolset, settings)
    if reason:
        raise UnsafeOperation(reason, "Ask the operator to change the setting if this is intended.")
