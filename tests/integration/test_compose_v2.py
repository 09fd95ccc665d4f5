"""Compose for real: every action against the engine (whichever DOCKER_HOST names), with v2-only project
files for the v2 CLI (no `version:`, `include`, `profiles`, `depends_on: condition: service_healthy`) and
build/pull on both CLIs. Results come from the CLI's machine-readable output (`ps`/`config` JSON on v2)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import docker
import pytest
import yaml
from mcp import Client

from mcp_docker.server import create_server
from tests.compose_support import CLIS, project_containers, service
from tests.conftest import allow_settings, structured

pytestmark = [pytest.mark.anyio, pytest.mark.engine]

V2_PROJECT = """\
name: {name}
include:
  - db.yaml
services:
{web}{debug}"""
DB = """\
services:
{db}    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
      timeout: 2s
      retries: 30
"""


@pytest.mark.engine_feature("compose-v2")
async def test_v2_only_project_files_every_action(
    docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str], tmp_path: Path
) -> None:
    name = unique("cv2")
    web = service(test_image, "    depends_on:\n      db:\n        condition: service_healthy\n", "web")
    debug = service(test_image, "    profiles: [debug]\n", "debug")
    (tmp_path / "compose.yaml").write_text(V2_PROJECT.format(name=name, web=web, debug=debug))
    (tmp_path / "db.yaml").write_text(DB.format(db=service(test_image, name="db")))
    args = {"project_dir": str(tmp_path)}
    async with Client(create_server(allow_settings(compose_cli="v2"))) as c:
        try:
            config = structured(await c.call_tool("docker_compose_operations", {**args, "action": "config"}))
            assert config["cli"] == "docker compose" and config["project_name"] == name
            assert "--format" in config["command"] and "*" in config["command"]
            model = yaml.safe_load(config["output"])
            assert sorted(model["services"]) == ["db", "debug", "web"]  # every profile, the included file
            assert model["services"]["web"]["depends_on"]["db"]["condition"] == "service_healthy"

            up = structured(await c.call_tool("docker_compose_operations", {**args, "action": "up"}))
            assert up["project_name"] == name
            running = {x.labels["com.docker.compose.service"]: x for x in project_containers(docker_client, name)}
            assert sorted(running) == ["db", "web"]  # the profiled service is not started
            db = docker_client.api.inspect_container(running["db"].id)
            assert db["State"]["Health"]["Status"] == "healthy"  # web waited for it
            assert sorted(x["state"] for x in up["containers"]) == ["running", "running"]

            ps = structured(await c.call_tool("docker_compose_operations", {**args, "action": "ps"}))
            assert "--format" in ps["command"]
            assert sorted(x["name"] for x in ps["containers"]) == sorted(x.name for x in running.values())

            for action in ("stop", "start", "restart"):
                done = structured(await c.call_tool("docker_compose_operations", {**args, "action": action}))
                want = "exited" if action == "stop" else "running"
                assert {x["state"] for x in done["containers"]} == {want}
                assert {x.status for x in project_containers(docker_client, name)} == {want}
            logs = structured(await c.call_tool("docker_compose_operations", {**args, "action": "logs"}))
            assert logs["exit_code"] == 0

            debug_up = structured(
                await c.call_tool("docker_compose_operations", {**args, "action": "up", "services": ["debug"]})
            )
            assert debug_up["exit_code"] == 0
            assert "debug" in {x.labels["com.docker.compose.service"] for x in project_containers(docker_client, name)}
        finally:
            down = structured(await c.call_tool("docker_compose_operations", {**args, "action": "down"}))
    assert down["exit_code"] == 0 and down["project_name"] == name
    assert project_containers(docker_client, name) == []


@pytest.mark.parametrize("cli", CLIS)
async def test_build_and_pull(
    cli: str,
    docker_client: docker.DockerClient,
    test_image: str,
    unique: Callable[[str], str],
    tmp_path: Path,
    registry: str,
) -> None:
    """`build` makes the image on the engine (BuildKit with v2 on a current engine) from a context under the
    roots; `pull` fetches a service's image from a registry."""
    built = f"{unique('cbuilt')}:1"
    pulled = f"{registry}/{unique('cpulled')}:1"
    docker_client.images.get(test_image).tag(pulled)
    docker_client.images.push(pulled)
    docker_client.images.remove(pulled)
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text(f"FROM {test_image}\nRUN echo built > /built\n")
    (tmp_path / "compose.yaml").write_text(
        "services:\n" + service(built, "    build:\n      context: ./ctx\n", "made") + service(pulled, "", "fetched")
    )
    args = {"project_dir": str(tmp_path), "project_name": unique("cbp")}
    async with Client(create_server(allow_settings(compose_cli=cli))) as c:
        made = structured(await c.call_tool("docker_compose_operations", {**args, "action": "build"}))
        assert made["exit_code"] == 0
        assert built in docker_client.images.get(built).tags
        fetched = structured(
            await c.call_tool("docker_compose_operations", {**args, "action": "pull", "services": ["fetched"]})
        )
        assert fetched["exit_code"] == 0
        assert pulled in docker_client.images.get(pulled).tags


@pytest.mark.parametrize("cli", CLIS)
async def test_profiled_service_named_starts_and_down_removes_it(
    cli: str, docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str], tmp_path: Path
) -> None:
    """A service behind a profile starts when named; `down` (every profile) removes it with the rest."""
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n" + service(test_image) + service(test_image, "    profiles: [debug]\n", "dbg")
    )
    args = {"project_dir": str(tmp_path), "project_name": unique("cpd")}
    async with Client(create_server(allow_settings(compose_cli=cli))) as c:
        try:
            structured(await c.call_tool("docker_compose_operations", {**args, "action": "up", "services": ["dbg"]}))
            started = {
                x.labels["com.docker.compose.service"] for x in project_containers(docker_client, args["project_name"])
            }
            assert "dbg" in started
            ps = structured(await c.call_tool("docker_compose_operations", {**args, "action": "ps"}))
            assert any(x["name"].endswith("dbg-1") or "_dbg_" in x["name"] for x in ps["containers"])
        finally:
            down = structured(await c.call_tool("docker_compose_operations", {**args, "action": "down"}))
    assert down["exit_code"] == 0
    assert project_containers(docker_client, args["project_name"]) == []
