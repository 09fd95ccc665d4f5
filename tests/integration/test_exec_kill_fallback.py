"""docker_exec_command past its output bound when the server may not signal the exec's processes (a
server under another user than the engine's containers): they are stopped by a `kill` exec inside the
container instead, against the real engine."""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import Any

import docker
import pytest
from mcp import Client

from mcp_docker.docker import exec_stream
from mcp_docker.server import create_server
from tests.conftest import allow_settings, structured

pytestmark = [pytest.mark.anyio, pytest.mark.engine]


def _live(docker_client: docker.DockerClient, container: Any) -> list[str]:
    rows = docker_client.api.top(container.id)["Processes"]
    return [row[-1] for row in rows if not row[-1].endswith("<defunct>")]


async def test_processes_the_server_may_not_signal_are_killed_from_inside(
    docker_client: docker.DockerClient, run_container: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    denied: list[int] = []

    def kill(pid: int, sig: int) -> None:
        denied.append(pid)
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(exec_stream, "os", type("DeniedOs", (), {"kill": staticmethod(kill)}))
    container = run_container()
    async with Client(create_server(allow_settings()), mode="legacy") as client:
        data = structured(
            await client.call_tool(
                "docker_exec_command", {"container": container.name, "command": ["sh", "-c", "yes | cat"]}
            )
        )
    assert denied, "the server never tried to signal the exec's processes (not visible from here?)"
    assert data["truncated"] is True and data["stopped"] is True
    assert "process was killed" in data["note"]
    assert _live(docker_client, container) == ["sleep 300"]  # sh, yes and cat are gone
