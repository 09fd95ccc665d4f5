"""The extension object: the `ui://` views, which tool each one shows, and the app-only tools."""

from __future__ import annotations

from mcp.server.apps import Apps

from mcp_docker.apps.app_tools import REMOVE, card_tools, request_tool
from mcp_docker.apps.log_lines import LOGS, log_lines_tool
from mcp_docker.apps.views_html import RESOURCE_CSP, view_html
from mcp_docker.config import Settings
from mcp_docker.safety.levels import Level, refusal
from mcp_docker.tools import all_tools

VIEWS = {
    "containers": (
        "Containers",
        "Live table of containers: start, stop, restart, remove (confirmed by a card).",
    ),
    "logs": (
        "Container logs",
        "A container's log lines with timestamps, stdout and stderr told apart, search and follow.",
    ),
    "stats": ("Container stats", "CPU, memory, network and block I/O of a container as small live charts."),
    "compose": ("Compose project", "A Compose project's services, their containers and state."),
    "confirm": (
        "Confirmation",
        "The card a person presses to confirm a destructive call (what will be lost, and on which engine).",
    ),
}

BOUND_VIEWS = {
    "docker_list_containers": "ui://mcp-docker/containers.html",
    "docker_container_logs": "ui://mcp-docker/logs.html",
    "docker_container_stats": "ui://mcp-docker/stats.html",
    "docker_compose_operations": "ui://mcp-docker/compose.html",
}
"""Model-visible tool -> the view that shows its result (stamped on tools/list for Apps clients only)."""
CARD_CONFIRM = "docker_app_confirm_removal"
"""The card's button (an app-only tool): with it registered, destructive calls can be confirmed by a card."""
CONFIRM_VIEW = "ui://mcp-docker/confirm.html"
"""The view bound to every other tool that may need a person's confirmation (its card, then the outcome)."""


def confirmable(settings: Settings) -> set[str]:
    """The tools these settings offer that can end with a confirmation card (destructive, or conditional)."""
    return {
        spec.name
        for spec in all_tools().values()
        if spec.fn_without_token is not None and refusal(spec.name, spec.level, spec.toolset, settings) is None
    }


def uri(view: str) -> str:
    return f"ui://mcp-docker/{view}.html"


def build_apps(settings: Settings) -> Apps:
    """The MCP Apps extension for `settings`: views always; the containers view's removal request where
    removal is allowed; the card's buttons where any call may need a person's confirmation."""
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
    if refusal(LOGS, Level.SAFE, "containers", settings) is None:
        fn = log_lines_tool()
        apps.tool(resource_uri=uri("logs"), visibility=["app"], name=fn.__name__)(fn)
    if refusal(REMOVE, Level.DESTRUCTIVE, "containers", settings) is None:
        fn = request_tool()
        apps.tool(resource_uri=uri("containers"), visibility=["app"], name=fn.__name__)(fn)
    if confirmable(settings) and settings.destructive == "confirm":  # allow asks nothing, deny runs nothing
        for fn in card_tools():
            apps.tool(resource_uri=CONFIRM_VIEW, visibility=["app"], name=fn.__name__)(fn)
    return apps
