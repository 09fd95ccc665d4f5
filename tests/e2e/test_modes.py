"""Read-only mode, toolsets, disabled tools and the audit log, through the SDK client on the real engine."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest
from mcp import Client
from mcp.types import ElicitResult

from mcp_docker.config import Settings
from mcp_docker.server import create_server
from tests.conftest import MODES, TEST_LABELS, allow_settings, error_text, structured

pytestmark = [pytest.mark.anyio, pytest.mark.engine]


@pytest.mark.parametrize("mode", MODES)
async def test_read_only_lists_safe_tools_only_and_hidden_tools_fail(
    mode: str,
    docker_client: docker.DockerClient,
    run_container: Callable[..., Any],
    test_image: str,
    unique: Callable[[str], str],
) -> None:
    c = run_container()
    name = unique("ro")
    async with Client(create_server(allow_settings(read_only=True)), mode=mode) as client:
        tools = (await client.list_tools()).tools
        assert tools and all(t.annotations and t.annotations.read_only_hint for t in tools)
        assert "docker_list_containers" in {t.name for t in tools}
        for tool, args in (
            ("docker_create_container", {"image": test_image, "name": name, "labels": TEST_LABELS}),
            ("docker_stop_container", {"container": c.name, "timeout": 0}),
            ("docker_remove_container", {"container": c.name, "force": True}),
            ("docker_exec_command", {"container": c.name, "command": ["touch", "/tmp/x"]}),
        ):
            assert tool in error_text(await client.call_tool(tool, args))
        structured(await client.call_tool("docker_list_containers", {}))
    assert docker_client.containers.get(c.name).status == "running"
    assert not docker_client.api.inspect_container(c.name)["ExecIDs"]
    assert docker_client.containers.list(all=True, filters={"name": name}) == []


@pytest.mark.parametrize("mode", MODES)
async def test_settings_are_checked_again_at_call_time(
    mode: str, docker_client: docker.DockerClient, run_container: Callable[..., Any]
) -> None:
    """A tool registered under one setting is refused when the setting changes: the wrapper checks again."""
    c = run_container()
    settings = allow_settings()
    async with Client(create_server(settings), mode=mode) as client:
        settings.read_only = True
        text = error_text(await client.call_tool("docker_stop_container", {"container": c.name, "timeout": 0}))
        assert "MCP_DOCKER_READ_ONLY" in text
        settings.read_only, settings.disabled_tools = False, ["docker_stop_container"]
        assert "MCP_DOCKER_DISABLED_TOOLS" in error_text(
            await client.call_tool("docker_stop_container", {"container": c.name, "timeout": 0})
        )
        settings.disabled_tools, settings.destructive = [], "deny"
        assert "MCP_DOCKER_DESTRUCTIVE=deny" in error_text(
            await client.call_tool("docker_remove_container", {"container": c.name, "force": True})
        )
    assert docker_client.containers.get(c.name).status == "running"


@pytest.mark.parametrize("mode", MODES)
async def test_toolsets_and_disabled_tools_narrow_the_list(
    mode: str, docker_client: docker.DockerClient, run_container: Callable[..., Any]
) -> None:
    c = run_container()
    async with Client(create_server(allow_settings(toolsets=["images"])), mode=mode) as client:
        assert not any(t.name.endswith("container") for t in (await client.list_tools()).tools)
        assert "docker_stop_container" in error_text(
            await client.call_tool("docker_stop_container", {"container": c.name})
        )
    async with Client(create_server(allow_settings(disabled_tools=["docker_exec_command"])), mode=mode) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert "docker_exec_command" not in names and "docker_list_containers" in names
        error_text(await client.call_tool("docker_exec_command", {"container": c.name, "command": ["id"]}))
    assert docker_client.containers.get(c.name).status == "running"
    assert not docker_client.api.inspect_container(c.name)["ExecIDs"]


def test_unknown_names_in_settings_fail_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="docker_nope"):
        create_server(Settings(disabled_tools=["docker_nope"]))
    with pytest.raises(ValueError, match="unknown toolset"):
        Settings(toolsets=["containers", "kubernetes"])
    with pytest.raises(ValueError, match="unknown capability"):
        Settings(allowed_capabilities=["SYS_ADMIN", "SUPERPOWERS"])
    with pytest.raises(ValueError, match="absolute"):
        Settings(allowed_bind_roots=["data"])
    with pytest.raises(ValueError, match="MCP_DOCKER_AUDIT_LOG"):
        create_server(Settings(audit_log=tmp_path / "missing-dir" / "audit.jsonl"))


async def _decline(context: Any, params: Any) -> ElicitResult:
    return ElicitResult(action="decline")


async def test_audit_log_records_state_changing_calls_with_secrets_redacted(
    tmp_path: Path, docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str]
) -> None:
    log = tmp_path / "audit.jsonl"
    name = unique("audited")
    async with Client(create_server(Settings(audit_log=log)), elicitation_callback=_decline) as client:
        structured(
            await client.call_tool(
                "docker_create_container",
                {
                    "image": test_image,
                    "name": name,
                    "labels": TEST_LABELS,
                    "command": ["sh", "-c", "sleep 300", "--password", "hunter2", "API_TOKEN=abc123"],
                    "environment": {"DB_PASSWORD": "s3cr3t-env", "PLAIN": "visible-but-env"},
                    "start": True,
                },
            )
        )
        error_text(
            await client.call_tool(
                "docker_create_container", {"image": test_image, "name": name + "x", "privileged": True}
            )
        )
        error_text(await client.call_tool("docker_remove_container", {"container": name, "force": True}))
        error_text(await client.call_tool("docker_remove_container", {"container": unique("ghost")}))
        error_text(await client.call_tool("docker_start_container", {"container": unique("ghost")}))
        structured(await client.call_tool("docker_list_containers", {}))
    assert docker_client.containers.get(name).status == "running"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    text = log.read_text()
    for secret in ("hunter2", "abc123", "s3cr3t-env", "visible-but-env"):
        assert secret not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert [(x["tool"], x["outcome"]) for x in lines] == [
        ("docker_create_container", "ok"),
        ("docker_create_container", "refused"),
        ("docker_remove_container", "declined"),
        ("docker_remove_container", "error"),
        ("docker_start_container", "error"),
    ]
    first = lines[0]
    assert first["level"] == "moderate" and first["time"].endswith("Z")
    assert first["arguments"]["name"] == name
    assert first["arguments"]["environment"] == {"DB_PASSWORD": "***", "PLAIN": "***"}
    assert first["arguments"]["command"] == ["sh", "-c", "sleep 300", "--password", "***", "API_TOKEN=***"]
    assert (
        "privileged" in lines[1]["detail"]
        and "No such container" in lines[3]["detail"]
        and "No such container" in lines[4]["detail"]
    )
