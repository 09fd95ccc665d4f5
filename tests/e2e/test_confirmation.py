"""Confirmation of destructive calls through MCP elicitation, in both protocol eras, on the real engine.

The user's answer comes from the client's elicitation callback; the model has no argument to give it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import docker
import pytest
from mcp import Client
from mcp.types import ElicitRequestParams, ElicitResult

from mcp_docker.config import Settings
from mcp_docker.server import create_server
from tests.conftest import MODES, error_text, structured

pytestmark = [pytest.mark.anyio, pytest.mark.engine]


class User:
    """An elicitation callback that answers like a user would and remembers what it was asked."""

    def __init__(self, action: str, confirm: bool = True) -> None:
        self.action = action
        self.confirm = confirm
        self.questions: list[str] = []

    async def __call__(self, context: Any, params: ElicitRequestParams) -> ElicitResult:
        self.questions.append(params.message)
        assert params.requested_schema["properties"]["confirm"]["type"] == "boolean"  # type: ignore[union-attr]
        if self.action == "accept":
            return ElicitResult(action="accept", content={"confirm": self.confirm})
        return ElicitResult(action=self.action)  # type: ignore[arg-type]


def _exists(docker_client: docker.DockerClient, name: str) -> bool:
    try:
        docker_client.containers.get(name)
    except docker.errors.NotFound:
        return False
    return True


@pytest.mark.parametrize("mode", MODES)
async def test_accept_removes_and_question_says_what_is_lost(
    mode: str, docker_client: docker.DockerClient, run_container: Callable[..., Any]
) -> None:
    c = run_container()
    user = User("accept")
    async with Client(create_server(Settings()), mode=mode, elicitation_callback=user) as client:
        data = structured(await client.call_tool("docker_remove_container", {"container": c.name, "force": True}))
    assert data["removed"] is True
    assert not _exists(docker_client, c.name)
    assert len(user.questions) == 1
    question = user.questions[0]
    assert c.name in question and c.id[:12] in question
    assert "writable layer" in question and "running" in question and "killed" in question


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("action", "confirm", "word"),
    [("decline", True, "declined"), ("cancel", True, "cancelled"), ("accept", False, "declined")],
)
async def test_decline_cancel_or_no_leaves_the_container(
    mode: str,
    action: str,
    confirm: bool,
    word: str,
    docker_client: docker.DockerClient,
    run_container: Callable[..., Any],
) -> None:
    c = run_container()
    user = User(action, confirm)
    async with Client(create_server(Settings()), mode=mode, elicitation_callback=user) as client:
        text = error_text(await client.call_tool("docker_remove_container", {"container": c.name, "force": True}))
    assert word in text and "Nothing was changed" in text
    assert len(user.questions) == 1
    assert docker_client.containers.get(c.name).status == "running"


@pytest.mark.parametrize("mode", MODES)
async def test_client_without_elicitation_is_refused_naming_the_setting(
    mode: str, docker_client: docker.DockerClient, run_container: Callable[..., Any]
) -> None:
    c = run_container()
    async with Client(create_server(Settings()), mode=mode) as client:
        text = error_text(await client.call_tool("docker_remove_container", {"container": c.name, "force": True}))
    assert "MCP_DOCKER_DESTRUCTIVE=allow" in text and "elicitation" in text
    assert docker_client.containers.get(c.name).status == "running"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("smuggled", [{"confirmation": True}, {"confirm": True}, {"confirmation": {"confirm": True}}])
async def test_no_argument_skips_the_question(
    mode: str, smuggled: dict[str, Any], docker_client: docker.DockerClient, run_container: Callable[..., Any]
) -> None:
    c = run_container()
    async with Client(create_server(Settings()), mode=mode) as client:
        tool = next(t for t in (await client.list_tools()).tools if t.name == "docker_remove_container")
        assert set(tool.input_schema["properties"]) == {"container", "force", "volumes"}
        result = await client.call_tool("docker_remove_container", {"container": c.name, "force": True, **smuggled})
        assert result.is_error
    assert docker_client.containers.get(c.name).status == "running"


@pytest.mark.parametrize("mode", MODES)
async def test_allow_runs_without_asking_and_deny_hides_and_refuses(
    mode: str, docker_client: docker.DockerClient, run_container: Callable[..., Any]
) -> None:
    c = run_container()
    user = User("decline")
    async with Client(create_server(Settings(destructive="deny")), mode=mode, elicitation_callback=user) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert "docker_remove_container" not in names and "docker_stop_container" in names
        text = error_text(await client.call_tool("docker_remove_container", {"container": c.name, "force": True}))
        assert "docker_remove_container" in text
    assert _exists(docker_client, c.name)
    async with Client(create_server(Settings(destructive="allow")), mode=mode, elicitation_callback=user) as client:
        structured(await client.call_tool("docker_remove_container", {"container": c.name, "force": True}))
    assert user.questions == []
    assert not _exists(docker_client, c.name)


@pytest.mark.parametrize("mode", MODES)
async def test_missing_container_is_reported_without_asking(mode: str, unique: Callable[[str], str]) -> None:
    user = User("accept")
    async with Client(create_server(Settings()), mode=mode, elicitation_callback=user) as client:
        text = error_text(await client.call_tool("docker_remove_container", {"container": unique("ghost")}))
    assert "No such container" in text
    assert user.questions == []
