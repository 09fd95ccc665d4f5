"""Two-step confirmation tokens: the store behind `confirm_token="<token>"`.

A client that cannot ask the user (no MCP elicitation, or a question left unanswered) gets, instead of
the change, the question and a token; the same call plus that token runs it once the user agreed in
the conversation. The store lives in the server process (the 2026-07-28 protocol era has no session),
keyed by the token's digest; the token itself is never stored, logged or audited.

API (also for other confirmation surfaces, e.g. an MCP Apps confirmation card):

- `store.issue(tool, host, arguments, question, via=...) -> token`: a new single-use token bound to the
  tool, the engine (`host`, `None` with one engine), the exact arguments and the way it may come back
  (`via`: `"token"` for the model's `confirm_token` argument, `"card"` for the button of an MCP Apps
  confirmation card); it expires after `ttl` seconds.
- `store.redeem(token, tool, host, arguments, via=...) -> Issued`: consumes the token (any presentation
  burns it) and returns what it was issued for, or raises `TokenRefused` whose `reason` is `unknown`,
  `expired`, `used` or `mismatch` (another tool, engine, arguments or way back).
- `store.peek(token) -> Issued | None`: what a live token stands for, without consuming it (the card's
  button finds the call it confirms); `store.cancel(token, via)` burns one (a dismissed card).
- `digest(token)`: the short digest that audit lines and logs carry instead of the token.
"""

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from pydantic import BaseModel

Reason = Literal["unknown", "expired", "used", "mismatch"]
Via: TypeAlias = Literal["token", "card"]
"""How a token comes back: in the model's `confirm_token` argument, or from a confirmation card's button."""
MAX_TOKENS = 1000
"""Most live tokens kept; the oldest go first (a model cannot grow the server's memory without bound)."""
KEEP_SPENT = 3600.0
"""Seconds a used or expired token is remembered (to say why it is refused)."""
TOKEN_BYTES = 18
"""Random bytes per token (144 bits, from the `secrets` module): cannot be guessed."""
CARD_TOKEN_BYTES = 32
"""Random bytes of a card's token (256 bits): no model copies it, so its length costs nothing."""


def digest(token: str) -> str:
    """The digest stored and audited in place of the token (16 hex characters shown)."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def short_digest(token: str) -> str:
    return digest(token)[:16]


def canonical_arguments(arguments: dict[str, Any]) -> str:
    """The exact arguments as one canonical JSON text (keys sorted, models dumped)."""

    def plain(value: Any) -> Any:
        if isinstance(value, BaseModel):
            return value.model_dump(mode="json")
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    return json.dumps(plain(arguments), sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class Issued:
    """What a token was issued for."""

    tool: str
    host: str | None
    arguments: str
    """`canonical_arguments` of the call."""
    question: str
    expires: float
    digest: str
    via: Via = "token"


class TokenRefused(Exception):
    """The token does not confirm this call; nothing may be done."""

    def __init__(self, reason: Reason, issued: Issued | None = None) -> None:
        super().__init__(reason)
        self.reason: Reason = reason
        self.issued = issued


@dataclass
class _Entry:
    issued: Issued
    used: bool = False


class ConfirmTokens:
    """The server's live tokens (thread-safe; tool bodies run on worker threads)."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def issue(
        self, tool: str, host: str | None, arguments: dict[str, Any], question: str, *, via: Via = "token"
    ) -> str:
        token = secrets.token_urlsafe(CARD_TOKEN_BYTES if via == "card" else TOKEN_BYTES)
        key = digest(token)
        issued = Issued(tool, host, canonical_arguments(arguments), question, self._clock() + self.ttl, key, via)
        with self._lock:
            self._purge()
            while len(self._entries) >= MAX_TOKENS:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = _Entry(issued)
        return token

    def redeem(
        self, token: str, tool: str, host: str | None, arguments: dict[str, Any], *, via: Via = "token"
    ) -> Issued:
        key = digest(token)
        with self._lock:
            self._purge()
            entry = self._entries.get(key)
            if entry is None:
                raise TokenRefused("unknown")
            issued = entry.issued
            if entry.used:
                raise TokenRefused("used", issued)
            entry.used = True  # burnt whatever happens next: a token is presented once
            if self._clock() > issued.expires:
                raise TokenRefused("expired", issued)
            same = (
                issued.tool == tool
                and issued.host == host
                and issued.via == via
                and hmac.compare_digest(issued.arguments, canonical_arguments(arguments))
            )
            if not same:
                raise TokenRefused("mismatch", issued)
            return issued

    def peek(self, token: str) -> Issued | None:
        """What a live (unused, unexpired) token was issued for; consumes nothing."""
        with self._lock:
            entry = self._entries.get(digest(token))
            if entry is None or entry.used or self._clock() > entry.issued.expires:
                return None
            return entry.issued

    def cancel(self, token: str, via: Via) -> bool:
        """Burn a live token that came back `via` (a dismissed card); False when there was none."""
        with self._lock:
            entry = self._entries.get(digest(token))
            if entry is None or entry.used or entry.issued.via != via or self._clock() > entry.issued.expires:
                return False
            entry.used = True
            return True

    def _purge(self) -> None:
        """Forget tokens an hour (or one TTL, if longer) past their expiry: kept that long so a late or
        replayed one is told 'expired' or 'used', not 'unknown'."""
        horizon = self._clock() - max(self.ttl, KEEP_SPENT)
        for key in [k for k, e in self._entries.items() if e.issued.expires < horizon]:
            del self._entries[key]
