"""The confirmation gate of a tool that needs the user's yes: the question, its deadline, the token.

`attach_confirmation` gives a tool's wrapper two things the model never fills:
- a hidden `confirmation` parameter, filled by the SDK's resolver API (`Resolve`) before the body runs:
  the resolver writes the question (what will be lost, on which engine) and either asks it through
  elicitation (2025-11-25 era: the resolver waits at most MCP_DOCKER_CONFIRM_TIMEOUT; 2026-07-28 era:
  the SDK returns the question in an `InputRequiredResult`, and an answer that comes back later than
  the deadline does not count) or reports that the user cannot be asked;
- a visible `confirm_token` argument (when the two-step confirmation is on).

`settle` is called by the wrapper with what the resolver produced: it lets the call run, refuses it,
or, where the user could not be asked, issues a token and ends the call with the question. In a client
that negotiated MCP Apps the token goes to a confirmation card instead (`CardNeeded`: the result's
`_meta`, never its content); the card's button (apps/app_tools.py) spends the token and runs the same
call again with `CARD_PRESSED` set, which only that app-only tool sets.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import inspect
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Annotated, Any

import anyio
import anyio.to_thread
from mcp.server.apps import client_supports_apps
from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import Elicit, Resolve
from mcp_types.version import is_version_at_least
from pydantic import Field, ValidationError

from mcp_docker.safety.audit import audit_call
from mcp_docker.safety.confirm_tokens import Issued, TokenRefused, canonical_arguments, short_digest
from mcp_docker.safety.confirmation import (
    TOKEN,
    TOKEN_DESCRIPTION,
    Answered,
    CannotAsk,
    CardNeeded,
    CardPressed,
    Confirmation,
    ConfirmationNeeded,
    Denied,
    NotNeeded,
    ShowCard,
    TokenGiven,
    TokenRejected,
    Unanswered,
    cannot_ask_refusal,
    check_answer,
    client_can_elicit,
    denied_refusal,
    generic_question,
    missing_confirmation,
    needs_confirmation,
    token_refusal,
    two_step_text,
    unanswered_refusal,
    unwrap,
)
from mcp_docker.safety.levels import Level, refusal
from mcp_docker.sdk_internals import present_signature
from mcp_docker.state import CURRENT_HOST, AppState, app_state
from mcp_docker.utils.errors import Kind, MCPDockerError, engine_errors
from mcp_docker.utils.validation import check_arguments

if TYPE_CHECKING:
    from mcp_docker.docker.client import Engine
    from mcp_docker.tools.declare import ToolSpec

CONFIRMATION = "confirmation"
"""The hidden parameter of confirmed tools that carries the user's answer (never in the schema)."""
Describe = Callable[["Engine", dict[str, Any]], str | None]
"""Writes the question put to the user: what exactly will be lost. For a tool that is not destructive, a
`None` means this call loses nothing and needs no confirmation (e.g. a tag that moves nothing)."""
_MODERN = "2026-07-28"
_ASKED_KEEP = 3600.0
CARD_ASK: ContextVar[bool] = ContextVar("mcp_docker_card_ask", default=False)
"""Set by a view's own request for a confirmation card (apps/app_tools.py): ask by card, never run."""
CARD_PRESSED: ContextVar[Issued | None] = ContextVar("mcp_docker_card_pressed", default=None)
"""Set only by the card's button (an app-only tool) around the call its spent token was issued for."""


def _modern(ctx: Context[Any, Any]) -> bool:
    version = ctx.protocol_version
    return version is not None and is_version_at_least(version, _MODERN)


def _asked_key(tool: str, host: str | None, arguments: dict[str, Any], question: str) -> str:
    text = "\x00".join((tool, host or "", canonical_arguments(arguments), question))
    return hashlib.sha256(text.encode()).hexdigest()


def _on_engine(state: AppState, question: str) -> str:
    """With several engines, the question starts with the one it is about."""
    host = CURRENT_HOST.get()
    return f"On engine {host!r}:\n{question}" if host is not None and len(state.engines) > 1 else question


