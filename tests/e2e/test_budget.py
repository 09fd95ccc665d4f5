"""Token budget: sizes of what a model reads, measured through a real client (sizes, so they may assert)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from mcp import Client

from mcp_docker.config import Settings
from mcp_docker.safety.levels import refusal
from mcp_docker.server import create_server
from mcp_docker.tools import all_tools
from tests.conftest import allow_settings, structured
from tests.waiting import eventually

pytestmark = [pytest.mark.anyio, pytest.mark.engine]

KB = 1024


def default_tools(settings: Settings) -> list[str]:
    """The tools the default toolsets offer, computed from the declarations (never a literal count)."""
    return sorted(n for n, s in all_tools().items() if refusal(n, s.lowest_level(), s.toolset, settings) is None)


def text_of(result: Any) -> str:
    return "".join(block.text for block in result.content if getattr(block, "type", "") == "text")


EVERYDAY_TOOLS = {
    "docker_list_files",
    "docker_read_file",
    "docker_copy_to_container",
    "docker_copy_from_container",
    "docker_container_top",
    "docker_pause_container",
    "docker_unpause_container",
    "docker_kill_container",
    "docker_rename_container",
    "docker_update_container",
}
"""Tools added after the seed's: the seed's tools must fit a smaller budget, so new ones cost no one more."""


def _size(tools: list[Any]) -> int:
    """Measured as sent: compact JSON, as the SDK serialises it."""
    dump = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]
    return len(json.dumps(dump, separators=(",", ":")).encode())


@pytest.mark.parametrize("destructive", ["confirm", "allow"])
async def test_tools_list_budget(destructive: str) -> None:
    settings = allow_settings(destructive=destructive)  # every tool of the default toolsets
    async with Client(create_server(settings)) as c:
        tools = (await c.list_tools()).tools
    assert sorted(t.name for t in tools) == default_tools(settings)
    seed = [t for t in tools if t.name not in EVERYDAY_TOOLS]
    assert _size(seed) <= 30 * KB, f"the seed's {len(seed)} tools: {_size(seed)} bytes"
    assert _size(tools) <= 40 * KB, f"tools/list is {_size(tools)} bytes for {len(tools)} tools"


async def test_list_of_20_containers_under_4_kb(
    run_container: Callable[..., Any], unique: Callable[[str], str]
) -> None:
    group = unique("budget")
    for _ in range(20):
        run_container(labels={"group": group})
    async with Client(create_server(allow_settings())) as c:
        result = await c.call_tool("docker_list_containers", {"filters": {"label": f"group={group}"}})
    assert structured(result)["total"] == 20
    size = len(text_of(result).encode())
    assert size <= 4 * KB, f"{size} bytes"


async def test_default_logs_under_8_kb(run_container: Callable[..., Any]) -> None:
    c = run_container(["sh", "-c", "for i in $(seq 1 500); do echo \"line $i: $(seq -s ' ' 1 40)\"; done; sleep 300"])
    await eventually(lambda: b"line 500:" in c.logs())
    async with Client(create_server(allow_settings())) as cl:
        result = await cl.call_tool("docker_container_logs", {"container": c.name})
    data = structured(result)
    assert data["truncated"] is True  # 100 lines of ~120 bytes do not fit: the bound is what holds
    size = len(text_of(result).encode())
    assert size <= 8 * KB, f"{size} bytes"


async def test_inspect_under_4_kb(run_container: Callable[..., Any]) -> None:
    env = {f"VAR_{i}": "x" * 40 for i in range(15)}
    c = run_container(environment=env, labels={f"label.{i}": "value" for i in range(10)})
    async with Client(create_server(allow_settings())) as cl:
        result = await cl.call_tool("docker_inspect_container", {"container": c.name})
    size = len(text_of(result).encode())
    assert size <= 4 * KB, f"{size} bytes"
