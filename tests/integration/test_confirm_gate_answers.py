"""Answers the confirmation gate (tools/confirm_gate.py) must not take at face value, on the real engine
through the MCP client: an answer that is not a yes/no, an answer to a question the server no longer
remembers asking, and the containers view's removal where the settings need no confirmation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import docker
import pytest
from mcp import Client
from mcp.types import ElicitRequestParams, ElicitResult

from mcp_docker.config import Settings
from mcp_docker.server import create_server
from mcp_docker.tools import confirm_gate
from tests.conftest import error_text
from tests.e2e.test_apps import UI

pytestmark = [pytest.mark.anyio, pytest.mark.engine]


class Answers:
    """An elicitation callback that accepts with the given content and counts the questions."""

    def __init__(self, content: dict[str, Any]) -> None:
        self.content = content
        self.questions: list[str] = []

    async def __call__(self, context: Any, params: ElicitRequestParams) -> ElicitResult:
        self.questions.append(params.message)
        return ElicitResult(action="accept", content=self.content)


def _status(docker_client: docker.DockerClient, name: str) -> str | None:
    try:
        return str(docker_client.containers.get(name).status)
    except docker.errors.NotFound:
        return None


async def test_an_answer_that_is_not_yes_or_no_is_refused_and_nothing_is_removed(
    docker_client: docker.DockerClient, run_container: Callable[..., Any]
) -> None:
    victim = run_container()
    user = Answers({"confirm": "maybe"})  # not a boolean: no client may turn it into a yes
    async with Client(create_server(Settings()), mode="legacy", elicitation_callback=user) as client:
        result = await client.call_tool("docker_remove_container", {"container": victim.name, "force": True})
    assert "answer to the confirmation question was not valid" in error_text(result)
    assert len(user.questions) == 1 and victim.name in user.questions[0]
    assert _status(docker_client, victim.name) == "running"


async def test_an_answer_to_a_forgotten_question_does_not_count(
    docker_client: docker.DockerClient, run_container: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """2026-07-28 era: the question goes back in the result and the answer comes with a new request. The
    server forgets questions older than its keep window; here every question is already older than it, so
    the yes arrives for a question the server no longer knows it asked, and counts as no answer."""
    monkeypatch.setattr(confirm_gate, "_ASKED_KEEP", -1.0)
    victim = run_container()
    user = Answers({"confirm": True})
    async with Client(create_server(Settings()), mode="auto", elicitation_callback=user) as client:
        result = await client.call_tool("docker_remove_container", {"container": victim.name, "force": True})
    text = error_text(result)
    assert len(user.questions) == 1  # asked once; the yes came back
    assert "went unanswered" in text and "confirm_token" in text  # the two-step confirmation instead
    assert _status(docker_client, victim.name) == "running"


async def test_the_views_removal_needs_no_card_where_destructive_calls_are_allowed(
    docker_client: docker.DockerClient, run_container: Callable[..., Any]
) -> None:
    victim = run_container()
    async with Client(create_server(Settings(destructive="allow")), mode="auto", extensions=[UI()]) as client:
        result = await client.call_tool("docker_app_request_removal", {"container": victim.name, "force": True})
    assert not result.is_error, result.content
    assert (result.structured_content or {}).get("pending") is None  # removed, not waiting for a card
    assert _status(docker_client, victim.name) is None
