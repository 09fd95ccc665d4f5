"""docker_compose_operations with the machine's Compose CLI, on a two-service project from the test image."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import docker
import pytest
from mcp import Client

from mcp_docker.docker.client import Engine
from mcp_docker.safety.compose_policy import redact_model
from mcp_docker.server import create_server
from mcp_docker.tools.compose_cli import build_command, compose_cli, compose_env
from tests.conftest import allow_settings, error_text, structured
from tests.engine import TEST_LABEL, TEST_LABEL_VALUE

pytestmark = [pytest.mark.anyio, pytest.mark.engine]

COMPOSE = """\
version: "3.8"
services:
  web:
    image: {image}
    command: ["sh", "-c", "echo web-ready; sleep 300"]
    stop_signal: SIGKILL
    labels:
      {label}: "{value}"
    environment:
      SECRET_TOKEN: s3cr3t
    volumes:
      - data:/data
  worker:
    image: {image}
    command: ["sh", "-c", "echo worker-ready; sleep 300"]
    stop_signal: SIGKILL
    labels:
      {label}: "{value}"
volumes:
  data: {{}}
"""


@pytest.fixture
async def project(
    tmp_path: Path, test_image: str, unique: Callable[[str], str], docker_client: docker.DockerClient
) -> AsyncIterator[dict[str, str]]:
    (tmp_path / "docker-compose.yml").write_text(
        COMPOSE.format(image=test_image, label=TEST_LABEL, value=TEST_LABEL_VALUE)
    )
    args = {"project_dir": str(tmp_path), "project_name": unique("proj")}
    try:
        yield args
    finally:
        async with Client(create_server(allow_settings())) as c:
            await c.call_tool("docker_compose_operations", {**args, "action": "down", "remove_volumes": True})


def project_containers(docker_client: docker.DockerClient, name: str) -> list[Any]:
    return docker_client.containers.list(all=True, filters={"label": f"com.docker.compose.project={name}"})


async def test_compose_up_ps_logs_down_keeps_volumes(
    client: Client, docker_client: docker.DockerClient, project: dict[str, str]
) -> None:
    name = project["project_name"]
    progress: list[str] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(message or "")

    up = structured(
        await client.call_tool("docker_compose_operations", {**project, "action": "up"}, progress_callback=on_progress)
    )
    assert up["exit_code"] == 0
    assert up["cli"] in ("docker compose", "docker-compose")
    assert "--ansi" in up["command"]
    assert progress, "up sent no progress notifications"
    running = project_containers(docker_client, name)
    services = sorted(c.labels["com.docker.compose.service"] for c in running)
    assert services == ["web", "worker"]
    assert all(c.status == "running" for c in running)
    assert {c["state"] for c in up["containers"]} == {"running"}

    ps = structured(await client.call_tool("docker_compose_operations", {**project, "action": "ps"}))
    assert sorted(c["name"] for c in ps["containers"]) == sorted(c.name for c in running)
    assert {c["state"] for c in ps["containers"]} == {"running"}

    text = ""
    for _ in range(50):  # the services echo right after they start
        logs = structured(await client.call_tool("docker_compose_operations", {**project, "action": "logs"}))
        text = logs["output"]
        if "web-ready" in text and "worker-ready" in text:
            break
    assert "web-ready" in text and "worker-ready" in text

    only = structured(
        await client.call_tool("docker_compose_operations", {**project, "action": "logs", "services": ["worker"]})
    )
    assert "worker-ready" in only["output"] and "web-ready" not in only["output"]

    config = structured(await client.call_tool("docker_compose_operations", {**project, "action": "config"}))
    assert "worker" in config["output"]
    assert "s3cr3t" not in config["output"] and "SECRET_TOKEN" in config["output"]

    stopped = structured(
        await client.call_tool("docker_compose_operations", {**project, "action": "stop", "services": ["worker"]})
    )
    states = {c["name"]: c["state"] for c in stopped["containers"]}
    assert sorted(states.values()) == ["exited", "running"]
    structured(await client.call_tool("docker_compose_operations", {**project, "action": "start"}))
    assert all(c.status == "running" for c in project_containers(docker_client, name))

    volume = f"{name}_data"
    assert docker_client.volumes.get(volume).name == volume
    down = structured(await client.call_tool("docker_compose_operations", {**project, "action": "down"}))
    assert down["exit_code"] == 0
    assert project_containers(docker_client, name) == []
    assert docker_client.volumes.get(volume).name == volume  # kept: not asked to remove volumes

    structured(
        await client.call_tool("docker_compose_operations", {**project, "action": "down", "remove_volumes": True})
    )
    with pytest.raises(docker.errors.NotFound):
        docker_client.volumes.get(volume)


async def test_compose_bad_input_is_clear(client: Client, tmp_path: Path, project: dict[str, str]) -> None:
    missing = error_text(
        await client.call_tool("docker_compose_operations", {"action": "ps", "project_dir": str(tmp_path / "nope")})
    )
    assert "is not a directory" in missing
    empty = tmp_path / "empty"
    empty.mkdir()
    no_file = error_text(
        await client.call_tool("docker_compose_operations", {"action": "ps", "project_dir": str(empty)})
    )
    assert "No compose file" in no_file
    no_such = error_text(
        await client.call_tool("docker_compose_operations", {"action": "config", "files": [str(tmp_path / "x.yml")]})
    )
    assert "does not exist" in no_such
    nothing = error_text(await client.call_tool("docker_compose_operations", {"action": "ps"}))
    assert "project_dir" in nothing
    bad_name = error_text(
        await client.call_tool("docker_compose_operations", {**project, "action": "ps", "project_name": "Bad Name"})
    )
    assert "Invalid project name" in bad_name
    flag = error_text(
        await client.call_tool("docker_compose_operations", {**project, "action": "logs", "services": ["-v"]})
    )
    assert "Invalid service name" in flag
    vols = error_text(
        await client.call_tool("docker_compose_operations", {**project, "action": "stop", "remove_volumes": True})
    )
    assert "down" in vols
    (tmp_path / "broken.yml").write_text("services:\n  web:\n    image: [\n")
    broken = error_text(
        await client.call_tool(
            "docker_compose_operations", {"files": [str(tmp_path / "broken.yml")], "action": "config"}
        )
    )
    assert "is not valid YAML (line 4" in broken and "image: [" not in broken


async def test_compose_levels_follow_action(tmp_path: Path, project: dict[str, str]) -> None:
    async with Client(create_server(allow_settings(read_only=True))) as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
        assert "docker_compose_operations" in tools  # offered: some actions only read
        ps = structured(await c.call_tool("docker_compose_operations", {**project, "action": "ps"}))
        assert ps["containers"] == []
        refused = error_text(await c.call_tool("docker_compose_operations", {**project, "action": "up"}))
        assert "MCP_DOCKER_READ_ONLY" in refused
    async with Client(create_server(allow_settings(destructive="deny"))) as c:
        refused = error_text(await c.call_tool("docker_compose_operations", {**project, "action": "down"}))
        assert "MCP_DOCKER_DESTRUCTIVE=deny" in refused
    async with Client(create_server(allow_settings())) as c:
        tool = {t.name: t for t in (await c.list_tools()).tools}["docker_compose_operations"]
        assert tool.annotations is not None and tool.annotations.destructive_hint is True


def test_compose_cli_and_redaction() -> None:
    assert compose_cli()[-1] in ("compose", "docker-compose") or compose_cli()[0].endswith("docker-compose")
    model = {
        "services": {
            "a": {
                "environment": {"A": "one", "N": None},
                "labels": ["l=v"],
                "image": "x",
                "build": {"args": {"K": "v"}},
            },
            "b": {"environment": ["B=two", "C"]},
        },
        "volumes": {"v": {"labels": {"k": "secret"}}},
    }
    assert redact_model(model) == {
        "services": {
            "a": {
                "environment": {"A": "***", "N": None},
                "labels": ["l=***"],
                "image": "x",
                "build": {"args": {"K": "***"}},
            },
            "b": {"environment": ["B=***", "C"]},
        },
        "volumes": {"v": {"labels": {"k": "***"}}},
    }


async def test_compose_files_relative_to_dir_and_timeout(client: Client, project: dict[str, str]) -> None:
    directory = Path(project["project_dir"])
    (directory / "docker-compose.yml").rename(directory / "stack.yml")
    config = structured(
        await client.call_tool("docker_compose_operations", {**project, "action": "config", "files": ["stack.yml"]})
    )
    assert str(directory / "stack.yml") in config["command"]
    assert "worker" in config["output"]
    slow = error_text(
        await client.call_tool(
            "docker_compose_operations", {**project, "action": "config", "files": ["stack.yml"], "timeout": 0.05}
        )
    )
    assert "did not finish within 0.05 s" in slow
    (directory / "stack.yml").rename(directory / "docker-compose.yml")


def test_build_command_and_environment(tmp_path: Path) -> None:
    v2 = build_command(
        ("/usr/bin/docker", "compose"),
        "ps",
        tmp_path,
        [tmp_path / "a.yml"],
        "proj",
        ["web"],
    )
    assert v2 == [
        "/usr/bin/docker",
        "compose",
        "--ansi",
        "never",
        "-f",
        str(tmp_path / "a.yml"),
        "--project-directory",
        str(tmp_path),
        "-p",
        "proj",
        "ps",
        "--format",
        "json",
        "-a",
        "web",
    ]
    assert build_command(("docker-compose",), "ps", tmp_path, [], "p", [])[-2:] == ["ps", "-q"]
    up = build_command(("docker-compose",), "up", tmp_path, [], None, [], build=True)
    assert up[-3:] == ["up", "-d", "--build"]
    logs = build_command(("docker-compose",), "logs", tmp_path, [], None, [], tail=5)
    assert logs[-4:] == ["logs", "--no-color", "--tail", "5"]
    env = compose_env(Engine(base_url="tcp://127.0.0.1:2376", environment={"DOCKER_TLS_VERIFY": "1"}))
    assert env["DOCKER_HOST"] == "tcp://127.0.0.1:2376" and env["DOCKER_TLS_VERIFY"] == "1"
    assert not any(k.startswith("MCP_DOCKER_") for k in env)
    assert set(env) <= {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "COMPOSE_INTERACTIVE_NO_CLI"} | {
        k for k in env if k.startswith("DOCKER_") or k.lower().endswith("_proxy") or k == "BUILDKIT_PROGRESS"
    }