def attach_confirmation(
    wrapper: Callable[..., Any], fn: Callable[..., Any], spec: ToolSpec, subject: Kind | None, describe: Describe | None
) -> Callable[..., Any]:
    """Give `wrapper` the hidden `confirmation` parameter and the visible `confirm_token` argument;
    return a twin without `confirm_token` (for servers where the two-step confirmation is off)."""
    signature = inspect.signature(fn, eval_str=True)
    names = [p for p in signature.parameters if p != "ctx"]
    token_param = inspect.Parameter(
        TOKEN,
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[str | None, Field(description=TOKEN_DESCRIPTION, max_length=200)],
    )

    async def resolve(ctx: Context[Any, Any], arguments: dict[str, Any]) -> Any:
        state = app_state(ctx)
        settings = state.settings
        token = arguments.pop(TOKEN, None)
        try:
            check_arguments(arguments)  # a bad name is refused before the user is asked about it
        except MCPDockerError as exc:
            raise exc.to_tool_error() from exc
        level = spec.call_level(arguments)
        destructive = level is Level.DESTRUCTIVE
        asking = CARD_ASK.get()
        if refusal(spec.name, level, spec.toolset, settings) or (settings.destructive == "allow" and not asking):
            return NotNeeded()
        if not destructive and (describe is None or level is Level.SAFE or not spec.conditional):
            return NotNeeded()
        if destructive and settings.destructive != "confirm":
            return NotNeeded()  # deny: refused by check_allowed
        question = await anyio.to_thread.run_sync(_question, state, spec, level, subject, describe, arguments)
        if question is None:
            return NotNeeded()
        question = _on_engine(state, question)
        if settings.destructive == "deny":
            return Denied(question)
        pressed = CARD_PRESSED.get()
        if pressed is not None:
            return CardPressed(pressed, question)
        if asking:
            return ShowCard(question, "asked from a view")
        if token is not None:
            return TokenGiven(token, question)
        card = state.cards and client_supports_apps(ctx)
        if not client_can_elicit(ctx.client_capabilities):
            if card:
                return ShowCard(question, "this client does not support MCP elicitation")
            return CannotAsk(question)
        outcome = await _elicit(ctx, state, spec, arguments, question)
        if card and isinstance(outcome, Unanswered):
            return ShowCard(question, f"the question went unanswered for {outcome.seconds:g} s")
        if card and isinstance(outcome, CannotAsk):
            return ShowCard(question, "this client cannot be asked now")
        return outcome

    def make(with_token: bool) -> Any:
        async def resolver(ctx: Context[Any, Any], **arguments: Any) -> Any:
            return await resolve(ctx, arguments)

        resolver.__qualname__ = resolver.__name__ = f"confirm_{spec.name}"
        present_signature(
            resolver,
            inspect.Signature(
                [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Context)]
                + [
                    inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY)
                    for n in [*names, *([TOKEN] if with_token else [])]
                ]
            ),
            {"ctx": Context},
        )
        return inspect.Parameter(
            CONFIRMATION,
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[ElicitationResult[Confirmation], Resolve(resolver)],
        )

    hidden = make(with_token=True)
    present_signature(
        wrapper,
        signature.replace(parameters=[*signature.parameters.values(), token_param, hidden]),
        {**fn.__annotations__, TOKEN: token_param.annotation, CONFIRMATION: hidden.annotation},
    )

    @functools.wraps(wrapper)
    async def without_token(*args: Any, **kwargs: Any) -> Any:
        return await wrapper(*args, **kwargs)

    plain = make(with_token=False)
    present_signature(
        without_token,
        signature.replace(parameters=[*signature.parameters.values(), plain]),
        {**fn.__annotations__, CONFIRMATION: plain.annotation},
    )
    return without_token


async def _elicit(
    ctx: Context[Any, Any], state: AppState, spec: ToolSpec, arguments: dict[str, Any], question: str
) -> Any:
    """Put the question through elicitation, with its deadline (see the module doc)."""
    settings = state.settings
    timeout = settings.confirm_timeout
    if _modern(ctx):
        key = _asked_key(spec.name, CURRENT_HOST.get(), arguments, question)
        now = time.monotonic()
        for old in [k for k, t in state.asked.items() if now - t > _ASKED_KEEP]:
            del state.asked[old]
        if ctx.input_responses:
            asked_at = state.asked.pop(key, None)
            if asked_at is None or now - asked_at > timeout:
                return Unanswered(question, timeout)
        else:
            state.asked[key] = now
        return Elicit(question, Confirmation)
    if not ctx.session.can_send_request:
        return CannotAsk(question)
    with anyio.move_on_after(timeout):
        try:
            return Answered(await ctx.elicit(question, Confirmation))
        except (ValueError, ValidationError) as exc:
            raise ToolError(f"The client's answer to the confirmation question was not valid: {exc}") from exc
    return Unanswered(question, timeout)


