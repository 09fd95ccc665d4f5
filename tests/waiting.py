"""Waiting in tests: for a condition (one helper for sync code, one for async tests, which must never
block the event loop with time.sleep), and for a process the tests started to end."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable

import anyio


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.1) -> bool:
    """Poll `predicate` until it is true or `timeout` seconds pass; return its last truth."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


async def eventually(predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.1) -> bool:
    """`wait_until` for async tests: sleeps with anyio, so other tasks (the server) keep running."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        await anyio.sleep(interval)


def stop_process(process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """End a process the tests started: SIGTERM, up to `timeout` seconds, then SIGKILL."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
