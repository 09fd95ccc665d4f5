"""Shaping engine output for a model: untrusted, so cleaned, bounded and redacted; times and sizes.

Everything here is pure (no engine), so it is unit-tested directly. The cleaning and bounding of text
live in `utils/text.py` (which `errors` uses too) and are importable from here as well.
"""

import re
import time
from collections.abc import Iterable, Mapping
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from mcp_docker.utils.errors import ValidationError
from mcp_docker.utils.text import bounded_tail, clean_text, cut_bytes, decode, engine_text, line_count

__all__ = [
    "REDACTED",
    "Model",
    "bounded_tail",
    "clean_text",
    "cut_bytes",
    "decode",
    "engine_text",
    "human_size",
    "line_count",
    "parse_duration",
    "parse_time",
    "redact_env",
    "redact_mapping",
]


class Model(BaseModel):
    """Base of the tools' argument and result models. Pydantic builds a model's validator when it is first
    used (the first call of a tool that returns it), not when its module is imported: most tools are never
    called in a session, and building every model cost about 60 ms of each start."""

    model_config = ConfigDict(defer_build=True)


REDACTED = "***"


def redact_env(env: Iterable[str] | None, redact: bool = True) -> list[str]:
    """`KEY=value` entries with the values hidden (`KEY=***`) unless `redact` is off."""
    out: list[str] = []
    for item in env or []:
        key, sep, _ = item.partition("=")
        out.append(f"{key}={REDACTED}" if redact and sep else item)
    return out


def redact_mapping(values: Mapping[str, str] | None, redact: bool = True) -> dict[str, str]:
    return {k: (REDACTED if redact else v) for k, v in (values or {}).items()}


_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)(ms|s|m|h|d|w))+$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: str) -> float | None:
    """Seconds in `10m`, `1h30m`, `45s`; None when `value` is not a duration."""
    text = value.strip().lower()
    if not _DURATION.match(text):
        return None
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(text))


def parse_time(value: str | int | float | None, name: str, now: float | None = None) -> int | None:
    """A point in time as Unix seconds, from RFC 3339, Unix seconds, or a duration meaning "that long ago"."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return int(value)
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return int(float(text))
    seconds = parse_duration(text)
    if seconds is not None:
        return int((now if now is not None else time.time()) - seconds)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"'{name}' must be RFC 3339 (2024-05-01T12:00:00Z), Unix seconds (1714564800) or a duration "
            f"ago (10m, 2h, 1d); got {value!r}."
        ) from None
    if parsed.tzinfo is None:
        raise ValidationError(f"'{name}' has no time zone: {value!r}. Add 'Z' or an offset such as '+02:00'.")
    return int(parsed.timestamp())


def human_size(n: int | float | None) -> str:
    if n is None:
        return "0 B"
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(size) < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"  # pragma: no cover
