"""The logs view's app-only tool: a container's log lines with stdout and stderr told apart.

docker_container_logs returns both streams merged (one text, as `docker logs` prints them). The view
asks for each stream through that same tool (same checks, limits, deadline, engine routing), with
timestamps, and this tool merges the two by time and tags each line with its stream. Models never
see it; clients without the MCP Apps extension are not offered it.
"""

import re
from typing import Annotated, Any

from mcp.types import CallToolResult, TextContent
from pydantic import Field

from mcp_docker.apps.app_tools import call_as_model, context_set
from mcp_docker.state import Ctx
from mcp_docker.tools.log_stream import ONLY_STREAM
from mcp_docker.tools.params import ContainerRef

LOGS = "docker_container_logs"
STREAMS = ("stdout", "stderr")
_STAMPED = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d) ?(.*)$", re.S)


def split_line(line: str) -> tuple[str, str, str]:
    """(sort key, the engine's timestamp, the text) of a timestamped log line. The engine writes RFC 3339
    with nanoseconds and drops trailing zeros, so the fraction is padded for the key."""
    match = _STAMPED.match(line)
    if match is None:
        return ("", "", line)
    seconds, fraction, zone, text = match.groups()
    return (f"{seconds}.{(fraction or '').ljust(9, '0')}{zone}", line[: match.start(4)].rstrip(" "), text)


def merge(texts: dict[str, str], tail: int | None) -> list[dict[str, str]]:
    """The lines of each stream's text, merged by time (a stream's own order kept), the newest `tail`."""
    keyed: list[tuple[str, int, int, dict[str, str]]] = []
    for order, (stream, text) in enumerate(texts.items()):
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        for index, line in enumerate(lines):
            key, time, body = split_line(line)
            keyed.append((key, order, index, {"stream": stream, "time": time, "text": body}))
    keyed.sort(key=lambda item: item[:3])
    rows = [row for *_, row in keyed]
    return rows[-tail:] if tail else rows


def log_lines_tool() -> Any:
    async def docker_app_log_lines(
        ctx: Ctx,
        container: ContainerRef,
        tail: Annotated[int, Field(description="Newest lines of the two streams together.", ge=1, le=5000)] = 200,
        since: Annotated[str | None, Field(description="As docker_container_logs.")] = None,
        grep: Annotated[str | None, Field(description="As docker_container_logs.")] = None,
        ignore_case: Annotated[bool, Field(description="As docker_container_logs.")] = False,
        host: Annotated[str | None, Field(description="The engine, where several are served.")] = None,
    ) -> CallToolResult:
        """For the logs view: the newest log lines, each with its stream (stdout or stderr) and time."""
        arguments: dict[str, Any] = {"container": container, "tail": tail, "timestamps": True}
        extra = {"since": since, "grep": grep, "ignore_case": ignore_case or None, "host": host}
        arguments.update({k: v for k, v in extra.items() if v is not None})
        texts: dict[str, str] = {}
        notes: list[str] = []
        truncated = False
        for stream in STREAMS:
            with context_set(ONLY_STREAM, stream):
                result = await call_as_model(ctx, LOGS, arguments)
            data = result.structured_content or {}
            texts[stream] = str(data.get("text") or "")
            truncated = truncated or bool(data.get("truncated"))
            if data.get("note"):
                notes.append(f"{stream}: {data['note']}")
        lines = merge(texts, tail)
        counts = {s: sum(1 for line in lines if line["stream"] == s) for s in STREAMS}
        summary = f"{len(lines)} lines of {container}: {counts['stdout']} stdout, {counts['stderr']} stderr."
        return CallToolResult(
            content=[TextContent(type="text", text=summary)],
            structured_content={
                "container": container,
                "lines": lines,
                "truncated": truncated,
                "note": " ".join(notes) or None,
            },
        )

    return docker_app_log_lines
