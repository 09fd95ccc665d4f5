"""Against the real engine: `top` on an engine host whose ps takes no `aux` (the engine's 500, simulated on
one request) falls back to plain ps while other errors surface; update refuses pids_limit=0 and changes
nothing; the containers view's removal request for a missing container opens no card; a dismissed card
cannot be dismissed twice (one audit line)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import docker
import pytest
import requests
from mcp import Client

from mcp_docker.apps.app_tools import CONFIRM_META
from mcp_docker.config import Settings
from mcp_docker.docker.client import Engine
from mcp_docker.server import create_server
from tests.conftest import allow_settings, error_text, structured
from tests.e2e.test_apps import UI
from tests.engine import PREFIX

pytestmark = [pytest.mark.anyio, pytest.mark.engine]


def _api_error(status: int, text: str) -> docker.errors.APIError:
    response = requests.Response()
    response.status_code = status
    return docker.errors.APIError(text, response=response, explanation=text)


def _engine_whose_ps_refuses(status: int) -> tuple[Engine, list[Any]]:
    """The real engine, except that `top` with ps arguments answers `status` (as on a host whose ps
    takes no 'aux'); records the ps arguments of every top request."""
    eng = Engine()
    api = eng.api
    real_top = api.top
    asked: list[Any] = []

    def top(container: str, ps_args: str | None = None) -> Any:
        asked.append(ps_args)
        if ps_args is not None:
            raise _api_error(status, "ps: unrecognized option: aux")
        return real_top(container)

    api.top = top  # type: ignore[method-assign]
    return eng, asked


async def test_top_falls_back_to_plain_ps_when_the_engine_host_refuses_aux(run_container: Callable[..., Any]) -> None:
    c = run_container(["sh", "-c", "sleep 303 & sleep 304"])
    eng, asked = _engine_whose_ps_refuses(500)
    try:
        async with Client(create_server(allow_settings(), engine=eng)) as cl:
            for _ in range(20):  # the shell starts its two sleeps just after the container starts
                data = structured(await cl.call_tool("docker_container_top", {"container": c.name}))
                if "sleep 304" in " ".join(p["command"] for p in data["processes"]):
                    break
                await anyio.sleep(0.1)
    finally:
        eng.close()
    commands = " ".join(p["command"] for p in data["processes"])
    assert "sleep 303" in commands and "sleep 304" in commands
    assert asked[:2] == ["aux", None]  # asked with aux, then again without
    assert all(p["pid"].isdigit() for p in data["processes"]) and data["total"] == len(data["processes"])
    assert all(p["mem"] is None for p in data["processes"])  # plain ps (-ef) has no %MEM column


async def test_top_surfaces_other_engine_errors_without_retrying(run_container: Callable[..., Any]) -> None:
    c = run_container()
    eng, asked = _engine_whose_ps_refuses(409)
    try:
        async with Client(create_server(allow_settings(), engine=eng)) as cl:
            text = error_text(await cl.call_tool("docker_container_top", {"container": c.name}))
    finally:
        eng.close()
    assert "ps: unrecognized option: aux" in text
    assert asked == ["aux"]  # a conflict is not the missing-aux case: no second request


async def test_update_refuses_pids_limit_zero_and_changes_nothing(
    client: Client, run_container: Callable[..., Any], docker_client: docker.DockerClient
) -> None:
    c = run_container(pids_limit=40)
    result = await client.call_tool("docker_update_container", {"container": c.name, "pids_limit": 0, "cpus": 0.5})
    assert "pids_limit must be at least 1, or -1 for no limit." in error_text(result)
    host = docker_client.api.inspect_container(c.id)["HostConfig"]
    assert host["PidsLimit"] == 40 and not host["NanoCpus"]  # the valid cpus were not applied either
    data = structured(await client.call_tool("docker_update_container", {"container": c.name, "pids_limit": -1}))
    assert data["name"] == c.name and data["pids_limit"] is None  # -1: no limit
    assert docker_client.api.inspect_container(c.id)["HostConfig"]["PidsLimit"] in (None, 0, -1)


async def test_pull_refuses_a_tag_next_to_a_digest_before_asking_the_engine(client: Client) -> None:
    digest = "sha256:" + "0" * 64
    text = error_text(await client.call_tool("docker_pull_image", {"image": f"{PREFIX}img@{digest}", "tag": "v1"}))
    assert "has a digest; pass no tag with it" in text


def _apps(**settings: Any) -> Client:
    return Client(create_server(Settings(**settings)), extensions=[UI()])


async def test_removal_request_for_a_missing_container_opens_no_card() -> None:
    async with _apps(destructive="confirm") as c:
        result = await c.call_tool("docker_app_request_removal", {"container": f"{PREFIX}no-such-container"})
    assert result.is_error and CONFIRM_META not in (result.meta or {})
    assert "No such container" in error_text(result) and "confirmation card" not in error_text(result)


async def test_a_card_is_dismissed_once_and_an_unknown_token_dismisses_nothing(
    run_container: Callable[..., Any], docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    keep = run_container()
    log = tmp_path / "audit.jsonl"
    async with _apps(destructive="confirm", audit_log=log) as c:
        asked = await c.call_tool("docker_app_request_removal", {"container": keep.name})
        token = (asked.meta or {})[CONFIRM_META]["token"]
        assert structured(asked)["pending"] is True
        dismiss = "docker_app_dismiss_removal"
        assert structured(await c.call_tool(dismiss, {"token": "x" * 43}))["dismissed"] is False
        assert structured(await c.call_tool(dismiss, {"token": token}))["dismissed"] is True
        assert structured(await c.call_tool(dismiss, {"token": token}))["dismissed"] is False
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    dismissed = [line for line in lines if line.get("outcome") == "dismissed"]
    assert len(dismissed) == 1 and dismissed[0]["tool"] == "docker_remove_container"
    assert docker_client.containers.get(keep.id).status == "running"
