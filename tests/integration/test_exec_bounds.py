"""docker_exec_command reads its output as a stream and stops at MCP_DOCKER_MAX_OUTPUT_BYTES: a command
printing without end returns, the server's memory stays flat, and the process is killed."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest
from mcp import Client

from tests.conftest import stdio_params, structured

pytestmark = [pytest.mark.anyio, pytest.mark.engine]


def _processes(docker_client: docker.DockerClient, container: Any) -> list[str]:
    """The container's live processes (a killed orphan stays a zombie: its init, `sleep`, never reaps)."""
    rows = docker_client.api.top(container.id)["Processes"]
    return [row[-1] for row in rows if not row[-1].endswith("<defunct>")]


async def test_endless_output_is_cut_and_the_process_killed(
    client: Client, docker_client: docker.DockerClient, run_container: Callable[..., Any]
) -> None:
    container = run_container()
    data = structured(await client.call_tool("docker_exec_command", {"container": container.name, "command": ["yes"]}))
    assert data["truncated"] is True
    assert data["stopped"] is True
    assert data["exit_code"] not in (0, None)  # killed (137; Docker 20.10 sometimes reports 126)
    assert "process was killed" in data["note"] and "MCP_DOCKER_MAX_OUTPUT_BYTES" in data["note"]
    assert data["stdout"].startswith("y\n") and 1000 < len(data["stdout"]) <= 7500
    assert not any("yes" in p for p in _processes(docker_client, container))

    # The processes a shell started are stopped with it (yes and cat would run on without a reader).
    data = structured(
        await client.call_tool(
            "docker_exec_command", {"container": container.name, "command": ["sh", "-c", "yes | cat; echo never"]}
        )
    )
    assert data["stopped"] is True and "never" not in data["stdout"]
    assert _processes(docker_client, container) == ["sleep 300"]

    # Under the bound nothing changes: the whole output, the real exit code, no note.
    command = ["sh", "-c", "echo out; echo err >&2; exit 4"]
    data = structured(await client.call_tool("docker_exec_command", {"container": container.name, "command": command}))
    assert (data["stdout"], data["stderr"], data["exit_code"], data["truncated"]) == ("out\n", "err\n", 4, False)
    assert data["stopped"] is False and data.get("note") is None


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def _server_pid() -> int:
    """The stdio server this test started: a child of this process running `-m mcp_docker`."""
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if parent == me and b"mcp_docker" in cmdline:
            return int(entry.name)
    raise AssertionError("stdio server process not found")


async def test_100_mb_of_exec_output_leaves_the_server_memory_flat(
    docker_client: docker.DockerClient, run_container: Callable[..., Any]
) -> None:
    container = run_container()
    async with Client(stdio_params(), mode="legacy") as c:
        pid = _server_pid()
        warm = await c.call_tool("docker_exec_command", {"container": container.name, "command": ["echo", "warm"]})
        assert structured(warm)["stdout"] == "warm\n"
        before = _rss_mb(pid)
        data = structured(
            await c.call_tool(
                "docker_exec_command",
                {"container": container.name, "command": ["sh", "-c", "yes | head -c 100000000"]},
            )
        )
        after = _rss_mb(pid)
    assert data["truncated"] is True and data["stopped"] is True
    assert len(data["stdout"].encode()) <= 7500
    assert after - before < 30, f"server RSS grew from {before:.1f} MB to {after:.1f} MB"
    assert _processes(docker_client, container) == ["sleep 300"]
