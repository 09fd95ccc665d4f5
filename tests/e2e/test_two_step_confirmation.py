"""Two-step confirmation (confirm_token) and the question's deadline, on the real engine, through a real
MCP client: in-memory, over stdio and over HTTP, in both protocol eras.

A client without elicitation gets, instead of the change, the question and a token; the same call plus
the token runs it. Every refusal is checked on the engine: the target is still there.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import docker
import pytest
from mcp import Client
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import ElicitRequestParams, ElicitResult

from mcp_docker.config import Settings
from mcp_docker.server import create_server
from tests.conftest import BUILD_ROOT, MODES, TEST_LABELS, error_text, stdio_params, structured
from tests.e2e.http_server import TOKEN, http_client, running_http
from tests.e2e.test_confirmation import User
from tests.engine import TEST_LABEL, TEST_LABEL_VALUE

pytestmark = [pytest.mark.anyio, pytest.mark.engine]

TRANSPORTS = ["memory", "stdio", "http"]
TOKEN_RE = re.compile(r'confirm_token="([^"]+)"')


@asynccontextmanager
async def connect(
    transport: str, mode: str, elicitation_callback: Any = None, errlog: Any = None, **overrides: Any
) -> AsyncIterator[Client]:
    """A client to a server with default (confirm) settings plus `overrides`, over `transport`."""
    if transport == "memory":
        async with Client(
            create_server(Settings(**overrides)), mode=mode, elicitation_callback=elicitation_callback
        ) as c:
            yield c
    elif transport == "stdio":
        env = {"MCP_DOCKER_DESTRUCTIVE": "confirm", **{f"MCP_DOCKER_{k.upper()}": str(v) for k, v in overrides.items()}}
        params = stdio_params(env)
        server = stdio_client(params, errlog=errlog) if errlog is not None else params
        async with Client(server, mode=mode, elicitation_callback=elicitation_callback) as c:
            yield c
    else:
        with running_http(Settings(http_token=TOKEN, **overrides)) as http:
            transport_ = streamable_http_client(http.url, http_client=http_client(TOKEN))
            async with Client(transport_, mode=mode, elicitation_callback=elicitation_callback) as c:
                yield c


def token_of(text: str) -> str:
    match = TOKEN_RE.search(text)
    assert match, f"no confirm_token in {text!r}"
    return match.group(1)


def exists(docker_client: docker.DockerClient, name: str) -> bool:
    try:
        docker_client.containers.get(name)
    except docker.errors.NotFound:
        return False
    return True


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("mode", MODES)
async def test_client_without_elicitation_confirms_in_two_steps(
    transport: str, mode: str, docker_client: docker.DockerClient, run_container: Callable[..., Any]
) -> None:
    target, other = run_container(), run_container()
    remove = {"container": target.name, "force": True}
    async with connect(transport, mode) as client:
        tool = next(t for t in (await client.list_tools()).tools if t.name == "docker_remove_container")
        assert "previous call's result" in tool.input_schema["properties"]["confirm_token"]["description"]

        first = error_text(await client.call_tool("docker_remove_container", remove))
        assert exists(docker_client, target.name)
        assert target.name in first and target.id[:12] in first and "killed" in first
        assert "Nothing was changed" in first and "Ask the user" in first
        token = token_of(first)

        # The token is bound to the exact arguments: another target is refused, and the token is burnt.
        text = error_text(
            await client.call_tool(
                "docker_remove_container", {"container": other.name, "force": True, "confirm_token": token}
            )
        )
        assert "another call" in text and "Nothing was done" in text
        assert exists(docker_client, other.name) and exists(docker_client, target.name)
        text = error_text(await client.call_tool("docker_remove_container", {**remove, "confirm_token": token}))
        assert "already used" in text and exists(docker_client, target.name)

        token = token_of(error_text(await client.call_tool("docker_remove_container", remove)))
        done = structured(await client.call_tool("docker_remove_container", {**remove, "confirm_token": token}))
        assert done["removed"] is True and not exists(docker_client, target.name)

        # Replay against a new container of the same name: refused, the new one stays.
        run_container(name=target.name)
        replay = error_text(await client.call_tool("docker_remove_container", {**remove, "confirm_token": token}))
        assert "already used" in replay and exists(docker_client, target.name)
        invented = error_text(
            await client.call_tool("docker_remove_container", {"container": other.name, "confirm_token": "x" * 24})
        )
        assert "not one this server issued" in invented and "without confirm_token" in invented
        assert exists(docker_client, other.name)


@pytest.mark.parametrize("mode", MODES)
async def test_an_expired_token_is_refused(
    mode: str, docker_client: docker.DockerClient, run_container: Callable[..., Any]
) -> None:
    c = run_container()
    async with connect("memory", mode, confirm_ttl=0.5) as client:
        token = token_of(
            error_text(await client.call_tool("docker_remove_container", {"container": c.name, "force": True}))
        )
        await anyio.sleep(1.0)
        text = error_text(
            await client.call_tool(
                "docker_remove_container", {"container": c.name, "force": True, "confirm_token": token}
            )
        )
    assert "expired" in text and "without confirm_token" in text
    assert exists(docker_client, c.name)


class Silent(User):
    """A client that declares elicitation and never answers (or answers only after `delay` seconds)."""

    def __init__(self, delay: float | None = None) -> None:
        super().__init__("accept")
        self.delay = delay

    async def __call__(self, context: Any, params: ElicitRequestParams) -> ElicitResult:
        self.questions.append(params.message)
        if self.delay is None:
            await anyio.sleep_forever()
        await anyio.sleep(self.delay)
        return ElicitResult(action="accept", content={"confirm": True})


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("mode", MODES)
async def test_an_unanswered_question_ends_the_call_and_offers_a_token(
    transport: str, mode: str, docker_client: docker.DockerClient, run_container: Callable[..., Any]
) -> None:
    """2025-11-25: the server stops waiting after the deadline. 2026-07-28: the server holds nothing open
    while the question waits; an answer that comes back after the deadline does not count."""
    c = run_container()
    remove = {"container": c.name, "force": True}
    user = Silent(None if mode == "legacy" else 2.5)
    async with connect(transport, mode, elicitation_callback=user, confirm_timeout=1) as client:
        with anyio.fail_after(60):
            text = error_text(await client.call_tool("docker_remove_container", remove))
        assert "unanswered for 1 s" in text and c.name in text and "Nothing was changed" in text
        assert exists(docker_client, c.name)
        assert len(user.questions) == 1
        structured(await client.call_tool("docker_remove_container", {**remove, "confirm_token": token_of(text)}))
    assert not exists(docker_client, c.name)
    assert len(user.questions) == 1  # the token path asks nothing more


@pytest.mark.parametrize("mode", MODES)
async def test_a_declined_question_offers_no_token(
    mode: str, docker_client: docker.DockerClient, run_container: Callable[..., Any]
) -> None:
    c = run_container()
    async with connect("memory", mode, elicitation_callback=User("decline")) as client:
        text = error_text(await client.call_tool("docker_remove_container", {"container": c.name, "force": True}))
    assert "declined" in text and "confirm_token" not in text
    assert exists(docker_client, c.name)


@pytest.mark.parametrize("mode", MODES)
async def test_fallback_refuse_is_the_old_refusal_and_hides_the_token(
    mode: str, docker_client: docker.DockerClient, run_container: Callable[..., Any]
) -> None:
    c = run_container()
    async with connect("memory", mode, confirm_fallback="refuse") as client:
        tool = next(t for t in (await client.list_tools()).tools if t.name == "docker_remove_container")
        assert "confirm_token" not in tool.input_schema["properties"]
        text = error_text(await client.call_tool("docker_remove_container", {"container": c.name, "force": True}))
        assert "MCP_DOCKER_DESTRUCTIVE=allow" in text and "elicitation" in text and "confirm_token=" not in text
        smuggled = await client.call_tool("docker_remove_container", {"container": c.name, "confirm_token": "x"})
        assert smuggled.is_error
    assert exists(docker_client, c.name)


def _api_at_least(docker_client: docker.DockerClient, version: float) -> bool:
    return float(docker_client.api.api_version) >= version


@pytest.mark.parametrize("transport", ["memory", "http"])
@pytest.mark.parametrize("mode", MODES)
async def test_volume_prune_through_the_token_lists_what_goes(
    transport: str, mode: str, docker_client: docker.DockerClient, unique: Callable[[str], str]
) -> None:
    group = unique("grp")
    names = [unique("vol") for _ in range(2)]
    for name in names:
        docker_client.volumes.create(name, labels={**TEST_LABELS, "group": group})
    filters: dict[str, Any] = {"label": f"group={group}"}
    args = {"filters": filters, "all": True}  # named volumes go only with all=true, on every engine
    async with connect(transport, mode) as client:
        first = error_text(await client.call_tool("docker_prune_volumes", args))
        assert "Would be removed now (2)" in first and all(n in first for n in names)
        assert {v.name for v in docker_client.volumes.list(filters={"label": f"group={group}"})} == set(names)
        done = structured(await client.call_tool("docker_prune_volumes", {**args, "confirm_token": token_of(first)}))
    assert all(n in json.dumps(done) for n in names)
    assert docker_client.volumes.list(filters={"label": f"group={group}"}) == []


@pytest.mark.parametrize("mode", MODES)
async def test_image_prune_question_lists_the_dangling_images(
    mode: str, docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str]
) -> None:
    group = unique("grp")
    dockerfile = io.BytesIO(f"FROM {test_image}\nLABEL {TEST_LABEL}={TEST_LABEL_VALUE} group={group}\n".encode())
    image, _ = docker_client.images.build(fileobj=dockerfile, rm=True)  # untagged: dangling
    filters = {"label": f"group={group}"}
    async with connect("memory", mode) as client:
        first = error_text(await client.call_tool("docker_prune_images", {"filters": filters}))
        assert "Would be removed now (1)" in first and image.id.removeprefix("sha256:")[:12] in first
        assert docker_client.images.list(filters={"label": f"group={group}"}) != []
        structured(
            await client.call_tool("docker_prune_images", {"filters": filters, "confirm_token": token_of(first)})
        )
    assert docker_client.images.list(filters={"label": f"group={group}"}) == []


COMPOSE = """\
services:
  web:
    image: {image}
    command: ["sleep", "300"]
    stop_signal: SIGKILL
    labels:
      {label}: "{value}"
