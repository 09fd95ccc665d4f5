"""The server through a real MCP client: in-memory and over stdio, in both protocol eras."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest
from mcp import Client

from mcp_docker.server import create_server
from tests.conftest import MODES, TEST_LABELS, allow_settings, error_text, stdio_params, structured

pytestmark = [pytest.mark.anyio]

SNAPSHOTS = Path(__file__).parent / "__toolsnaps__"
UPDATE = os.environ.get("UPDATE_TOOLSNAPS") == "true"


def tool_snapshot(tool: Any) -> dict[str, Any]:
    """What a client sees of one tool: name, title, description, annotations, input and output schemas."""
    data: dict[str, Any] = tool.model_dump(mode="json", by_alias=True, exclude_none=True)
    return data


@pytest.mark.parametrize("mode", MODES)
async def test_tools_list_matches_snapshots(mode: str) -> None:
    """One snapshot per tool (tests/e2e/__toolsnaps__/<tool>.json). A missing, stale or different
    snapshot fails; `UPDATE_TOOLSNAPS=true uv run pytest tests/e2e/test_protocol.py` rewrites them (review
    the diff, and note schema changes in CHANGELOG.md)."""
    async with Client(create_server(allow_settings()), mode=mode) as c:
        tools = (await c.list_tools()).tools
    current = {t.name: json.dumps(tool_snapshot(t), indent=1, sort_keys=True) + "\n" for t in tools}
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        for old in SNAPSHOTS.glob("*.json"):
            if old.stem not in current:
                old.unlink()
        for name, text in current.items():
            (SNAPSHOTS / f"{name}.json").write_text(text)
    stored = {p.stem: p.read_text() for p in SNAPSHOTS.glob("*.json")}
    hint = "If intended, rerun with UPDATE_TOOLSNAPS=true and review the diff."
    assert sorted(set(current) - set(stored)) == [], f"tools without a snapshot. {hint}"
    assert sorted(set(stored) - set(current)) == [], f"snapshots of tools that are gone. {hint}"
    changed = sorted(name for name in current if current[name] != stored[name])
    assert changed == [], f"tools that differ from their snapshot: {changed}. {hint}"
    for t in tools:
        assert t.description and len(t.description) > 20, t.name
        assert t.output_schema is not None, t.name
        assert t.input_schema.get("additionalProperties") is False, t.name
        for name, prop in t.input_schema.get("properties", {}).items():
            assert prop.get("description") or name in {"ctx"}, (t.name, name)


@pytest.mark.parametrize("mode", MODES)
async def test_annotations_follow_levels(mode: str) -> None:
    async with Client(create_server(allow_settings()), mode=mode) as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
    assert tools["docker_list_containers"].annotations.read_only_hint is True
    assert tools["docker_remove_container"].annotations.destructive_hint is True
    assert not tools["docker_remove_container"].annotations.read_only_hint  # false: the spec default, left out
    assert tools["docker_start_container"].annotations.destructive_hint is False
    assert tools["docker_exec_command"].annotations.destructive_hint is True


@pytest.mark.parametrize("mode", MODES)
async def test_unknown_tool_and_bad_types_are_errors(mode: str, docker_client: docker.DockerClient) -> None:
    async with Client(create_server(allow_settings()), mode=mode) as c:
        bad = await c.call_tool("docker_list_containers", {"limit": "many"})
        assert "limit" in error_text(bad)
        unknown = await c.call_tool("docker_no_such_tool", {})
        assert "docker_no_such_tool" in error_text(unknown)


@pytest.mark.engine
@pytest.mark.parametrize("mode", MODES)
async def test_stdio_subprocess_serves_real_engine(
    mode: str, docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str]
) -> None:
    name = unique("stdio")
    async with Client(stdio_params(), mode=mode) as c:
        assert c.server_info is not None and c.server_info.name == "mcp-docker"
        assert "Docker engine" in (c.instructions or "")
        names = {t.name for t in (await c.list_tools()).tools}
        assert {"docker_list_containers", "docker_exec_command", "docker_container_stats"} <= names

        created = structured(
            await c.call_tool(
                "docker_create_container",
                {
                    "image": test_image,
                    "name": name,
                    "command": "sleep 300",
                    "labels": TEST_LABELS,
                    "start": True,
                },
            )
        )
        assert created["state"] == "running"
        assert docker_client.containers.get(name).status == "running"

        listed = structured(await c.call_tool("docker_list_containers", {"filters": {"name": name}}))
        assert [x["name"] for x in listed["containers"]] == [name]

        out = structured(await c.call_tool("docker_exec_command", {"container": name, "command": ["echo", "ok"]}))
        assert out["stdout"] == "ok\n"

        missing = await c.call_tool("docker_inspect_container", {"container": "mcpt-ghost"})
        assert missing.is_error
        assert "No such container 'mcpt-ghost'" in missing.content[0].text

        removed = structured(await c.call_tool("docker_remove_container", {"container": name, "force": True}))
        assert removed["removed"] is True
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(name)


async def test_stdio_engine_down_still_serves_with_clear_error(tmp_path: Path) -> None:
    params = stdio_params({"DOCKER_HOST": f"unix://{tmp_path}/missing.sock", "MCP_DOCKER_CONNECT_TIMEOUT": "2"})
    async with Client(params, mode="legacy") as c:
        tools = (await c.list_tools()).tools
        assert len(tools) >= 10
        result = await c.call_tool("docker_list_containers", {})
        text = error_text(result)
        assert "Cannot reach the Docker engine" in text
        assert f"Endpoint: unix://{tmp_path}/missing.sock." in text, text  # which engine, said once
        assert text.count("missing.sock") == 1 and "mcp-docker doctor" in text
        # Asking the engine what a removal would lose, before asking the person, says it the same way.
        text = error_text(await c.call_tool("docker_remove_container", {"container": "xq-any"}))
        assert "Cannot reach the Docker engine" in text and "Endpoint: unix://" in text, text
