"""Confirmation of destructive calls: the user's own yes, asked through elicitation.

Destructive calls are confirmed by the user when MCP_DOCKER_DESTRUCTIVE=confirm (the default): see
`check_confirmed`. The question is put by a resolver (tools/declare.py) and never by the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from mcp.server.elicitation import AcceptedElicitation, CancelledElicitation, DeclinedElicitation
from mcp.types import ClientCapabilities
from pydantic import BaseModel, Field

from mcp_docker.config import Settings
from mcp_docker.safety.levels import Level
from mcp_docker.utils.errors import UnsafeOperation


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
