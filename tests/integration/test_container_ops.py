"""Everyday container operations against the real engine: top, pause/unpause, kill, rename, update; logs
grep and follow; stats of every running container. Every effect is checked on the engine itself."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import anyio
import docker
import pytest
from mcp import Client

from mcp_docker.docker.client import Engine
from mcp_docker.server import create_server
from tests.conftest import MODES, allow_settings, error_text, structured
from tests.engine import PREFIX
from tests.integration.test_faults import wait_for

pytestmark = [pytest.mark.anyio, pytest.mark.engine]
MISSING = f"{PREFIX}no-such-container"


async def test_top_lists_processes(client: Client, run_container: Callable[..., Any]) -> None:
    c = run_container(["sh", "-c", "sleep 301 & sleep 302"])
    time.sleep(0.5)
    data = structured(await client.call_tool("docker_container_top", {"container": c.name}))
    commands = " ".join(p["command"] for p in data["processes"])
    assert "sleep 301" in commands and "sleep 302" in commands and data["total"] >= 2
    assert all(p["pid"].isdigit() for p in data["processes"])
    assert "No such container" in error_text(await client.call_tool("docker_container_top", {"container": MISSING}))


async def test_pause_unpause(
    client: Client, run_container: Callable[..., Any], docker_client: docker.DockerClient
) -> None:
    c = run_container()
    assert structured(await client.call_tool("docker_pause_container", {"container": c.name}))["state"] == "paused"
    assert docker_client.api.inspect_container(c.id)["State"]["Paused"] is True
    assert structured(await client.call_tool("docker_unpause_container", {"container": c.name}))["state"] == "running"
    assert docker_client.api.inspect_container(c.id)["State"]["Paused"] is False
    # Not paused: the engine's bare 500 ("may be retried") becomes what is true, and nothing changes.
    text = error_text(await client.call_tool("docker_unpause_container", {"container": c.name}))
    assert f"Container {c.name!r} is not paused (it is running); nothing was changed." in text, text
    assert "may be retried" not in text and docker_client.api.inspect_container(c.id)["State"]["Running"] is True
    assert structured(await client.call_tool("docker_pause_container", {"container": c.name}))["state"] == "paused"
    text = error_text(await client.call_tool("docker_pause_container", {"container": c.name}))
    assert "already paused" in text and "if a name is taken, choose another" in text, text
    assert "choose another name" not in text  # the hint of a state conflict does not ask for a new name
    for tool in ("docker_pause_container", "docker_unpause_container"):
        assert "No such container" in error_text(await client.call_tool(tool, {"container": MISSING}))


async def test_kill_with_signal_reaches_the_process(client: Client, run_container: Callable[..., Any]) -> None:
    c = run_container(["sh", "-c", 'trap "echo got HUP > /tmp/hup" HUP; while true; do sleep 1; done'])
    time.sleep(0.5)
    data = structured(await client.call_tool("docker_kill_container", {"container": c.name, "signal": "SIGHUP"}))
    assert data["state"] == "running"
    deadline = time.monotonic() + 10
    while c.exec_run(["cat", "/tmp/hup"]).exit_code != 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert c.exec_run(["cat", "/tmp/hup"]).output == b"got HUP\n"
    for bad in ("SIGNOPE", "0", "65", "HUP;rm"):
        text = error_text(await client.call_tool("docker_kill_container", {"container": c.name, "signal": bad}))
        assert "Invalid signal" in text
    assert structured(await client.call_tool("docker_kill_container", {"container": c.name}))["state"] == "exited"
    assert "No such container" in error_text(await client.call_tool("docker_kill_container", {"container": MISSING}))


async def test_rename(
    client: Client, run_container: Callable[..., Any], docker_client: docker.DockerClient, unique: Callable[[str], str]
) -> None:
    c, other = run_container(), run_container()
    new = unique("renamed")
    data = structured(await client.call_tool("docker_rename_container", {"container": c.name, "new_name": new}))
    assert data == {"id": c.id[:12], "old_name": c.name, "name": new}
    assert docker_client.api.inspect_container(c.id)["Name"] == f"/{new}"
    text = error_text(await client.call_tool("docker_rename_container", {"container": new, "new_name": other.name}))
    assert "already taken" in text
    assert docker_client.api.inspect_container(c.id)["Name"] == f"/{new}"
    text = error_text(
        await client.call_tool("docker_rename_container", {"container": MISSING, "new_name": unique("x")})
    )
    assert "No such container" in text


async def test_update_limits(
    client: Client, run_container: Callable[..., Any], docker_client: docker.DockerClient
) -> None:
    c = run_container(mem_limit="64m")
    data = structured(
        await client.call_tool(
            "docker_update_container",
            {"container": c.name, "mem_limit": "96m", "cpus": 0.5, "restart_policy": "on-failure:3", "pids_limit": 50},
        )
    )
    host = docker_client.api.inspect_container(c.id)["HostConfig"]
    assert host["Memory"] == 96 * 1024 * 1024 and host["NanoCpus"] == 500_000_000
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3} and host["PidsLimit"] == 50
    assert data["mem_limit"] == 96 * 1024 * 1024 and data["cpus"] == 0.5 and data["restart_policy"] == "on-failure:3"
    assert "below the engine's minimum" in error_text(
        await client.call_tool("docker_update_container", {"container": c.name, "mem_limit": "1k"})
    )
    assert "Invalid restart policy" in error_text(
        await client.call_tool("docker_update_container", {"container": c.name, "restart_policy": "sometimes"})
    )
    assert "Nothing to update" in error_text(await client.call_tool("docker_update_container", {"container": c.name}))
    assert docker_client.api.inspect_container(c.id)["HostConfig"]["Memory"] == 96 * 1024 * 1024
    text = error_text(await client.call_tool("docker_update_container", {"container": MISSING, "cpus": 1}))
    assert "No such container" in text


async def test_logs_grep_only_matching_lines(client: Client, run_container: Callable[..., Any]) -> None:
    c = run_container(
        [
            "sh",
            "-c",
            "for i in $(seq 1 300); do echo \"line $i ok\"; done; echo 'ERROR disk full'; echo 'error again'; "
            "sleep 300",
        ]
    )
    deadline = time.monotonic() + 10
    while b"error again" not in c.logs() and time.monotonic() < deadline:
        time.sleep(0.1)
    data = structured(
        await client.call_tool("docker_container_logs", {"container": c.name, "grep": "error", "tail": None})
    )
    assert data["text"] == "error again\n" and data["matches"] == 1
    data = structured(
        await client.call_tool(
            "docker_container_logs", {"container": c.name, "grep": "error", "ignore_case": True, "tail": None}
        )
    )
    assert data["text"] == "ERROR disk full\nerror again\n" and data["matches"] == 2 and data["lines"] == 2
    data = structured(
        await client.call_tool("docker_container_logs", {"container": c.name, "grep": r"^line 2\d\d ", "tail": None})
    )
    assert data["matches"] == 100 and all(line.startswith("line 2") for line in data["text"].splitlines())
    text = error_text(await client.call_tool("docker_container_logs", {"container": c.name, "grep": "(unclosed"}))
    assert "Invalid grep pattern" in text


async def test_a_backtracking_grep_over_a_hostile_log_does_not_stall_the_server(
    client: Client, run_container: Callable[..., Any]
) -> None:
    """The attack: a container writes lines of 5,000 'a's and a 'b', the model greps them with `(a+)+$`.
    Python's `re` would need about 2**5000 steps a line, holding the interpreter; RE2 answers at once,
    and the other calls of the session go on."""
    c = run_container(
        ["sh", "-c", "x=$(printf 'a%.0s' $(seq 1 5000)); for i in 1 2 3; do echo \"${x}b\"; done; sleep 300"]
    )
    deadline = time.monotonic() + 10
    while c.logs().count(b"b\n") < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    for pattern, matches in (("(a+)+$", 0), ("^(a|aa)*$", 0), ("(a+)+b$", 3)):
        data = structured(
            await client.call_tool("docker_container_logs", {"container": c.name, "grep": pattern, "tail": None})
        )
        assert data["matches"] == matches, (pattern, data["matches"])
    version = structured(await client.call_tool("docker_version", {}))
    assert version["api_version"]
    text = error_text(await client.call_tool("docker_container_logs", {"container": c.name, "grep": r"(a)\1"}))
    assert "Invalid grep pattern '(a)\\\\1'" in text and "without backreferences or lookaround" in text, text


async def test_logs_follow_returns_lines_printed_during_the_window(
    client: Client, run_container: Callable[..., Any]
) -> None:
    c = run_container(["sh", "-c", "echo before; sleep 1.5; echo during-1; sleep 0.5; echo during-2; sleep 300"])
    time.sleep(0.5)
    progress: list[float] = []

    async def on_progress(p: float, total: float | None, message: str | None) -> None:
        progress.append(p)

    started = time.monotonic()
    result = await client.call_tool(
        "docker_container_logs", {"container": c.name, "follow_seconds": 4}, progress_callback=on_progress
    )
    data = structured(result)
    assert data["text"] == "before\nduring-1\nduring-2\n"
    assert time.monotonic() - started < 30  # it ended by itself, at its deadline
    assert progress  # a notification per batch of new lines


async def test_logs_of_a_large_log_stay_bounded(client: Client, run_container: Callable[..., Any]) -> None:
    c = run_container(
        ["sh", "-c", "yes 'a fairly long line of log output to fill the engine quickly' | head -n 200000; sleep 300"]
    )
    deadline = time.monotonic() + 30
    while len(c.logs(tail=200001).splitlines()) < 200000 and time.monotonic() < deadline:
        time.sleep(0.5)
    data = structured(await client.call_tool("docker_container_logs", {"container": c.name, "tail": None}))
    assert data["truncated"] is True and len(data["text"].encode()) <= 7500


async def test_stats_of_every_running_container(
    client: Client, run_container: Callable[..., Any], unique: Callable[[str], str]
) -> None:
    group = unique("stats")
    names = {run_container(labels={"group": group}).name for _ in range(3)}
    data = structured(await client.call_tool("docker_container_stats", {"filters": {"label": f"group={group}"}}))
    assert {s["container"] for s in data["containers"]} == names and data["total"] == 3
    assert all(s["running"] and s["pids"] >= 1 for s in data["containers"])
    assert data["pids"] == sum(s["pids"] for s in data["containers"])
    data = structured(
        await client.call_tool("docker_container_stats", {"filters": {"label": f"group={group}"}, "limit": 2})
    )
    assert len(data["containers"]) == 2 and data["truncated"] is True


@pytest.mark.parametrize("mode", MODES)
async def test_cancelled_follow_stops_at_once(mode: str, run_container: Callable[..., Any]) -> None:
    c = run_container(["sh", "-c", "while true; do echo tick; sleep 0.2; done"])
    eng = Engine()
    async with Client(create_server(allow_settings(), engine=eng), mode=mode) as cl:
        with anyio.move_on_after(1.5) as scope:
            await cl.call_tool("docker_container_logs", {"container": c.name, "follow_seconds": 60})
        assert scope.cancelled_caught
        # The worker thread was reading the followed stream; cancelling shut its socket, so it ends now.
        assert await wait_for(lambda: eng.inflight == 0, 10), "the cancelled follow is still reading"
        assert eng.aborted_connections >= 1
        data = structured(await cl.call_tool("docker_container_logs", {"container": c.name, "tail": 1}))
        assert data["text"] == "tick\n"
    eng.close()


async def test_read_only_mode_offers_only_the_safe_new_tools() -> None:
    async with Client(create_server(allow_settings(read_only=True))) as cl:
        names = {t.name for t in (await cl.list_tools()).tools}
    assert {"docker_list_files", "docker_read_file", "docker_container_top"} <= names
    assert not names & {
        "docker_copy_to_container",
        "docker_copy_from_container",
        "docker_pause_container",
        "docker_unpause_container",
        "docker_kill_container",
        "docker_rename_container",
        "docker_update_container",
    }
