"""The audit log: one JSON line per MODERATE or DESTRUCTIVE call, in an opt-in file (mode 0600).

Each line holds the time (UTC, RFC 3339), the tool, its level, its arguments with secrets redacted
(environment and build-argument values, anything named like a password, token, secret or key, and
`KEY=value` / `--password value` forms inside commands) and the outcome: `ok`, `error`, `refused`
or `declined`, with the error's text.
"""

from __future__ import annotations

import json
import os
import re
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from mcp_docker.utils.output import REDACTED

_SECRET_NAME = re.compile(
    r"pass(word|wd|phrase)?|secret|token|api[_-]?key|private[_-]?key|access[_-]?key|credential|auth|cookie|session",
    re.IGNORECASE,
)
_ALL_VALUES_SECRET = {"environment", "env", "buildargs", "build_args", "secrets", "auth_config"}
_LOCK = threading.Lock()
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
    return {k: redact(v, k) for k, v in arguments.items() if k not in ("ctx", "confirmation")}


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


def record(path: Path | None, tool: str, level: str, arguments: dict[str, Any], outcome: str, detail: str = "") -> None:
    """Append one line to the audit log (a no-op without MCP_DOCKER_AUDIT_LOG)."""
    if path is None:
        return
    line: dict[str, Any] = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "tool": tool,
        "level": level,
        "arguments": redact_arguments(arguments),
        "outcome": outcome,
    }
    if detail:
        line["detail"] = detail[:2000]
    data = (json.dumps(line, ensure_ascii=False, default=str) + "\n").encode("utf-8")
    with _LOCK:
        fd = _open(path)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