"""


@pytest.mark.parametrize("mode", MODES)
async def test_compose_down_through_the_token(
    mode: str, docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str]
) -> None:
    from mcp_docker.tools.compose_tools import compose_cli

    project = unique("proj")
    label = {"label": f"com.docker.compose.project={project}"}
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "compose.yaml").write_text(
            COMPOSE.format(image=test_image, label=TEST_LABEL, value=TEST_LABEL_VALUE)
        )
        cli = list(compose_cli())
        subprocess.run([*cli, "-p", project, "up", "-d"], cwd=tmp, check=True, capture_output=True, timeout=120)
        args = {"action": "down", "project_dir": tmp, "project_name": project}
        try:
            async with connect("memory", mode, allowed_build_roots=[BUILD_ROOT]) as client:  # the project's root
                first = error_text(await client.call_tool("docker_compose_operations", args))
                assert (
                    f"'{project}'" in first
                    and "Containers (1)" in first
                    and f"{project}_default" in first
                    and "Networks (1)" in first
                )
                assert len(docker_client.containers.list(all=True, filters=label)) == 1
                structured(
                    await client.call_tool("docker_compose_operations", {**args, "confirm_token": token_of(first)})
                )
            assert docker_client.containers.list(all=True, filters=label) == []
            assert docker_client.networks.list(filters=label) == []
        finally:
            subprocess.run([*cli, "-p", project, "down"], cwd=tmp, capture_output=True, timeout=120, check=False)


@pytest.mark.parametrize("mode", MODES)
async def test_tag_over_another_images_tag_needs_confirmation(
    mode: str, docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str]
) -> None:
    dockerfile = io.BytesIO(f"FROM {test_image}\nLABEL {TEST_LABEL}={TEST_LABEL_VALUE} v=2\n".encode())
    other, _ = docker_client.images.build(fileobj=dockerfile, rm=True)
    repo = unique("tagged")
    base = docker_client.images.get(test_image)
    async with connect("memory", mode) as client:
        # A new name, or a name that already points at the same image, moves nothing: no question.
        structured(await client.call_tool("docker_tag_image", {"image": test_image, "repository": repo, "tag": "v1"}))
        structured(await client.call_tool("docker_tag_image", {"image": test_image, "repository": repo, "tag": "v1"}))
        move = {"image": other.id, "repository": repo, "tag": "v1"}
        first = error_text(await client.call_tool("docker_tag_image", move))
        assert f"{repo}:v1" in first and base.id.removeprefix("sha256:")[:12] in first
        assert docker_client.images.get(f"{repo}:v1").id == base.id
        structured(await client.call_tool("docker_tag_image", {**move, "confirm_token": token_of(first)}))
    assert docker_client.images.get(f"{repo}:v1").id == other.id
    async with connect("memory", mode, destructive="deny") as client:
        text = error_text(
            await client.call_tool("docker_tag_image", {"image": test_image, "repository": repo, "tag": "v1"})
        )
        assert "MCP_DOCKER_DESTRUCTIVE=deny" in text
    assert docker_client.images.get(f"{repo}:v1").id == other.id


def _socket() -> str:
    return os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")


async def test_several_engines_question_and_audit_name_the_engine_and_never_the_token(
    docker_client: docker.DockerClient, run_container: Callable[..., Any], tmp_path: Path
) -> None:
    c = run_container()
    audit = tmp_path / "audit.jsonl"
    remove = {"container": c.name, "force": True, "host": "second"}
    async with connect("memory", "auto", hosts=f"first={_socket()},second={_socket()}", audit_log=audit) as client:
        first = error_text(await client.call_tool("docker_remove_container", remove))
        assert "On engine 'second'" in first
        token = token_of(first)
        # Bound to the engine too: the same call on another engine is refused.
        text = error_text(
            await client.call_tool("docker_remove_container", {**remove, "host": "first", "confirm_token": token})
        )
        assert "another call" in text and exists(docker_client, c.name)
        token = token_of(error_text(await client.call_tool("docker_remove_container", remove)))
        structured(await client.call_tool("docker_remove_container", {**remove, "confirm_token": token}))
    assert not exists(docker_client, c.name)
    text = audit.read_text()
    assert token not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert [x["outcome"] for x in lines] == ["asked", "refused", "asked", "confirmed", "ok"]
    assert {x["host"] for x in lines} == {"second", "first"}
    assert lines[3]["confirm_token"] == lines[4]["confirm_token"] == lines[2]["confirm_token"]
    assert len(lines[2]["confirm_token"]) == 16


async def test_the_token_never_reaches_the_server_log(
    docker_client: docker.DockerClient, run_container: Callable[..., Any], tmp_path: Path
) -> None:
    c = run_container()
    with (tmp_path / "stderr.log").open("w+") as errlog:
        async with connect("stdio", "legacy", errlog=errlog, log_level="DEBUG") as client:
            first = error_text(await client.call_tool("docker_remove_container", {"container": c.name, "force": True}))
            token = token_of(first)
            args = {"container": c.name, "force": True, "confirm_token": token}
            structured(await client.call_tool("docker_remove_container", args))
        errlog.seek(0)
        logged = errlog.read()
    assert not exists(docker_client, c.name)
    assert logged and token not in logged, "the token was written to the server's log"


async def test_questions_resolve_an_id_prefix_to_the_object(
    docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str]
) -> None:
    """The question says what will be lost: an id prefix becomes the object's name and id."""
    network = docker_client.networks.create(unique("net"), labels=TEST_LABELS)
    volume = docker_client.volumes.create(unique("vol"), labels={**TEST_LABELS, "team": "db"})
    dockerfile = io.BytesIO(f"FROM {test_image}\nLABEL {TEST_LABEL}={TEST_LABEL_VALUE} q=1\n".encode())
    image, _ = docker_client.images.build(fileobj=dockerfile, rm=True)
    image.tag(unique("img"), "v1")
    image.reload()
    async with connect("memory", "auto") as client:
        text = error_text(await client.call_tool("docker_remove_network", {"network": network.id[:8]}))
        assert f"'{network.name}'" in text and network.id[:12] in text and "driver 'bridge'" in text
        text = error_text(await client.call_tool("docker_remove_volume", {"volume": volume.name}))
        assert f"'{volume.name}'" in text and "every file in it" in text and "team=db" in text
        short = image.id.removeprefix("sha256:")[:8]
        text = error_text(await client.call_tool("docker_remove_image", {"image": short}))
        assert image.tags[0] in text and image.id.removeprefix("sha256:")[:12] in text
    assert docker_client.networks.get(network.id) and docker_client.volumes.get(volume.name)
    assert docker_client.images.get(image.id)


