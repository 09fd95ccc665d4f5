"""Confirmation of destructive calls: the user's own yes, asked through elicitation or in two steps.

With MCP_DOCKER_DESTRUCTIVE=confirm (the default) a destructive call (and a call that would move an
existing image tag) runs only when:

- the client declares form elicitation and the user accepts the question within
  MCP_DOCKER_CONFIRM_TIMEOUT seconds; or
- the client negotiated MCP Apps but cannot ask (or the question went unanswered): the call changes
  nothing and its result opens a confirmation card (a view) that shows the question; the card's secret
  travels only in the result's `_meta`, and the person's press of its button (an app-only tool) runs
  the call; or
- the client cannot ask (or the question went unanswered) and MCP_DOCKER_CONFIRM_FALLBACK=token: the
  first call changes nothing and returns the question with `confirm_token="<token>"`; the same call
  plus that token (see `confirm_tokens`) runs it.

The question is put by a resolver (tools/confirm_gate.py) and never by the model; this module holds
the outcomes that resolver produces, the rules applied to them, and the texts the model reads.
"""

import re
from dataclasses import dataclass
from typing import Any

from mcp.server.elicitation import AcceptedElicitation, CancelledElicitation, DeclinedElicitation
from mcp.types import ClientCapabilities
from pydantic import BaseModel, Field

from mcp_docker.config import Settings
from mcp_docker.safety.confirm_tokens import Issued, Reason
from mcp_docker.safety.levels import Level
from mcp_docker.utils.errors import UnsafeOperation

TOKEN = "confirm_token"  # noqa: S105 - an argument name
"""The visible argument of the two-step confirmation."""
TOKEN_DESCRIPTION = "Only from the previous call's result, once agreed."  # noqa: S105
CONFIRM_META = "io.github.mcp-docker/confirmation"
"""The `_meta` key of a result that opens a confirmation card: its secret, for the view only."""


class Confirmation(BaseModel):
    """What the user is asked: one yes/no field, so no client can mistake the question."""

    confirm: bool = Field(description="Yes, do it: I understand that what is described is lost.")


@dataclass(frozen=True)
class NotNeeded:
    """Nothing to confirm for this call (not destructive, or the settings decide without asking)."""


@dataclass(frozen=True)
class CannotAsk:
    """The client cannot put the question to the user (no form elicitation, or no back channel)."""

    question: str


@dataclass(frozen=True)
class Unanswered:
    """The question was put but no answer came within MCP_DOCKER_CONFIRM_TIMEOUT seconds."""

    question: str
    seconds: float


@dataclass(frozen=True)
class TokenGiven:
    """The call came with a `confirm_token`; `question` is what the call would do now."""

    token: str
    question: str


@dataclass(frozen=True)
class ShowCard:
    """The client renders MCP Apps views: the person is asked by a confirmation card instead."""

    question: str
    why: str


@dataclass(frozen=True)
class CardPressed:
    """The person pressed a confirmation card's button; `issued` is what its (now spent) token was for."""

    issued: Issued
    question: str


@dataclass(frozen=True)
class Denied:
    """MCP_DOCKER_DESTRUCTIVE=deny and this (otherwise moderate) call needs confirmation."""

    question: str


@dataclass(frozen=True)
class Answered:
    """The user's answer to an elicitation the resolver put itself (2025-11-25 era, with a deadline)."""

    outcome: Any


class ConfirmationDeclined(UnsafeOperation):
    """The user said no (or dismissed the question): nothing was done."""


class ConfirmationNeeded(UnsafeOperation):
    """First step of the two-step confirmation: nothing was done; the result carries a token."""

    def __init__(self, message: str, hint: str, token_digest: str) -> None:
        super().__init__(message, hint)
        self.token_digest = token_digest


class CardNeeded(ConfirmationNeeded):
    """Nothing was done; the result opens a confirmation card holding `token` (never shown to the model)."""

    def __init__(self, name: str, title: str, question: str, token: str, why: str, token_digest: str) -> None:
        message = (
            f"Not done yet: {name} needs the person's confirmation ({why}). Nothing was changed.\n{question}\n"
            "The person was shown a confirmation card with this question; nothing happens unless they press "
            "its button."
        )
        hint = f"Wait for them. Do not call {name} again for this and do not try to confirm it yourself."
        super().__init__(message, hint, token_digest)
        self.meta = {"token": token, "tool": name, "title": title, "question": question}


class TokenRejected(UnsafeOperation):
    """A `confirm_token` that does not confirm this call: nothing was done."""

    def __init__(self, message: str, hint: str, reason: str, token_digest: str) -> None:
        super().__init__(message, hint)
        self.reason = reason
        self.token_digest = token_digest


