"""Confirmation of destructive calls through MCP elicitation, in both protocol eras, on the real engine.

The user's answer comes from the client's elicitation callback; the model has no argument to give it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import docker
import pytest
from mcp import Client
from mcp.types import ElicitRequestParams, ElicitResult
from pydantic import BaseModel, Field

from mcp_docker.config import Settings
from mcp_docker.safety.levels import Level
from mcp_docker.server import create_server
from mcp_docker.state import Ctx, engine
from mcp_docker.tools.declare import TOOLS, docker_tool
from tests.conftest import MODES, error_text, stdio_params, structured

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
    """MCP_DOCKER_CONFIRM_FALLBACK=refuse; by default such a client gets the two-step confirmation
    (tests/e2e/test_two_step_confirmation.py)."""
    c = run_container()
    async with Client(create_server(Settings(confirm_fallback="refuse")), mode=mode) as client:
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
        assert set(tool.input_schema["properties"]) == {"container", "force", "volumes", "confirm_token"}
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


class Done(BaseModel):
    action: str


@docker_tool(
    Level.DESTRUCTIVE,
    "containers",
    title="Test action tool",
    subject="container",
    action_levels={"look": Level.SAFE, "wipe": Level.DESTRUCTIVE},
)
def docker_test_actions(
    ctx: Ctx,
    action: Annotated[str, Field(description="look or wipe")],
    container: Annotated[str, Field(description="Container.")],
) -> Done:
    """A test tool declared like compose's: look inspects, wipe removes the container."""
    if action == "wipe":
        engine(ctx).api.remove_container(container, force=True)
    else:
        engine(ctx).api.inspect_container(container)
    return Done(action=action)


ACTION_SPEC = TOOLS.pop("docker_test_actions")  # kept out of the real tool list


def _action_tool_server() -> Any:
    server = create_server(Settings())
    server.add_tool(ACTION_SPEC.fn, name=ACTION_SPEC.name)
    return server


@pytest.mark.parametrize("mode", MODES)
async def test_action_levels_ask_only_for_the_destructive_action_with_a_generic_question(
    mode: str, docker_client: docker.DockerClient, run_container: Callable[..., Any]
) -> None:
    c = run_container()
    decline, accept = User("decline"), User("accept")
    async with Client(_action_tool_server(), mode=mode, elicitation_callback=decline) as client:
        tool = next(t for t in (await client.list_tools()).tools if t.name == "docker_test_actions")
        assert set(tool.input_schema["properties"]) == {"action", "container", "confirm_token"}
        structured(await client.call_tool("docker_test_actions", {"action": "look", "container": c.name}))
        assert decline.questions == []
        assert "declined" in error_text(
            await client.call_tool("docker_test_actions", {"action": "wipe", "container": c.name})
        )
    assert docker_client.containers.get(c.name).status == "running"
    async with Client(_action_tool_server(), mode=mode, elicitation_callback=accept) as client:
        structured(await client.call_tool("docker_test_actions", {"action": "wipe", "container": c.name}))
    assert not _exists(docker_client, c.name)
    assert decline.questions == accept.questions
    assert decline.questions[0].splitlines()[:3] == [
        "Test action tool (docker_test_actions).",
        f"Target: container '{c.name}'",
        "With: action='wipe'",
    ]


async def test_confirmation_over_stdio(docker_client: docker.DockerClient, run_container: Callable[..., Any]) -> None:
    """The real server process, default settings: a decline leaves the container, a yes removes it."""
    c = run_container()
    decline, accept = User("decline"), User("accept")
    params = stdio_params({"MCP_DOCKER_DESTRUCTIVE": "confirm"})
    async with Client(params, mode="legacy", elicitation_callback=decline) as client:
        assert "declined" in error_text(
            await client.call_tool("docker_remove_container", {"container": c.name, "force": True})
        )
    assert docker_client.containers.get(c.name).status == "running"
    async with Client(params, elicitation_callback=accept) as client:
        structured(await client.call_tool("docker_remove_container", {"container": c.name, "force": True}))
    assert not _exists(docker_client, c.name)
    assert c.name in decline.questions[0] and c.name in accept.questions[0]


@pytest.mark.parametrize(
    ("env", "word"),
    [
        ({"MCP_DOCKER_ALLOWED_CAPABILITIES": "SYS_ADMIN,SUPERPOWERS"}, "SUPERPOWERS"),
        ({"MCP_DOCKER_ALLOWED_BIND_ROOTS": "relative/dir"}, "absolute"),
        ({"MCP_DOCKER_DISABLED_TOOLS": "docker_nope"}, "docker_nope"),
        ({"MCP_DOCKER_AUDIT_LOG": "/nonexistent-dir/audit.jsonl"}, "MCP_DOCKER_AUDIT_LOG"),
    ],
)
def test_bad_safety_settings_stop_the_command_at_start_up(
    env: dict[str, str], word: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from mcp_docker.__main__ import main

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert main(["serve"]) == 2
    assert word in capsys.readouterr().err


async def test_question_names_the_anonymous_volumes_that_go_with_the_container(
    docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str]
) -> None:
    from tests.conftest import TEST_LABELS

    name = unique("withvol")
    docker_client.api.create_container(test_image, ["sleep", "300"], name=name, labels=TEST_LABELS, volumes=["/data"])
    volume = docker_client.api.inspect_container(name)["Mounts"][0]["Name"]
    user = User("accept")
    async with Client(create_server(Settings()), elicitation_callback=user) as client:
        structured(await client.call_tool("docker_remove_container", {"container": name, "volumes": True}))
    assert f"anonymous volumes {volume[:12]}" in user.questions[0]
    assert "created" in user.questions[0] and "killed" not in user.questions[0]
    assert docker_client.volumes.list(filters={"name": volume}) == []
    assert not _exists(docker_client, name)
