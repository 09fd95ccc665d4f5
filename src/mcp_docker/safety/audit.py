"""The audit log: one JSON line per MODERATE or DESTRUCTIVE call, in an opt-in file (mode 0600).

Each line holds the time (UTC, RFC 3339), the tool, its level, the engine (`host`, with several
engines), its arguments with secrets redacted (environment and build-argument values, anything named
like a password, token, secret or key, and `KEY=value` / `--password value` forms inside commands)
and the outcome: `ok`, `error`, `refused` or `declined`, with the error's text. The two-step
confirmation adds `asked` (a token was issued), `confirmed` (a token was redeemed), `expired` and
`refused` (a token that did not confirm the call); those lines carry `confirm_token`, the token's
digest, never the token.
"""

from __future__ import annotations

import json
import os
import re
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from mcp_docker.safety.confirmation import ConfirmationDeclined, ConfirmationNeeded, TokenRejected
from mcp_docker.safety.levels import Level
from mcp_docker.state import CURRENT_HOST
from mcp_docker.utils.errors import MCPDockerError, UnsafeOperation
from mcp_docker.utils.logger import logger
from mcp_docker.utils.output import REDACTED

if TYPE_CHECKING:
    from mcp_docker.config import Settings

_SECRET_NAME = re.compile(
    r"pass(word|wd|phrase)?|secret|token|api[_-]?key|private[_-]?key|access[_-]?key|credential|auth|cookie|session",
    re.IGNORECASE,
)
_ALL_VALUES_SECRET = {"environment", "env", "buildargs", "build_args", "secrets", "auth_config"}
_LOCK = threading.Lock()
_TOKEN_TEXT = re.compile(r'confirm_token="[^"]*"')
MAX_VALUE = 500


def _redact_item(text: str) -> str:
    key, sep, _ = text.partition("=")
    if sep and _SECRET_NAME.search(key):
        return f"{key}={REDACTED}"
    return text


def _redact_argv(argv: list[Any]) -> list[Any]:
    out: list[Any] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            out.append(REDACTED)
            hide_next = False
            continue
        if isinstance(arg, str):
            hide_next = arg.startswith("-") and "=" not in arg and bool(_SECRET_NAME.search(arg))
            out.append(_redact_item(arg))
        else:
            out.append(redact(arg))
    return out


def redact(value: Any, key: str = "") -> Any:
    """`value` with secrets hidden; `key` is the name it was given under."""
    if key and _SECRET_NAME.search(key) and value not in (None, "", False):
        return REDACTED
    if isinstance(value, BaseModel):
        value = value.model_dump(exclude_none=True)
    if isinstance(value, dict):
        if key.lower() in _ALL_VALUES_SECRET:
            return {str(k): REDACTED for k in value}
        return {str(k): redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if key.lower() in _ALL_VALUES_SECRET:
            return [f"{str(v).partition('=')[0]}={REDACTED}" for v in value]
        return _redact_argv(list(value))
    if isinstance(value, str):
        text = _redact_item(value)
        return text if len(text) <= MAX_VALUE else text[:MAX_VALUE] + "…"
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)[:MAX_VALUE]


def redact_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    return {k: redact(v, k) for k, v in arguments.items() if k not in ("ctx", "confirmation", "confirm_token")}


def _open(path: Path) -> int:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.fchmod(fd, 0o600)
    return fd


def ensure(path: Path | None) -> None:
    """Create the audit file (mode 0600) at start-up, so a path that cannot be written is an error then."""
    if path is None:
        return
    try:
        os.close(_open(path))
    except OSError as exc:
        raise ValueError(f"MCP_DOCKER_AUDIT_LOG {str(path)!r} cannot be written: {exc.strerror}") from None


def record(
    path: Path | None,
    tool: str,
    level: str,
    arguments: dict[str, Any],
    outcome: str,
    detail: str = "",
    *,
    host: str | None = None,
    token_digest: str | None = None,
) -> None:
    """Append one line to the audit log (a no-op without MCP_DOCKER_AUDIT_LOG)."""
    if path is None:
        return
    line: dict[str, Any] = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "tool": tool,
        "level": level,
        **({"host": host} if host is not None else {}),
        "arguments": redact_arguments(arguments),
        "outcome": outcome,
        **({"confirm_token": token_digest} if token_digest is not None else {}),
    }
    if detail:
        line["detail"] = _TOKEN_TEXT.sub('confirm_token="<not logged>"', detail)[:2000]
    data = (json.dumps(line, ensure_ascii=False, default=str) + "\n").encode("utf-8")
    with _LOCK:
        fd = _open(path)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)


def audit_call(
    name: str,
    level: Level,
    settings: Settings,
    arguments: dict[str, Any],
    outcome: BaseException | str | None,
    *,
    token_digest: str | None = None,
) -> None:
    """One audit line per MODERATE / DESTRUCTIVE call (when MCP_DOCKER_AUDIT_LOG is set): `outcome` is the
    exception the call ended with, None for success, or a step's name (`confirmed`)."""
    if level is Level.SAFE or settings.audit_log is None:
        return
    exc = outcome if isinstance(outcome, BaseException) else None
    detail = str(exc) if isinstance(exc, MCPDockerError) else type(exc).__name__ if exc is not None else ""
    if isinstance(outcome, str):
        word = outcome
    elif exc is None:
        word = "ok"
    elif isinstance(exc, ConfirmationNeeded):
        word, token_digest = "asked", exc.token_digest
    elif isinstance(exc, TokenRejected):
        word, token_digest = ("expired" if exc.reason == "expired" else "refused"), exc.token_digest
    elif isinstance(exc, ConfirmationDeclined):
        word = "declined"
    elif isinstance(exc, UnsafeOperation):
        word = "refused"
    else:
        word = "error"
    try:
        record(
            settings.audit_log,
            name,
            level.value,
            arguments,
            word,
            detail,
            host=CURRENT_HOST.get(),
            token_digest=token_digest,
        )
    except OSError as err:  # pragma: no cover - the file was checked at start-up
        logger.error("cannot write the audit log {}: {}", settings.audit_log, err)
