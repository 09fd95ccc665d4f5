"""The secret behind the confirmation card's button: issued to the view only, single use, short-lived.

A token is bound to the tool and the exact arguments it was issued for; redeeming it for anything
else, twice, or after `ttl` seconds fails. It travels only in a tool result's `_meta` (which MCP Apps
hosts hand to the view and keep out of the model's context), never in content or structuredContent.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Pending:
    tool: str
    arguments: dict[str, Any]
    question: str
    expires: float


@dataclass
class TokenStore:
    ttl: float = 120.0
    _pending: dict[str, Pending] = field(default_factory=dict)

    def issue(self, tool: str, arguments: dict[str, Any], question: str) -> str:
        now = time.monotonic()
        self._pending = {k: v for k, v in self._pending.items() if v.expires > now}
        token = secrets.token_urlsafe(32)
        self._pending[token] = Pending(tool, dict(arguments), question, now + self.ttl)
        return token

    def redeem(self, token: str, tool: str) -> Pending | None:
        """The pending call this token stands for (and forget it), or None when it is unknown, used,
        expired or for another tool."""
        match = next((k for k in self._pending if hmac.compare_digest(k, token)), None)
        if match is None:
            return None
        pending = self._pending.pop(match)
        if pending.expires <= time.monotonic() or pending.tool != tool:
            return None
        return pending

    def cancel(self, token: str) -> bool:
        match = next((k for k in self._pending if hmac.compare_digest(k, token)), None)
        return match is not None and self._pending.pop(match, None) is not None
