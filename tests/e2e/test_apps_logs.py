"""The logs view's app-only tool: stdout and stderr told apart, through docker_container_logs itself.

Real engine, the in-memory Client with the MCP Apps extension; the view drawing the lines is checked
in tests/browser/test_views.py.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import pytest
from mcp.client import Client

from mcp_docker.apps.log_lines import merge, split_line
from tests.conftest import MODES, error_text, structured
from tests.e2e.test_apps import apps_client

pytestmark = [pytest.mark.anyio]

SCRIPT = "echo out-1; sleep 0.2; echo err-1 >&2; sleep 0.2; echo out-2; sleep 0.2; echo err-2 >&2; sleep 300"


def _printed(container: Any, count: int) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if len(container.logs().splitlines()) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"{container.name} did not print {count} lines")


@pytest.mark.parametrize("mode", MODES)
async def test_each_line_comes_with_its_stream_in_order(mode: str, run_container: Callable[..., Any]) -> None:
    web = run_container(["sh", "-c", SCRIPT])
    _printed(web, 4)
    async with apps_client(mode) as c:
        data = structured(await c.call_tool("docker_app_log_lines", {"container": web.name}))
        assert [(line["stream"], line["text"]) for line in data["lines"]] == [
            ("stdout", "out-1"),
            ("stderr", "err-1"),
            ("stdout", "out-2"),
            ("stderr", "err-2"),
        ]
        assert all(line["time"].startswith("20") for line in data["lines"])
        # tail counts the two streams together (the newest lines), grep applies to both.
        newest = structured(await c.call_tool("docker_app_log_lines", {"container": web.name, "tail": 2}))
        assert [line["text"] for line in newest["lines"]] == ["out-2", "err-2"]
        found = structured(await c.call_tool("docker_app_log_lines", {"container": web.name, "grep": "-2$"}))
        assert [(line["stream"], line["text"]) for line in found["lines"]] == [("stdout", "out-2"), ("stderr", "err-2")]
        # The model's own tool still returns both streams merged.
        merged = structured(await c.call_tool("docker_container_logs", {"container": web.name}))
        assert merged["text"].split() == ["out-1", "err-1", "out-2", "err-2"]


async def test_bad_input_is_the_logs_tools_own_error(run_container: Callable[..., Any]) -> None:
    web = run_container(["sh", "-c", SCRIPT])
    async with apps_client("auto") as c:
        bad = error_text(await c.call_tool("docker_app_log_lines", {"container": web.name, "grep": "("}))
        assert "Invalid grep pattern" in bad
        missing = error_text(await c.call_tool("docker_app_log_lines", {"container": "mcpt-no-such-container"}))
        assert "No such container" in missing


async def test_with_several_engines_the_view_reads_the_engine_it_shows(run_container: Callable[..., Any]) -> None:
    web = run_container(["sh", "-c", SCRIPT])
    _printed(web, 4)
    sock = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"  # the engine under test (conftest)
    async with apps_client("auto", hosts=f"main={sock},other={sock}") as c:
        data = structured(await c.call_tool("docker_app_log_lines", {"container": web.name, "host": "other"}))
        assert [line["stream"] for line in data["lines"]] == ["stdout", "stderr", "stdout", "stderr"]
        unknown = error_text(await c.call_tool("docker_app_log_lines", {"container": web.name, "host": "nope"}))
        assert "nope" in unknown


async def test_a_plain_client_cannot_call_it(run_container: Callable[..., Any]) -> None:
    from mcp_docker.server import create_server
    from tests.conftest import allow_settings

    web = run_container(["sh", "-c", SCRIPT])
    async with Client(create_server(allow_settings()), extensions=[]) as c:
        assert "Unknown tool" in error_text(await c.call_tool("docker_app_log_lines", {"container": web.name}))


def test_engine_timestamps_with_trimmed_fractions_sort_by_time() -> None:
    """The engine drops trailing zeros of the nanoseconds: .1 is later than .05, not earlier."""
    assert split_line("2026-12-02T01:00:00.1Z hello") == (
        "2026-12-02T01:00:00.100000000Z",
        "2026-12-02T01:00:00.1Z",
        "hello",
    )
    assert split_line("no stamp") == ("", "", "no stamp")
    rows = merge(
        {
            "stdout": "2026-12-02T01:00:00.1Z later\n2026-12-02T01:00:01Z last\n",
            "stderr": "2026-12-02T01:00:00.05Z first\n",
        },
        None,
    )
    assert [(r["stream"], r["text"]) for r in rows] == [("stderr", "first"), ("stdout", "later"), ("stdout", "last")]
    assert [r["text"] for r in merge({"stdout": "2026-12-02T01:00:00Z a\n2026-12-02T01:00:00Z b\n"}, 1)] == ["b"]


async def test_with_several_engines_the_containers_view_asks_about_the_engine_it_shows(
    run_container: Callable[..., Any],
) -> None:
    """The view passes the host of the call it shows (bridge.js); the removal request takes it on."""
    from mcp_docker.apps.app_tools import CONFIRM_META
    from tests.e2e.test_apps_confirmation import apps

    victim = run_container()
    sock = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    async with apps("auto", hosts=f"main={sock},other={sock}") as c:  # destructive=confirm
        args = {"container": victim.name, "force": True, "host": "other"}
        asked = await c.call_tool("docker_app_request_removal", args)
        card = (asked.meta or {})[CONFIRM_META]
        assert card["question"].startswith("On engine 'other':")
        pressed = structured(await c.call_tool("docker_app_confirm_removal", {"token": card["token"]}))
        assert pressed["removed"] is True
    import docker

    with pytest.raises(docker.errors.NotFound):
        victim.reload()
