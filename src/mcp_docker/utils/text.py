"""Engine text made safe to show a model: cleaned of what a reader cannot see, and bounded.

Pure and free of the project's other modules, so both `errors` (which fences engine output in its
messages) and `output` use it without importing each other.
"""

from __future__ import annotations

import re

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
