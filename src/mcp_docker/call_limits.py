"""Limits around every tool call: how many run at once, and how long one may take.

No global lock: calls run in parallel on worker threads, at most `MCP_DOCKER_MAX_CONCURRENCY` at a
time (the others wait their turn). Each call has a deadline (`MCP_DOCKER_CALL_TIMEOUT`, or
`MCP_DOCKER_LONG_CALL_TIMEOUT` for long jobs, or a per-tool value from `MCP_DOCKER_TOOL_TIMEOUTS`);
past it the call is cancelled, which stops its engine requests, and the model is told whether
anything may have changed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import anyio

from mcp_docker.safety.levels import Level
from mcp_docker.utils.errors import OperationTimeout

if TYPE_CHECKING:
    from mcp_docker.config import Settings


def timed_out(tool: str, level: Level, seconds: float) -> OperationTimeout:
    """The error for a call stopped at its deadline: a write's outcome is unknown and must be checked."""
    setting = f"MCP_DOCKER_TOOL_TIMEOUTS={tool}=SECONDS"
    if level == Level.SAFE:
        return OperationTimeout(
            f"{tool} did not finish within {seconds:g} s and was stopped; nothing was changed.",
            f"Ask for less (limit, tail, filters) or raise the limit with {setting}.",
        )
    return OperationTimeout(
        f"{tool} did not finish within {seconds:g} s and was stopped; whether it took effect is unknown.",
        "Do not retry blindly: check the object's current state first (inspect or list it), then decide. "
        f"If the job needs longer, raise the limit with {setting}.",
    )


def new_limiter(settings: Settings) -> anyio.CapacityLimiter:
    return anyio.CapacityLimiter(settings.max_concurrency)


@asynccontextmanager
async def call_guard(
    limiter: anyio.CapacityLimiter, settings: Settings, tool: str, level: Level, long_job: bool
) -> AsyncIterator[None]:
    """Wait for a free slot, then run the block under the tool's deadline."""
    seconds = settings.timeout_for(tool, long_job)
    async with limiter:
        try:
            with anyio.fail_after(seconds):
                yield
        except TimeoutError:
            raise timed_out(tool, level, seconds) from None