async def test_system_prune_question_lists_what_would_go_and_the_token_runs_it(
    docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str]
) -> None:
    group = unique("grp")
    labels = {**TEST_LABELS, "group": group}
    stopped = docker_client.containers.create(test_image, ["true"], name=unique("stopped"), labels=labels)
    running = docker_client.containers.run(test_image, ["sleep", "300"], name=unique("up"), labels=labels, detach=True)
    network = docker_client.networks.create(unique("net"), labels=labels)
    args = {"filters": {"label": f"group={group}"}}
    async with connect("memory", "legacy") as client:
        first = error_text(await client.call_tool("docker_system_prune", args))
        assert stopped.name in first and network.name in first and running.name not in first
        assert "build cache: not touched" in first
        structured(await client.call_tool("docker_system_prune", {**args, "confirm_token": token_of(first)}))
    assert not exists(docker_client, stopped.name) and exists(docker_client, running.name)
    assert docker_client.networks.list(names=[network.name]) == []


async def test_exactly_the_confirmed_tools_take_a_token() -> None:
    async with connect("memory", "auto") as client:
        tools = (await client.list_tools()).tools
    takes = {t.name for t in tools if "confirm_token" in t.input_schema["properties"]}
    destructive = {t.name for t in tools if t.annotations and t.annotations.destructive_hint}
    assert takes == destructive - {"docker_exec_command"}
    assert "docker_tag_image" in takes and "docker_compose_operations" in takes
