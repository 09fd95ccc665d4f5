"""The confirmation card for a destructive call the MODEL makes in an MCP Apps client that cannot elicit
(or whose question went unanswered): the call does nothing, its result opens the card view with the
token in `_meta` only, and only the card's button (an app-only tool call with that token) runs it. One
token mechanism serves the card and the two-step `confirm_token` (safety/confirm_tokens.py). Every
refusal is checked on the engine: the target is still there."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import docker
import pytest
from mcp.client import Client
from mcp.types import CallToolResult, ElicitRequestParams, ElicitResult

from mcp_docker.config import Settings
from mcp_docker.safety.confirmation import CONFIRM_META
from mcp_docker.server import create_server
from tests.conftest import MODES, TEST_LABELS, error_text, structured
from tests.e2e.test_apps import UI
from tests.e2e.test_confirmation import User
from tests.e2e.test_two_step_confirmation import TOKEN_RE, exists

pytestmark = [pytest.mark.anyio]

CARD_VIEW = "ui://mcp-docker/confirm.html"


def apps(mode: str, elicitation_callback: Any = None, **settings: Any) -> Client:
    """An MCP Apps client to a server with default (confirm) settings plus `settings`."""
    return Client(
        create_server(Settings(**settings)), mode=mode, extensions=[UI()], elicitation_callback=elicitation_callback
    )


def card_of(result: CallToolResult) -> dict[str, Any]:
    """The card a result opens, after checking that nothing of its secret reaches the model."""
    assert result.is_error  # nothing was done
    card: dict[str, Any] = (result.meta or {})[CONFIRM_META]
    model_sees = result.model_dump_json(include={"content", "structured_content"})
    assert card["token"] not in model_sees and len(card["token"]) >= 40
    assert not TOKEN_RE.search(model_sees) and "confirm_token" not in model_sees
    return card


@pytest.mark.parametrize("mode", MODES)
async def test_destructive_tools_open_the_card_view_for_apps_clients_only(mode: str) -> None:
    async with apps(mode) as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
        for name in ("docker_remove_container", "docker_remove_volume", "docker_prune_images", "docker_tag_image"):
            assert tools[name].meta == {"ui": {"resourceUri": CARD_VIEW}}, name
        assert tools["docker_compose_operations"].meta == {"ui": {"resourceUri": "ui://mcp-docker/compose.html"}}
        assert "ui" not in (tools["docker_start_container"].meta or {})
        for name in ("docker_app_confirm_removal", "docker_app_dismiss_removal"):
            assert tools[name].meta == {"ui": {"resourceUri": CARD_VIEW, "visibility": ["app"]}}
        content = (await c.read_resource(CARD_VIEW)).contents[0]
        assert content.mime_type == "text/html;profile=mcp-app" and "confirmCard(" in getattr(content, "text", "")
    async with Client(create_server(Settings()), mode=mode) as plain:
        assert all("ui" not in (t.meta or {}) for t in (await plain.list_tools()).tools)
    async with apps(mode, destructive="allow") as c:  # nothing to confirm: no card view bound, no buttons
        tools = {t.name: t for t in (await c.list_tools()).tools}
        assert "ui" not in (tools["docker_remove_container"].meta or {})
        assert "docker_app_request_removal" in tools  # the containers view removes at once
        assert not {"docker_app_confirm_removal", "docker_app_dismiss_removal"} & set(tools)


@pytest.mark.engine
@pytest.mark.parametrize("mode", MODES)
async def test_model_call_shows_the_card_and_only_its_button_removes(
    mode: str, docker_client: docker.DockerClient, run_container: Callable[..., Any], tmp_path: Path
) -> None:
    victim = run_container()
    log = tmp_path / "audit.jsonl"
    async with apps(mode, audit_log=log) as c:
        asked = await c.call_tool("docker_remove_container", {"container": victim.name, "force": True})
        card = card_of(asked)
        text = error_text(asked)
        assert "confirmation card" in text and "Wait for them" in text and "Nothing was changed" in text
        assert f"Remove container '{victim.name}'" in card["question"] and card["question"] in text
        assert card["tool"] == "docker_remove_container"
        assert exists(docker_client, victim.name)  # asking removed nothing

        token = card["token"]
        altered = await c.call_tool(
            "docker_app_confirm_removal", {"token": token[:-2] + ("xx" if token[-2:] != "xx" else "yy")}
        )
        assert "nothing was removed or changed" in error_text(altered)
        assert exists(docker_client, victim.name)

        done = await c.call_tool("docker_app_confirm_removal", {"token": token})
        assert structured(done)["removed"] is True and structured(done)["name"] == victim.name
        assert not exists(docker_client, victim.name)
        replay = await c.call_tool("docker_app_confirm_removal", {"token": token})
        assert "unknown, used or expired" in error_text(replay)

    lines = [json.loads(line) for line in log.read_text().splitlines()]
    steps = [(x["tool"], x["outcome"]) for x in lines]
    assert ("docker_remove_container", "asked") in steps and ("docker_remove_container", "ok") in steps
    assert ("docker_remove_container", "confirmed") in steps
    assert token not in log.read_text()  # the digest only
    assert {x.get("confirm_token") for x in lines if x["outcome"] in ("asked", "confirmed")} != {None}


@pytest.mark.engine
@pytest.mark.parametrize("mode", MODES)
async def test_the_model_cannot_press_the_button_with_confirm_token(
    mode: str, docker_client: docker.DockerClient, run_container: Callable[..., Any]
) -> None:
    """A card's token passed back as the model's confirm_token is refused, and spent: the card is dead."""
    victim = run_container()
    async with apps(mode) as c:
        token = card_of(await c.call_tool("docker_remove_container", {"container": victim.name, "force": True}))[
            "token"
        ]
        args = {"container": victim.name, "force": True, "confirm_token": token}
        refused = await c.call_tool("docker_remove_container", args)
        assert "was issued for another call" in error_text(refused)
        assert exists(docker_client, victim.name)
        late = await c.call_tool("docker_app_confirm_removal", {"token": token})
        assert "unknown, used or expired" in error_text(late)
        assert exists(docker_client, victim.name)


@pytest.mark.engine
@pytest.mark.parametrize("mode", MODES)
async def test_a_card_confirms_exactly_its_call(
    mode: str, docker_client: docker.DockerClient, run_container: Callable[..., Any]
) -> None:
    """Two cards: each press runs its own call (the other container stays until its own press), and a
    dismissed card can no longer be pressed."""
    first, second = run_container(), run_container()
    async with apps(mode) as c:
        one = card_of(await c.call_tool("docker_remove_container", {"container": first.name, "force": True}))
        two = card_of(await c.call_tool("docker_remove_container", {"container": second.name, "force": True}))
        structured(await c.call_tool("docker_app_confirm_removal", {"token": one["token"]}))
        assert not exists(docker_client, first.name) and exists(docker_client, second.name)
        assert structured(await c.call_tool("docker_app_dismiss_removal", {"token": two["token"]}))["dismissed"]
        late = await c.call_tool("docker_app_confirm_removal", {"token": two["token"]})
        assert "nothing was removed or changed" in error_text(late)
    assert exists(docker_client, second.name)


@pytest.mark.engine
@pytest.mark.parametrize("mode", MODES)
async def test_volume_removal_by_card_even_with_the_two_step_path_off(
    mode: str, docker_client: docker.DockerClient, unique: Callable[[str], str]
) -> None:
    """Any destructive tool; MCP_DOCKER_CONFIRM_FALLBACK=refuse turns off only the model-relayed token."""
    volume = docker_client.volumes.create(unique("vol"), labels=TEST_LABELS)
    async with apps(mode, confirm_fallback="refuse") as c:
        card = card_of(await c.call_tool("docker_remove_volume", {"volume": volume.name}))
        assert volume.name in card["question"]
        docker_client.volumes.get(volume.name)
        structured(await c.call_tool("docker_app_confirm_removal", {"token": card["token"]}))
    with pytest.raises(docker.errors.NotFound):
        docker_client.volumes.get(volume.name)


@pytest.mark.engine
@pytest.mark.parametrize("mode", MODES)
async def test_an_apps_client_that_elicits_is_asked_as_before(
    mode: str, docker_client: docker.DockerClient, run_container: Callable[..., Any]
) -> None:
    victim = run_container()
    user = User("accept")
    async with apps(mode, elicitation_callback=user) as c:
        done = await c.call_tool("docker_remove_container", {"container": victim.name, "force": True})
    assert structured(done)["removed"] is True and not (done.meta or {}).get(CONFIRM_META)
    assert len(user.questions) == 1 and not exists(docker_client, victim.name)


@pytest.mark.engine
async def test_an_unanswered_question_ends_with_the_card(
    docker_client: docker.DockerClient, run_container: Callable[..., Any]
) -> None:
    victim = run_container()

    async def silent(context: Any, params: ElicitRequestParams) -> ElicitResult:
        await anyio.sleep(30)
        raise AssertionError("unreachable")

    async with apps("legacy", elicitation_callback=silent, confirm_timeout=1) as c:
        asked = await c.call_tool("docker_remove_container", {"container": victim.name, "force": True})
        card = card_of(asked)
        assert "went unanswered for 1 s" in error_text(asked)
        assert exists(docker_client, victim.name)
        structured(await c.call_tool("docker_app_confirm_removal", {"token": card["token"]}))
    assert not exists(docker_client, victim.name)


@pytest.mark.engine
@pytest.mark.parametrize("mode", MODES)
async def test_with_several_engines_the_card_names_its_engine_and_confirms_there(
    mode: str, docker_client: docker.DockerClient, run_container: Callable[..., Any]
) -> None:
    sock = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"  # the engine under test (conftest)
    victim = run_container()
    async with apps(mode, hosts=f"main={sock},other={sock}") as c:
        card = card_of(
            await c.call_tool("docker_remove_container", {"container": victim.name, "force": True, "host": "main"})
        )
        assert card["question"].startswith("On engine 'main':")
        args = {"container": victim.name, "force": True, "host": "other", "confirm_token": card["token"]}
        assert "was issued for another call" in error_text(await c.call_tool("docker_remove_container", args))
        assert exists(docker_client, victim.name)
        again = card_of(
            await c.call_tool("docker_remove_container", {"container": victim.name, "force": True, "host": "main"})
        )
        structured(await c.call_tool("docker_app_confirm_removal", {"token": again["token"]}))
    assert not exists(docker_client, victim.name)


@pytest.mark.engine
async def test_a_card_whose_question_changed_gives_a_fresh_card_and_does_nothing(
    docker_client: docker.DockerClient, run_container: Callable[..., Any]
) -> None:
    victim = run_container()
    async with apps("auto") as c:
        first = card_of(await c.call_tool("docker_remove_container", {"container": victim.name, "force": True}))
        victim.kill()  # what the removal would lose changed: it is no longer running
        pressed = await c.call_tool("docker_app_confirm_removal", {"token": first["token"]})
        fresh = card_of(pressed)
        assert "changed since the card was shown" in error_text(pressed)
        assert fresh["token"] != first["token"] and fresh["question"] != first["question"]
        assert exists(docker_client, victim.name)
        structured(await c.call_tool("docker_app_confirm_removal", {"token": fresh["token"]}))
    assert not exists(docker_client, victim.name)
