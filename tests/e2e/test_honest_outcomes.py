"""Outcomes that used to be silent or mislabelled: each now says what really happened."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import INTERNAL_ERROR, INVALID_PARAMS

from mcp_docker import tools
from mcp_docker.docker.client import Engine
from mcp_docker.server import create_server
from tests.conftest import allow_settings, error_text

pytestmark = [pytest.mark.anyio]


def test_a_typo_in_the_tool_module_list_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tools, "TOOL_MODULES", (*tools.TOOL_MODULES, "mcp_docker.tools.contianer_tools"))
    with pytest.raises(ModuleNotFoundError, match="contianer_tools"):
        tools.all_tools()


def test_health_reports_a_bug_as_a_bug(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    eng = Engine(base_url=f"unix://{tmp_path}/missing.sock", connect_timeout=1)
    assert eng.health().reachable is False  # really unreachable: said so
    broken = Engine(base_url=f"unix://{tmp_path}/missing.sock", connect_timeout=1)

    def bug(self: Engine) -> Any:
        raise TypeError("a bug in the server")

    monkeypatch.setattr(Engine, "client", property(bug))
    with pytest.raises(TypeError, match="a bug in the server"):
        broken.health()


async def test_an_engine_that_is_down_is_not_invalid_params(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/missing.sock")
    async with Client(create_server(allow_settings(connect_timeout=1))) as c:
        with pytest.raises(MCPError) as info:
            await c.get_prompt("troubleshoot_container", {"container": "web"})
    assert info.value.error.code == INTERNAL_ERROR
    assert "engine" in info.value.error.message.lower()


async def test_a_missing_container_is_invalid_params(docker_client: Any) -> None:
    async with Client(create_server(allow_settings())) as c:
        with pytest.raises(MCPError) as info:
            await c.get_prompt("troubleshoot_container", {"container": "mcpt-ghost-honest"})
    assert info.value.error.code == INVALID_PARAMS


async def test_refusals_by_host_marks_reach_the_audit_log(tmp_path: Path, docker_client: Any) -> None:
    sock = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    log = tmp_path / "audit.jsonl"
    settings = allow_settings(hosts=f"main={sock},mirror={sock}(ro)", audit_log=str(log))
    async with Client(create_server(settings)) as c:
        text = error_text(await c.call_tool("docker_create_container", {"image": "x", "host": "mirror"}))
    assert "read-only" in text
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["tool"], e["outcome"]) for e in lines] == [("docker_create_container", "refused")]
    assert "read-only" in lines[0]["detail"]
