"""Logging with loguru, to stderr only: on stdio, stdout belongs to the protocol."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

from loguru import logger

__all__ = ["configure_logging", "logger"]


class _ToLoguru(logging.Handler):
    """Send the standard library's records (the MCP SDK, docker-py) through loguru, hence to stderr."""

    def emit(self, record: logging.LogRecord) -> None:  # pragma: no cover - formatting glue
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.opt(depth=6, exception=record.exc_info).log(level, record.getMessage())


_CONFIRM_TOKEN = re.compile(r"""(confirm_token\\*['"]?\s*[=:]\s*\\*['"])[^'"\\]+""")


def scrub(text: str) -> str:
    """`text` without two-step confirmation tokens (`confirm_token="..."`, `"confirm_token": "..."`)."""
    return _CONFIRM_TOKEN.sub(r"\1<not logged>", text)


def _scrub_record(record: Any) -> None:
    """Every log line, the SDK's included (it logs failed tool results), loses confirmation tokens."""
    if "confirm_token" in record["message"]:
        record["message"] = scrub(record["message"])


def _stderr(message: str) -> None:
    """Write to whatever sys.stderr is now (never stdout)."""
    sys.stderr.write(message)


def configure_logging(level: str = "INFO", json: bool = False) -> None:
    """Route every log line to stderr, as text or as JSON lines."""
    logger.remove()
    logger.configure(patcher=_scrub_record)
    logger.add(
        _stderr,
        level=level,
        serialize=json,
        backtrace=False,
        diagnose=False,
        format="<green>{time:HH:mm:ss.SSS}</green> {level: <7} {name}: {message}",
    )
    logging.basicConfig(handlers=[_ToLoguru()], level=level, force=True)
