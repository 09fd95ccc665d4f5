"""MCP Apps (`io.modelcontextprotocol/ui`): Docker views inside the chat, for clients that negotiate them.

`build_apps(settings)` makes the extension (the `ui://` views and the app-only tools the views call);
`apps_gate(...)` is the middleware that keeps a client that did not negotiate the extension on exactly
today's surface (no app-only tools, no `_meta.ui`, no `ui://` resources in lists).
"""

from mcp_docker.apps.gate import apps_gate
from mcp_docker.apps.registration import BOUND_VIEWS, CARD_CONFIRM, build_apps, confirmable

__all__ = ["BOUND_VIEWS", "CARD_CONFIRM", "apps_gate", "build_apps", "confirmable"]
