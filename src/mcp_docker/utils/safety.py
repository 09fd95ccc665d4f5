"""Operation levels and what follows from them: MCP annotations and which tools are offered.

Every tool declares its level once (SAFE, MODERATE, DESTRUCTIVE); its MCP annotations are derived
here, and the same function decides, at registration and again at call time, whether the
operator's settings allow it. Destructive calls are confirmed by the user through elicitation when
MCP_DOCKER_DESTRUCTIVE=confirm (the default): see `check_confirmed`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from mcp.server.elicitation import AcceptedElicitation, CancelledElicitation, DeclinedElicitation
from mcp.types import ClientCapabilities, ToolAnnotations
from pydantic import BaseModel, Field

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
    """MCP annotations derived from a level; `destructive_hint` only for tools whose effect depends on input."""
    read_only = level is Level.SAFE
    return ToolAnnotations(
        title=title,
        read_only_hint=read_only,
        destructive_hint=None
        if read_only
        else (destructive_hint if destructive_hint is not None else level is Level.DESTRUCTIVE),
        idempotent_hint=True if read_only else idempotent,
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


# --- Confirmation of destructive calls -------------------------------------------------------------


class Confirmation(BaseModel):
    """What the user is asked: one yes/no field, so no client can mistake the question."""

    confirm: bool = Field(description="Yes, do it: I understand that what is described is lost.")


@dataclass(frozen=True)
class NoQuestion:
    """A confirmation resolver's answer when it asked nothing (`reason` says why)."""

    reason: Literal["not-needed", "no-elicitation"]


class ConfirmationDeclined(UnsafeOperation):
    """The user said no (or dismissed the question): nothing was done."""


def client_can_elicit(capabilities: ClientCapabilities | None) -> bool:
    """Form elicitation declared (a bare `elicitation: {}` counts as form, as in the SDK)."""
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def needs_confirmation(level: Level, settings: Settings) -> bool:
    return level is Level.DESTRUCTIVE and settings.destructive == "confirm"


def check_confirmed(name: str, level: Level, settings: Settings, outcome: object) -> None:
    """Let a destructive call through only with the user's own yes (when MCP_DOCKER_DESTRUCTIVE=confirm).

    `outcome` is what the confirmation resolver produced; nothing a model passes as an argument can
    stand in for it. Anything unexpected (no outcome at all, a question that was not asked) refuses.
    """
    if not needs_confirmation(level, settings):
        return
    data = outcome.data if isinstance(outcome, AcceptedElicitation) else None
    if isinstance(data, Confirmation) and data.confirm:
        return
    if isinstance(data, NoQuestion) and data.reason == "no-elicitation":
        raise UnsafeOperation(
            f"Refused: {name} is destructive and needs the user's confirmation, but this client cannot ask "
            "the user (it does not support MCP elicitation). Nothing was done.",
            "Use a client that supports elicitation, or the server's operator can set "
            "MCP_DOCKER_DESTRUCTIVE=allow to run destructive tools without asking.",
        )
    if isinstance(data, Confirmation) or isinstance(outcome, DeclinedElicitation | CancelledElicitation):
        what = "cancelled the question" if isinstance(outcome, CancelledElicitation) else "declined"
        raise ConfirmationDeclined(
            f"Not done: the user {what} ({name}). Nothing was changed.",
            "Do not retry unless the user asks for it again.",
        )
    raise UnsafeOperation(
        f"Refused: {name} is destructive and the user's confirmation is missing. Nothing was done.",
        "Call the tool through the MCP server so the user can be asked (MCP_DOCKER_DESTRUCTIVE=confirm).",
    )


_UNSAFE_TEXT = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")


def quote(value: object, limit: int = 120) -> str:
    """A model-supplied value as it may appear in a question to the user: one line, bounded, quoted."""
    text = _UNSAFE_TEXT.sub("?", str(value))
    if len(text) > limit:
        text = text[:limit] + "…"
    return repr(text)


def generic_question(name: str, title: str, subject: str | None, arguments: dict[str, Any]) -> str:
    """The fallback question: the tool, its target and every argument given, quoted."""
    lines = [f"{title} ({name})."]
    if subject and arguments.get(subject) is not None:
        lines.append(f"Target: {subject} {quote(arguments[subject])}")
    given = ", ".join(
        f"{k}={quote(v)}" for k, v in arguments.items() if v not in (None, False, [], {}) and k != subject
    )
    if given:
        lines.append(f"With: {given}")
    lines.append("This is a destructive operation: what it removes cannot be recovered. Proceed?")
    return "\n".join(lines)
