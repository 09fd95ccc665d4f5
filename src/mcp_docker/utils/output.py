"""Shaping engine text for a model: untrusted, so cleaned, bounded and redacted.

Everything here is pure (no engine), so it is unit-tested directly.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from datetime import datetime

from mcp_docker.utils.errors import ValidationError

# CSI / OSC / other escape sequences, then C0/C1 controls (but tab and newline).
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Characters a reader does not see: every format character (Unicode category Cf: zero-width
# spaces and joiners, word joiner, BOM, bidi controls, soft hyphen, tag characters U+E0000-E007F),
# variation selectors, Hangul fillers and the Mongolian vowel separator. A unit test checks that
# this covers every Cf character Python's Unicode database knows.
_INVISIBLE = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001345f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e0fff]"
)
# Line and paragraph separators break lines like a newline does: they become one.
_SEPARATORS = re.compile("[\u2028\u2029\x85]")

REDACTED = "***"


def clean_text(text: str, max_bytes: int | None = None) -> str:
    """Strip ANSI escapes, control characters (C0/C1 but tab and newline) and invisible format
    characters; line separators become newlines; optionally cut to `max_bytes` (UTF-8)."""
    text = text.replace("\r\n", "\n")
    text = _ANSI.sub("", text)
    text = _SEPARATORS.sub("\n", text.replace("\r", "\n"))
    text = _CONTROL.sub("", text)
    text = _INVISIBLE.sub("", text)
    if max_bytes is not None:
        text, _ = cut_bytes(text, max_bytes)
    return text


def cut_bytes(text: str, max_bytes: int, keep: str = "head") -> tuple[str, bool]:
    """Cut `text` to at most `max_bytes` of UTF-8, keeping the head or the tail; say if it was cut."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text, False
    if keep == "tail":
        return data[-max_bytes:].decode("utf-8", "ignore"), True
    return data[:max_bytes].decode("utf-8", "ignore"), True


def bounded_tail(text: str, max_bytes: int) -> tuple[str, bool]:
    """Keep whole lines from the end of `text` within `max_bytes`; say whether anything was dropped."""
    if len(text.encode("utf-8")) <= max_bytes:
        return text, False
    kept: list[str] = []
    size = 0
    for line in reversed(text.splitlines(keepends=True)):
        n = len(line.encode("utf-8"))
        if size + n > max_bytes:
            if not kept:  # a single huge line: keep its end
                kept.append(cut_bytes(line, max_bytes, keep="tail")[0])
            break
        kept.append(line)
        size += n
    return "".join(reversed(kept)), True


def engine_text(data: bytes | str | None, max_bytes: int) -> tuple[str, bool]:
    """Text from the engine (logs, exec output) as a model may read it: decoded, cleaned, and cut to the
    newest whole lines within `max_bytes`; says whether anything was dropped."""
    return bounded_tail(clean_text(decode(data)), max_bytes)


def line_count(text: str) -> int:
    return text.count("\n") + (1 if text and not text.endswith("\n") else 0)


def decode(data: bytes | str | None) -> str:
    if data is None:
        return ""
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data


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
