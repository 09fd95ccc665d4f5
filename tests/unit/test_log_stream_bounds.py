"""tools/log_stream.py without an engine: grep patterns refused with what to do, a line with no end kept
to its tail, the scan bound on an endless log, and a followed stream ended by its deadline (a stream
that breaks before the deadline is an error, not a short result)."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator

import anyio.to_thread
import pytest

from mcp_docker.tools import log_stream
from mcp_docker.tools.log_stream import Collected, Deadline, collect, compile_grep, read, result
from mcp_docker.utils.errors import ValidationError


def test_a_grep_pattern_too_long_or_invalid_is_refused_with_what_to_do() -> None:
    with pytest.raises(ValidationError, match="longer than 500 characters"):
        compile_grep("a" * 501, ignore_case=False)
    assert compile_grep("a" * 500, ignore_case=False) is not None
    with pytest.raises(ValidationError) as caught:
        compile_grep("(unclosed", ignore_case=False)
    assert "Invalid grep pattern '(unclosed'" in str(caught.value)
    assert "missing )" in caught.value.message and "RE2 regular expression" in caught.value.hint
    pattern = compile_grep("ERROR", ignore_case=True)
    assert pattern is not None and pattern.search("an error here")
    assert compile_grep(None, ignore_case=True) is None
    for backtracking_only in (r"(a)\1", r"(?=a)b", r"a(?!b)"):  # what RE2 cannot run in linear time
        with pytest.raises(ValidationError) as caught:
            compile_grep(backtracking_only, ignore_case=False)
        assert f"Invalid grep pattern {backtracking_only!r}" in caught.value.message
        assert "without backreferences or lookaround" in caught.value.hint


def test_a_catastrophic_pattern_over_a_hostile_line_ends_at_once(capfd: pytest.CaptureFixture[str]) -> None:
    """The attack: a pattern the model chooses, over lines a container writes. Python's `re` needs about
    2**n steps for `(a+)+$` over n 'a's and a 'b', holding the interpreter throughout (the event loop and
    every client with it); in a child process with a minute to spare the old compile_grep never ends."""
    script = (
        "from mcp_docker.tools.log_stream import compile_grep\n"
        "line = 'a' * 100_000 + 'b'\n"
        "for p in ['(a+)+$', '^(a|a)*$', '(.*a){20}$', '.*a.*a.*a.*a.*c']:\n"
        "    assert compile_grep(p, False).search(line) is None, p\n"
        "assert compile_grep('(a+)+b$', False).search(line)\n"
        "print('done')\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout == "done\n", out.stderr
    with pytest.raises(ValidationError):
        compile_grep("(", ignore_case=False)
    assert capfd.readouterr().err == ""  # RE2 logs nothing of a bad pattern on the protocol's neighbour


def test_a_line_with_no_end_keeps_only_its_tail_and_a_last_line_without_newline_counts() -> None:
    out = collect([b"a" * 30, b"b" * 30, b"c" * 5], Collected(max_bytes=10))
    assert out.text == "b" * 5 + "c" * 5  # never more than max_bytes * 4 held, then its newest bytes
    assert list(out.lines) == ["b" * 5 + "c" * 5] and out.seen == 1 and out.scanned == 65

    out = collect([b"one\ntw", b"o\nthree"], Collected(max_bytes=100))
    assert list(out.lines) == ["one\n", "two\n", "three"]


def test_grep_counts_matches_and_the_bound_keeps_the_newest() -> None:
    out = collect([b"err 1\nok\nerr 2\nerr 3\n"], Collected(max_bytes=12, grep=compile_grep("err", False)))
    assert out.seen == 4 and out.matches == 3
    assert out.text == "err 2\nerr 3\n" and out.dropped is True
    res = result("web", out, 12)
    assert res.matches == 3 and res.truncated is True and "newest 12 bytes" in (res.note or "")


def test_an_endless_log_stops_at_the_scan_bound_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(log_stream, "MAX_SCAN_BYTES", 100)
    pulled = 0

    def endless() -> Iterator[bytes]:
        nonlocal pulled
        while True:
            pulled += 1
            yield b"line\n" * 8  # 40 bytes

    batches: list[int] = []
    out = collect(endless(), Collected(max_bytes=1000), on_batch=batches.append)
    assert pulled == 3 and out.scanned == 120 and out.stopped_early is True
    assert batches == [8, 16, 24]
    res = result("web", out, 1000)
    assert res.truncated is True and res.lines == 24
    assert res.note == "Stopped reading after 100 bytes of log; narrow with since/until."


class FollowedStream:
    """An engine log stream being followed: yields `lines`, then blocks until closed; then it breaks the
    way a shut socket does. `fail_at_once` breaks it before any deadline (a connection reset)."""

    def __init__(self, lines: list[bytes], fail_at_once: bool = False) -> None:
        self.lines = lines
        self.closed = threading.Event()
        self.fail_at_once = fail_at_once

    def __iter__(self) -> Iterator[bytes]:
        yield from self.lines
        if self.fail_at_once:
            raise ConnectionResetError("connection reset by peer")
        assert self.closed.wait(30), "the deadline never closed the stream"
        raise OSError("stream closed")

    def close(self) -> None:
        self.closed.set()


class ProgressCtx:
    def __init__(self) -> None:
        self.progress: list[tuple[float, float | None, str | None]] = []

    async def report_progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        self.progress.append((progress, total, message))


@pytest.mark.anyio
async def test_following_ends_at_the_deadline_with_what_was_read() -> None:
    stream = FollowedStream([b"started\n", b"ready\n"])
    ctx = ProgressCtx()
    out = Collected(max_bytes=1000)
    await anyio.to_thread.run_sync(read, stream, out, 0.2, ctx)  # type: ignore[arg-type]
    assert stream.closed.is_set()
    assert out.text == "started\nready\n"
    assert ctx.progress and ctx.progress[0] == (1, None, "1 lines")  # one notification per batch, throttled


@pytest.mark.anyio
async def test_a_followed_stream_that_breaks_before_its_deadline_is_an_error() -> None:
    stream = FollowedStream([b"partial\n"], fail_at_once=True)
    with pytest.raises(ConnectionResetError):
        await anyio.to_thread.run_sync(read, stream, Collected(max_bytes=1000), 30.0, ProgressCtx())  # type: ignore[arg-type]
    assert not stream.closed.is_set()


def test_not_following_reads_to_the_end_and_closes() -> None:
    class Stream(list[bytes]):
        closed = False

        def close(self) -> None:
            self.closed = True

    stream = Stream([b"a\n", b"b\n"])
    out = Collected(max_bytes=100)
    read(stream, out, 0, ProgressCtx())  # type: ignore[arg-type]
    assert out.text == "a\nb\n" and stream.closed is True


def test_a_deadline_on_a_stream_without_close_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    failures: list[object] = []
    monkeypatch.setattr(threading, "excepthook", failures.append)
    deadline = Deadline(iter([b"x"]), 0.01)
    with deadline:
        assert deadline.expired.wait(10)
    deadline._timer.join(10)
    assert failures == []  # the timer thread ended cleanly: nothing to close is not an error


def test_a_pattern_anchored_at_the_line_end_matches_before_the_newline() -> None:
    """RE2's '$' is the end of the text; lines arrive with their newline (or CRLF), matched without it."""
    out = collect([b"foo\nbar\r\nbaz"], Collected(max_bytes=100, grep=compile_grep("(o|r|z)$", False)))
    assert out.matches == 3 and out.seen == 3
