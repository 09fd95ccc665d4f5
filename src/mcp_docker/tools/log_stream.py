"""Reading a container's logs as a stream: memory-bounded (the newest lines within the output bound),
filtered by a regular expression (RE2: linear time) on the server, and optionally followed for a few seconds.

The engine's stream is read chunk by chunk, never whole: only the newest matching lines that fit
`max_bytes` are kept, and reading stops after `MAX_SCAN_BYTES` (said in the note). Following ends at
its deadline by shutting the stream's socket, and a cancelled call shuts it the same way (the call's
connections are aborted), so the worker thread stops at once.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio.from_thread

from mcp_docker.state import Ctx
from mcp_docker.tools.container_models import LogsResult
from mcp_docker.utils.errors import ValidationError
from mcp_docker.utils.output import clean_text, cut_bytes

MAX_SCAN_BYTES = 256 * 1024 * 1024
"""Most log bytes one call reads from the engine (tail=null on a huge log stops here, and says so)."""
MAX_PATTERN = 500

ONLY_STREAM: ContextVar[str | None] = ContextVar("mcp_docker_only_stream", default=None)
"""Set ("stdout" or "stderr") by the logs view's app-only tool around its docker_container_logs calls:
that call then reads one of the two streams, so the view can tell them apart."""


class Pattern(Protocol):
    """A compiled grep pattern (RE2's)."""

    def search(self, text: str) -> object: ...


def compile_grep(pattern: str | None, ignore_case: bool) -> Pattern | None:
    """`pattern` compiled by RE2, whose matching takes time linear in the line. The model chooses the
    pattern and a container writes the lines: with Python's backtracking `re`, `(a+)+$` over a line of 30
    'a's held the interpreter (every client's calls, the event loop) for a minute, and each 'a' more doubles
    it; no deadline can stop a match in progress."""
    if pattern is None:
        return None
    if len(pattern) > MAX_PATTERN:
        raise ValidationError(f"The grep pattern is longer than {MAX_PATTERN} characters.")
    import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

    options = re2.Options()
    options.log_errors = False  # a bad pattern is the model's error, said to it, not logged by RE2 on stderr
    options.case_sensitive = not ignore_case
    try:
        compiled: Pattern = re2.compile(pattern, options)
    except re2.error as exc:
        said = exc.args[0] if exc.args else exc
        reason = said.decode("utf-8", "replace") if isinstance(said, bytes) else str(said)
        raise ValidationError(
            f"Invalid grep pattern {pattern!r}: {reason}.",
            "Use an RE2 regular expression (Python's syntax without backreferences or lookaround), e.g. 'error|warn'.",
        ) from None
    return compiled


@dataclass
class Collected:
    """The newest kept lines and what was seen on the way."""

    max_bytes: int
    grep: Pattern | None = None
    lines: deque[str] = field(default_factory=deque)
    size: int = 0
    seen: int = 0
    matches: int = 0
    dropped: bool = False
    scanned: int = 0
    stopped_early: bool = False

    def add(self, line: str) -> None:
        self.seen += 1
        text = clean_text(line)
        # Matched without its line end: RE2's '$' is the end of the text, not also before a final newline.
        if self.grep is not None and not self.grep.search(text.removesuffix("\n").removesuffix("\r")):
            return
        self.matches += 1
        text, _ = cut_bytes(text, self.max_bytes, keep="tail")
        n = len(text.encode("utf-8"))
        self.lines.append(text)
        self.size += n
        while self.size > self.max_bytes and len(self.lines) > 1:
            self.size -= len(self.lines.popleft().encode("utf-8"))
            self.dropped = True

    @property
    def text(self) -> str:
        return "".join(self.lines)


def collect(
    chunks: Iterable[bytes],
    out: Collected,
    on_batch: Callable[[int], None] | None = None,
) -> Collected:
    """Split the engine's chunks into lines and keep the newest within the bound."""
    pending = b""
    for chunk in chunks:
        out.scanned += len(chunk)
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for raw in complete:
            out.add(raw.decode("utf-8", "replace") + "\n")
        if len(pending) > out.max_bytes * 4:  # a line with no end in sight: keep its tail only
            pending = pending[-out.max_bytes :]
        if on_batch is not None and complete:
            on_batch(out.matches)
        if out.scanned >= MAX_SCAN_BYTES:
            out.stopped_early = True
            break
    if pending:
        out.add(pending.decode("utf-8", "replace"))
    return out


class Deadline:
    """Ends a followed stream after `seconds` by closing it from a timer thread."""

    def __init__(self, stream: object, seconds: float) -> None:
        self.expired = threading.Event()
        self._stream = stream
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def _expire(self) -> None:
        self.expired.set()
        close = getattr(self._stream, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):  # the reader notices the closed stream either way
                close()

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


def throttled(report: Callable[[int], None], every: float = 0.25) -> Callable[[int], None]:
    """Call `report` at most once per `every` seconds (a progress notification per batch, not per line)."""
    last = 0.0

    def call(n: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= every:
            last = now
            report(n)

    return call


def read(stream: Any, out: Collected, follow_seconds: float, ctx: Ctx) -> None:
    """Read the engine's log stream into `out`; when following, until `follow_seconds` have passed, with a
    progress notification per batch of new lines."""
    if follow_seconds <= 0:
        try:
            collect(stream, out)
        finally:
            stream.close()
        return
    report = throttled(lambda n: anyio.from_thread.run(ctx.report_progress, n, None, f"{n} lines"))
    with Deadline(stream, follow_seconds) as deadline:
        try:
            collect(stream, out, report)
        except Exception:
            if not deadline.expired.is_set():
                raise


def result(container: str, out: Collected, limit: int) -> LogsResult:
    notes = []
    if out.dropped:
        notes.append(f"Output cut to the newest {limit} bytes; use tail/since/until/grep to see more.")
    if out.stopped_early:
        notes.append(f"Stopped reading after {MAX_SCAN_BYTES} bytes of log; narrow with since/until.")
    return LogsResult(
        container=container,
        lines=len(out.lines),
        text=out.text,
        truncated=out.dropped or out.stopped_early,
        matches=out.matches if out.grep is not None else None,
        note=" ".join(notes) or None,
    )
