"""Faults never hang: engine missing or stopped, restarted engine, cancelled and timed-out calls,
and many calls at once on one session.

Stopping an engine happens only to a second dockerd this module starts itself (tests/private_engine.py);
the shared engine is never stopped. Cancellation and concurrency run on the shared engine with
test-prefixed containers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import docker
import pytest
from mcp import Client

from mcp_docker.config import Settings
from mcp_docker.docker.client import Engine
from mcp_docker.server import create_server
from tests import engine as test_engine
from tests.conftest import MODES, TEST_LABELS, allow_settings, error_text, structured
from tests.private_engine import PrivateEngine

pytestmark = [pytest.mark.anyio, pytest.mark.engine]

FAST = 5.0  # seconds within which a call must answer when the engine is gone


@pytest.fixture(scope="module")
def second_engine() -> Iterator[PrivateEngine]:
    eng = PrivateEngine(storage_driver="vfs")
    try:
        client = eng.start()
        test_engine.ensure_test_image(client)
        yield eng
    finally:
        eng.destroy()


async def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    """Poll `condition` until true or `seconds` pass (a bound, not a measurement)."""
    with anyio.move_on_after(seconds):
        while not condition():
            await anyio.sleep(0.05)
    return condition()


async def timed_call(c: Client, tool: str, args: dict[str, Any]) -> tuple[Any, float]:
    start = time.monotonic()
    result = await c.call_tool(tool, args)
    return result, time.monotonic() - start


# --- engine down / restarted ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_engine_missing_at_start_still_lists_tools_and_answers_fast(mode: str, tmp_path: Path) -> None:
    eng = Engine(base_url=f"unix://{tmp_path}/missing.sock", connect_timeout=2)
    async with Client(create_server(allow_settings(), engine=eng), mode=mode) as c:
        tools = {t.name for t in (await c.list_tools()).tools}
        assert {"docker_list_containers", "docker_exec_command"} <= tools
        for tool, args in (
            ("docker_list_containers", {}),
            ("docker_inspect_container", {"container": "web"}),
            ("docker_container_logs", {"container": "web"}),
        ):
            result, took = await timed_call(c, tool, args)
            text = error_text(result)
            assert "Cannot reach the Docker engine" in text, text
            assert "mcp-docker doctor" in text and "DOCKER_HOST" in text
            assert took < FAST, (tool, took)


@pytest.mark.parametrize("mode", MODES)
async def test_engine_stopped_mid_session_then_restarted(
    mode: str, second_engine: PrivateEngine, unique: Callable[[str], str]
) -> None:
    second_engine.start()
    name = unique("fault")
    eng = Engine(base_url=second_engine.url)
    async with Client(create_server(allow_settings(), engine=eng), mode=mode) as c:
        created = structured(
            await c.call_tool(
                "docker_create_container",
                {
                    "image": test_engine.TEST_IMAGE,
                    "name": name,
                    "command": "sleep 300",
                    "labels": TEST_LABELS,
                    "network_mode": "none",
                },
            )
        )
        assert created["name"] == name
        assert second_engine.client.containers.get(name).status == "created"

        second_engine.stop()
        calls: list[tuple[str, dict[str, Any]]] = [
            ("docker_list_containers", {"all": True}),
            ("docker_inspect_container", {"container": name}),
        ]
        for tool, args in calls:
            result, took = await timed_call(c, tool, args)
            text = error_text(result)
            assert "Cannot reach the Docker engine" in text, text
            assert took < FAST, (tool, took)

        second_engine.start()
        listed = structured(await c.call_tool("docker_list_containers", {"all": True, "filters": {"name": name}}))
        assert [x["name"] for x in listed["containers"]] == [name]
        removed = structured(await c.call_tool("docker_remove_container", {"container": name, "force": True}))
        assert removed["removed"] is True
    with pytest.raises(docker.errors.NotFound):
        second_engine.client.containers.get(name)
    eng.close()


# --- cancellation and deadlines ------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_cancelled_exec_stops_its_engine_request(
    mode: str, run_container: Callable[..., Any], docker_client: docker.DockerClient
) -> None:
    container = run_container("sleep 300")
    eng = Engine()
    async with Client(create_server(allow_settings(), engine=eng), mode=mode) as c:
        with anyio.move_on_after(1.5) as scope:
            await c.call_tool("docker_exec_command", {"container": container.name, "command": ["sleep", "30"]})
        assert scope.cancelled_caught
        # The worker thread was blocked reading the exec stream for 30 s; cancelling shut its socket,
        # so the thread ends now, not when the command ends.
        assert await wait_for(lambda: eng.inflight == 0, 10), "the cancelled call's thread is still running"
        assert eng.aborted_connections >= 1
        # The session and the engine client still work afterwards.
        out = structured(await c.call_tool("docker_exec_command", {"container": container.name, "command": "echo ok"}))
        assert out["stdout"] == "ok\n"
    assert docker_client.containers.get(container.name).status == "running"
    eng.close()


async def test_call_past_its_deadline_is_stopped_and_says_outcome_unknown(run_container: Callable[..., Any]) -> None:
    container = run_container("sleep 300")
    eng = Engine()
    settings = allow_settings(tool_timeouts="docker_exec_command=1")
    async with Client(create_server(settings, engine=eng)) as c:
        result, took = await timed_call(c, "docker_exec_command", {"container": container.name, "command": "sleep 30"})
        text = error_text(result)
        assert "did not finish within 1 s" in text
        assert "whether it took effect is unknown" in text
        assert "inspect or list" in text and "MCP_DOCKER_TOOL_TIMEOUTS" in text
        assert took < 10
        assert await wait_for(lambda: eng.inflight == 0, 10)
        assert eng.aborted_connections >= 1
    eng.close()


# --- concurrency ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_200_concurrent_calls_on_one_session_all_answered_correctly(
    mode: str, run_container: Callable[..., Any]
) -> None:
    names = [run_container("sleep 300").name for _ in range(4)]
    results: dict[int, Any] = {}
    async with Client(create_server(allow_settings()), mode=mode) as c:

        async def one(i: int) -> None:
            if i % 2:
                results[i] = await c.call_tool("docker_inspect_container", {"container": names[i % 4]})
            else:
                results[i] = await c.call_tool("docker_list_containers", {"filters": {"name": names[i % 4]}})

        async with anyio.create_task_group() as tg:
            for i in range(200):
                tg.start_soon(one, i)
    assert len(results) == 200
    for i, result in results.items():
        data = structured(result)
        if i % 2:
            assert data["name"] == names[i % 4]
        else:
            assert [x["name"] for x in data["containers"]] == [names[i % 4]]


def barrier_command(tag: str, parties: int) -> list[str]:
    """Each call waits inside the container until `parties` calls have arrived: it can only finish if
    that many calls run at the same time."""
    script = (
        f'touch /tmp/{tag}-$$; while [ "$(ls /tmp | grep -c {tag}-)" -lt {parties} ]; do sleep 0.05; done; echo met'
    )
    return ["sh", "-c", script]


async def run_barrier(settings: Settings, container: str, calls: int, parties: int) -> list[Any]:
    results: list[Any] = []
    async with Client(create_server(settings)) as c:

        async def one() -> None:
            results.append(
                await c.call_tool(
                    "docker_exec_command", {"container": container, "command": barrier_command("b", parties)}
                )
            )

        async with anyio.create_task_group() as tg:
            for _ in range(calls):
                tg.start_soon(one)
    return results


async def test_calls_run_in_parallel_not_behind_a_lock(run_container: Callable[..., Any]) -> None:
    container = run_container("sleep 300").name
    settings = allow_settings(max_concurrency=8, tool_timeouts="docker_exec_command=30")
    results = await run_barrier(settings, container, calls=6, parties=6)
    assert [structured(r)["stdout"] for r in results] == ["met\n"] * 6


async def test_max_concurrency_bounds_calls_running_at_once(run_container: Callable[..., Any]) -> None:
    container = run_container("sleep 300").name
    # Two slots, three calls that need three at once: the first two wait until their deadline, then
    # the third gets a slot, finds three arrivals and finishes.
    settings = allow_settings(max_concurrency=2, tool_timeouts="docker_exec_command=3")
    results = await run_barrier(settings, container, calls=3, parties=3)
    timed_out = [r for r in results if r.is_error]
    met = [r for r in results if not r.is_error]
    assert len(timed_out) == 2 and len(met) == 1
    assert all("did not finish within 3 s" in error_text(r) for r in timed_out)
    assert structured(met[0])["stdout"] == "met\n"


@pytest.mark.parametrize("mode", MODES)
async def test_silent_engine_answers_within_the_connect_timeout(mode: str, tmp_path: Path) -> None:
    """An endpoint that accepts connections but never answers (a hung engine) is reported as
    unavailable after MCP_DOCKER_CONNECT_TIMEOUT, not waited on for the whole call timeout."""
    import socket

    path = tmp_path / "silent.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(64)
    try:
        eng = Engine(base_url=f"unix://{path}", connect_timeout=1)
        async with Client(create_server(allow_settings(), engine=eng), mode=mode) as c:
            result, took = await timed_call(c, "docker_list_containers", {})
            text = error_text(result)
            assert "did not answer within 1 s" in text and "MCP_DOCKER_CONNECT_TIMEOUT" in text
            assert "mcp-docker doctor" in text
            assert took < FAST
    finally:
        listener.close()