def _question(
    state: AppState,
    spec: ToolSpec,
    level: Level,
    subject: Kind | None,
    describe: Describe | None,
    arguments: dict[str, Any],
) -> str | None:
    """The question for this call, from the engine it goes to (`None`: nothing to confirm, which only a
    tool that is not destructive may say)."""
    question = None
    if describe is not None:
        target = arguments.get(subject) if subject else None
        try:
            with engine_errors(subject, str(target) if target is not None else None):
                question = describe(state.current_engine(), arguments)
        except MCPDockerError as exc:
            audit_call(spec.name, level, state.settings, arguments, exc)
            raise exc.to_tool_error() from exc
    if question is None and level is Level.DESTRUCTIVE:
        question = generic_question(spec.name, spec.title, subject, arguments)
    return question


def settle(spec: ToolSpec, level: Level, state: AppState, arguments: dict[str, Any], outcome: object) -> str | None:
    """Let the call run (returns the digest of the token that confirmed it, if one did) or raise.

    `outcome` is what the confirmation resolver produced; nothing a model passes as an argument can
    stand in for it. Anything unexpected (no outcome at all) refuses a call that needs confirmation.
    """
    name, settings = spec.name, state.settings
    data = unwrap(outcome)
    if isinstance(data, NotNeeded) and not needs_confirmation(level, settings):
        return None
    if check_answer(name, data):
        return None
    host = CURRENT_HOST.get()
    if isinstance(data, Denied):
        raise denied_refusal(name, data.question)
    if isinstance(data, ShowCard):
        token = state.tokens.issue(name, host, arguments, data.question, via="card")
        raise CardNeeded(name, spec.title, data.question, token, data.why, short_digest(token))
    if isinstance(data, CardPressed):
        return _pressed(spec, state, host, arguments, data)
    if isinstance(data, CannotAsk | Unanswered):
        if settings.confirm_fallback == "refuse":
            raise cannot_ask_refusal(name) if isinstance(data, CannotAsk) else unanswered_refusal(name, data.seconds)
        why = (
            "this client cannot ask the user: it does not support MCP elicitation"
            if isinstance(data, CannotAsk)
            else f"the question went unanswered for {data.seconds:g} s"
        )
        token = state.tokens.issue(name, host, arguments, data.question)
        message, hint = two_step_text(name, data.question, token, why)
        raise ConfirmationNeeded(message, hint, short_digest(token))
    if isinstance(data, TokenGiven):
        token_digest = short_digest(data.token)
        if settings.confirm_fallback == "refuse":
            raise TokenRejected(*token_refusal(name, "off"), "off", token_digest)
        try:
            issued = state.tokens.redeem(data.token, name, host, arguments)
        except TokenRefused as exc:
            raise TokenRejected(*token_refusal(name, exc.reason), exc.reason, token_digest) from None
        if issued.question != data.question:
            token = state.tokens.issue(name, host, arguments, data.question)
            message, hint = two_step_text(name, data.question, token, "what it would do changed since the question")
            raise ConfirmationNeeded(message, hint, short_digest(token))
        return token_digest
    if level is Level.DESTRUCTIVE or spec.conditional:
        raise missing_confirmation(name)
    return None


def _pressed(spec: ToolSpec, state: AppState, host: str | None, arguments: dict[str, Any], data: CardPressed) -> str:
    """The card's button was pressed (its token already spent): this call must be the one it was for."""
    issued, name = data.issued, spec.name
    token_digest = issued.digest[:16]
    same = (
        issued.via == "card"
        and issued.tool == name
        and issued.host == host
        and hmac.compare_digest(issued.arguments, canonical_arguments(arguments))
    )
    if not same:
        raise TokenRejected(*token_refusal(name, "mismatch"), "mismatch", token_digest)
    if issued.question != data.question:
        token = state.tokens.issue(name, host, arguments, data.question, via="card")
        raise CardNeeded(
            name,
            spec.title,
            data.question,
            token,
            "what it would do changed since the card was shown",
            short_digest(token),
        )
    return token_digest
