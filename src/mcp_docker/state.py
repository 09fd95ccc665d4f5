"""What every call can reach: the settings and the engine(s) the lifespan holds, and the named engine
the running call was routed to. Tools, resources and prompts import it from here."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio
from mcp.server.mcpserver import Context

from mcp_docker.call_limits import new_limiter
from mcp_docker.safety.confirm_tokens import ConfirmTokens

if TYPE_CHECKING:
    from mcp_docker.config import Settings
    from mcp_docker.docker.client import Engine

Ctx = Context[Any, Any]


@dataclass
class AppState:
    """What the lifespan holds for every call: the settings and the engine client(s)."""

    settings: Settings
    engine: Engine
    engines: dict[str, Engine] = field(default_factory=dict)
    """Named engines (MCP_DOCKER_HOSTS); empty when the server manages one engine."""

    def current_engine(self) -> Engine:
        name = CURRENT_HOST.get()
        return self.engines[name] if name is not None and name in self.engines else self.engine

    limiter: anyio.CapacityLimiter | None = None
    """Bounds the calls running at once (MCP_DOCKER_MAX_CONCURRENCY); made from the settings."""

    tokens: ConfirmTokens = field(default_factory=lambda: ConfirmTokens(300.0))
    """Two-step confirmation tokens (made once per server, so they outlive a session; see server.py)."""
    asked: dict[str, float] = field(default_factory=dict)
    """When each open confirmation question was put (2026-07-28 era: the answer comes in a later request)."""
    cards: bool = False
    """This server can confirm by an MCP Apps card (the extension and its confirm button are registered)."""

    def __post_init__(self) -> None:
        if self.limiter is None:
            self.limiter = new_limiter(self.settings)


CURRENT_HOST: ContextVar[str | None] = ContextVar("mcp_docker_current_host", default=None)
"""The named engine the running call was routed to (see tools/hosts.py); copied into worker threads."""


def app_state(ctx: Ctx) -> AppState:
    state = ctx.request_context.lifespan_context
    if not isinstance(state, AppState):  # pragma: no cover - wiring error
        raise RuntimeError("server lifespan state is not an AppState")
    return state


def engine(ctx: Ctx) -> Engine:
    return app_state(ctx).current_engine()


def settings(ctx: Ctx) -> Settings:
    return app_state(ctx).settings
