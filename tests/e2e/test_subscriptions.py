"""Resource subscriptions through the SDK Client, in both protocol eras, driven by a real container."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import ResourceUpdated
from mcp.types import ResourceUpdatedNotification

from mcp_docker.server import create_server
from tests.conftest import allow_settings

pytestmark = [pytest.mark.anyio, pytest.mark.engine]


def _printer(run_container: Callable[..., Any]) -> Any:
    """A container that prints a line whenever /tmp/go appears (then removes it)."""
    return run_container(
        ["sh", "-c", "while true; do if [ -e /tmp/go ]; then rm /tmp/go; echo tick; fi; sleep 0.1; done"]
    )


def _print(container: Any) -> None:
    assert container.exec_run(["touch", "/tmp/go"]).exit_code == 0


def _watching(name: str) -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.endswith(f"-{name}") and t.is_alive()]


async def _wait(updates: list[str], n: int, seconds: float = 10) -> None:
    with anyio.move_on_after(seconds):
        while len(updates) < n:
            await anyio.sleep(0.05)


async def test_legacy_subscribe_updates_then_none_after_unsubscribe(run_container: Callable[..., Any]) -> None:
    container = _printer(run_container)
    uri = f"docker://containers/{container.name}/logs"
    updates: list[str] = []

    async def on_message(message: Any) -> None:
        root = getattr(message, "root", message)
        if isinstance(root, ResourceUpdatedNotification):
            updates.append(str(root.params.uri))

    server = create_server(allow_settings())
    async with Client(server, mode="legacy", message_handler=on_message) as c:
        resources = c.server_capabilities.resources
        assert resources is not None and resources.subscribe is True
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            await c.subscribe_resource(uri)
            await anyio.sleep(0.5)
            _print(container)
            await _wait(updates, 1)
            assert updates and updates[0] == uri  # the container printed: an update came
            await c.unsubscribe_resource(uri)
            await anyio.sleep(1)
            seen = len(updates)
            _print(container)
            await anyio.sleep(2)
            assert len(updates) == seen  # none after unsubscribing
            assert not _watching(container.name)  # and nothing runs for it any more
            with pytest.raises(MCPError, match="No such container"):
                await c.subscribe_resource("docker://containers/mcpt-no-such-container/logs")


async def test_modern_listen_updates_on_print_and_on_events(run_container: Callable[..., Any]) -> None:
    container = _printer(run_container)
    logs, stats = (f"docker://containers/{container.name}/{k}" for k in ("logs", "stats"))
    updates: list[str] = []
    async with Client(create_server(allow_settings()), mode="auto") as c:
        resources = c.server_capabilities.resources
        assert resources is not None and resources.subscribe is True
        async with c.listen(resource_subscriptions=[logs, stats]) as sub:

            async def read() -> None:
                async for event in sub:
                    if isinstance(event, ResourceUpdated):
                        updates.append(event.uri)

            async with anyio.create_task_group() as tg:
                tg.start_soon(read)
                await anyio.sleep(0.5)
                _print(container)
                await _wait(updates, 1)
                assert logs in updates
                container.pause()  # an engine event: the stats changed
                try:
                    await _wait([u for u in updates if u == stats], 1, 1)
                    deadline = time.monotonic() + 10
                    while stats not in updates and time.monotonic() < deadline:
                        await anyio.sleep(0.1)
                finally:
                    container.unpause()
                assert stats in updates
                tg.cancel_scope.cancel()


async def test_subscription_ends_when_the_container_is_gone(run_container: Callable[..., Any]) -> None:
    container = _printer(run_container)
    uri = f"docker://containers/{container.name}/stats"
    updates: list[str] = []

    async def on_message(message: Any) -> None:
        root = getattr(message, "root", message)
        if isinstance(root, ResourceUpdatedNotification):
            updates.append(str(root.params.uri))

    async with Client(create_server(allow_settings()), mode="legacy", message_handler=on_message) as c:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            await c.subscribe_resource(uri)
        await anyio.sleep(0.5)
        assert _watching(container.name)
        container.remove(force=True)
        await _wait(updates, 1)
        assert updates and set(updates) == {uri}
        deadline = time.monotonic() + 10
        while _watching(container.name) and time.monotonic() < deadline:
            await anyio.sleep(0.1)
        assert not _watching(container.name)