def client_can_elicit(capabilities: ClientCapabilities | None) -> bool:
    """Form elicitation declared (a bare `elicitation: {}` counts as form, as in the SDK)."""
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def needs_confirmation(level: Level, settings: Settings) -> bool:
    return level is Level.DESTRUCTIVE and settings.destructive == "confirm"


def offers_token(settings: Settings) -> bool:
    """Whether destructive tools take a `confirm_token` (the two-step confirmation is on)."""
    return settings.destructive == "confirm" and settings.confirm_fallback == "token"


def unwrap(outcome: object) -> object:
    """What the confirmation resolver produced, out of the SDK's `AcceptedElicitation` wrapper(s)."""
    data = outcome.data if isinstance(outcome, AcceptedElicitation) else outcome
    if isinstance(data, Answered):
        data = data.outcome
        data = data.data if isinstance(data, AcceptedElicitation) else data
    return data


def check_answer(name: str, data: object) -> bool:
    """True for the user's own yes; raises for a no. False when `data` is no answer at all."""
    if isinstance(data, Confirmation) and data.confirm:
        return True
    if isinstance(data, Confirmation | DeclinedElicitation | CancelledElicitation):
        what = "cancelled the question" if isinstance(data, CancelledElicitation) else "declined"
        raise ConfirmationDeclined(
            f"Not done: the user {what} ({name}). Nothing was changed.",
            "Do not retry unless the user asks for it again.",
        )
    return False


def cannot_ask_refusal(name: str) -> UnsafeOperation:
    """MCP_DOCKER_CONFIRM_FALLBACK=refuse and the client cannot elicit."""
    return UnsafeOperation(
        f"Refused: {name} is destructive and needs the user's confirmation, but this client cannot ask "
        "the user (it does not support MCP elicitation). Nothing was done.",
        "Use a client that supports elicitation, or the server's operator can set "
        "MCP_DOCKER_CONFIRM_FALLBACK=token (two-step confirmation) or MCP_DOCKER_DESTRUCTIVE=allow.",
    )


def unanswered_refusal(name: str, seconds: float) -> UnsafeOperation:
    """MCP_DOCKER_CONFIRM_FALLBACK=refuse and the question went unanswered."""
    return UnsafeOperation(
        f"Not done: the confirmation question for {name} went unanswered for {seconds:g} s. Nothing was changed.",
        "Ask the user whether to go on; call again only if they agree (the question is asked again).",
    )


def missing_confirmation(name: str) -> UnsafeOperation:
    return UnsafeOperation(
        f"Refused: {name} is destructive and the user's confirmation is missing. Nothing was done.",
        "Call the tool through the MCP server so the user can be asked (MCP_DOCKER_DESTRUCTIVE=confirm).",
    )


def denied_refusal(name: str, question: str) -> UnsafeOperation:
    return UnsafeOperation(
        f"Refused: this {name} call needs the user's confirmation and MCP_DOCKER_DESTRUCTIVE=deny refuses "
        f"such changes. Nothing was done. It would have been:\n{question}",
        "Choose another name, or ask the server's operator.",
    )


def two_step_text(name: str, question: str, token: str, why: str) -> tuple[str, str]:
    """The first step's message and hint: what would be lost, and how to go on with the user's yes."""
    message = (
        f"Not done yet: {name} needs the user's confirmation ({why}). Nothing was changed.\n"
        f"{question}\n"
        f'confirm_token="{token}"'
    )
    hint = (
        "Ask the user in the conversation, quoting what would be lost. Only if they agree, call the same tool "
        "again with the same arguments plus this confirm_token (single use, valid for a limited time)."
    )
    return message, hint


_REFUSED: dict[Reason | str, str] = {
    "unknown": "is not one this server issued (or the server restarted since)",
    "expired": "has expired",
    "used": "was already used",
    "mismatch": "was issued for another call (another tool, engine or arguments)",
    "off": "cannot be used: the two-step confirmation is off (MCP_DOCKER_CONFIRM_FALLBACK=refuse)",
}


def token_refusal(name: str, reason: str) -> tuple[str, str]:
    message = f"Refused: the confirm_token {_REFUSED.get(reason, 'is not valid')}. Nothing was done ({name})."
    hint = "Call the tool again without confirm_token to get a new question and token, and ask the user again."
    if reason == "off":
        hint = "Call the tool again without confirm_token."
    return message, hint


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


def bounded_list(items: list[str], limit: int = 20) -> str:
    """`a, b, c and 12 more`: a list in a question, bounded."""
    shown = ", ".join(items[:limit])
    return f"{shown} and {len(items) - limit} more" if len(items) > limit else shown
