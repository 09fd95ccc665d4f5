"""The extension object: the four `ui://` views, which tool each one shows, and the app-only tools."""

from __future__ import annotations

from mcp.server.apps import Apps

from mcp_docker.apps.app_tools import REMOVE, removal_tools
from mcp_docker.apps.removal_tokens import TokenStore
from mcp_docker.apps.views_html import RESOURCE_CSP, view_html
from mcp_docker.config import Settings
from mcp_docker.safety.levels import Level, refusal

VIEWS = {
    "containers": (
        "Containers",
        "Live table of containers: start, stop, restart, remove (confirmed by a card).",
    ),
    "logs": ("Container logs", "A container's log lines with timestamps, search and follow."),
    "stats": ("Container stats", "CPU, memory, network and block I/O of a container as small live charts."),
    "compose": ("Compose project", "A Compose project's services, their containers and state."),
}

BOUND_VIEWS = {
    "docker_list_containers": "ui://mcp-docker/containers.html",
    "docker_container_logs": "ui://mcp-docker/logs.html",
    "docker_container_stats": "ui://mcp-docker/stats.html",
    "docker_compose_operations": "ui://mcp-docker/compose.html",
}
"""Model-visible tool -> the view that shows its result (stamped on tools/list for Apps clients only)."""


def uri(view: str) -> str:
    return f"ui://mcp-docker/{view}.html"


def build_apps(settings: Settings) -> Apps:
    """The MCP Apps extension for `settings`: views always; the removal card only where removal is allowed."""
    apps = Apps()
    for name, (title, description) in VIEWS.items():
        apps.add_html_resource(
            uri(name),
            view_html(name),
            name=f"view-{name}",
            title=title,
            description=description,
            csp=RESOURCE_CSP,
            prefers_border=True,
        )
    if refusal(REMOVE, Level.DESTRUCTIVE, "containers", settings) is None:
        for fn in removal_tools(TokenStore(ttl=120.0)):
            apps.tool(resource_uri=uri("containers"), visibility=["app"], name=fn.__name__)(fn)
    return apps
