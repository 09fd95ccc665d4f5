"""The project's container image: built from the Dockerfile (offline, FROM the locally made base
image), run with the engine's socket mounted, and used by an MCP client over stdio (`docker run -i`).

The base image (`mcp-docker-base/python:3.11-bookworm`) is built once per machine by
scripts/build_base_image.sh when missing, and kept on purpose; the image built here is tagged with the
test prefix and removed at the end, with the builder stage's intermediate images.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from mcp import Client, StdioServerParameters

from mcp_docker import __version__
from mcp_docker.config import Settings
from mcp_docker.server import create_server
from tests import engine as test_engine
from tests.conftest import MODES, TEST_LABELS, structured

pytestmark = [pytest.mark.anyio, pytest.mark.engine]

ROOT = Path(__file__).resolve().parents[2]
BASE_IMAGE = os.environ.get("MCP_DOCKER_BASE_IMAGE", "mcp-docker-base/python:3.11-bookworm")
IMAGE = f"{test_engine.PREFIX}mcp-docker:test"
WHEELS = ".docker-wheels"


def socket_path() -> str:
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    assert host.startswith("unix://"), f"the image test mounts the engine's socket; DOCKER_HOST={host} is not one"
    return host.removeprefix("unix://")


def socket_gid() -> str:
    return str(os.stat(socket_path()).st_gid)


def run_script(*args: str) -> float:
    """Run one of scripts/ and return how long it took (printed: CI time budgets are watched)."""
    start = time.monotonic()
    done = subprocess.run(["bash", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    took = time.monotonic() - start
    assert done.returncode == 0, f"{args[0]} failed:\n{done.stdout}\n{done.stderr}"
    print(f"\n{args[0]}: {took:.1f} s; {done.stdout.strip().splitlines()[-1:]}", file=sys.stderr)
    return took


@pytest.fixture(scope="module")
def base_image(docker_client: docker.DockerClient) -> str:
    """The Debian 12 + Python 3.11 base, made here without a registry when this machine lacks it."""
    try:
        docker_client.images.get(BASE_IMAGE)
    except docker.errors.ImageNotFound:
        run_script("scripts/build_base_image.sh", BASE_IMAGE)
        docker_client.images.get(BASE_IMAGE)
    return BASE_IMAGE


@pytest.fixture(scope="module")
def image(docker_client: docker.DockerClient, base_image: str) -> Iterator[dict[str, Any]]:
    """Build the Dockerfile (offline wheels prepared on the host) and return the image's attributes."""
    run_script("scripts/prepare_wheels.sh", WHEELS)
    steps: list[str] = []
    log: list[str] = []
    start = time.monotonic()
    for chunk in docker_client.api.build(
        path=str(ROOT),
        tag=IMAGE,
        buildargs={"BASE_IMAGE": base_image, "WHEELS": WHEELS, "VERSION": __version__},
        labels=TEST_LABELS,
        rm=True,
        forcerm=True,
        decode=True,
    ):
        text = str(chunk.get("stream", ""))
        log.append(text)
        if text.strip().startswith("---> ") and " " not in text.strip()[5:]:
            steps.append(text.strip()[5:])
        assert "error" not in chunk, "".join(log[-30:]) + str(chunk)
    print(f"\nimage build: {time.monotonic() - start:.1f} s", file=sys.stderr)
    try:
        yield docker_client.api.inspect_image(IMAGE)
    finally:
        with contextlib.suppress(docker.errors.NotFound):
            docker_client.images.remove(IMAGE, force=True)
        # The builder stage's layers are untagged images of this build; those no one else uses go too.
        # Not the base image: its id is the first step's "--->" line, and it is kept per machine.
        base_id = docker_client.images.get(base_image).id.removeprefix("sha256:")
        for step in reversed(steps):
            if base_id.startswith(step):
                continue
            with contextlib.suppress(docker.errors.APIError):
                docker_client.images.remove(step)


def docker_run_params(name: str, image_ref: str, *extra: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=shutil.which("docker") or "docker",
        args=[
            "run",
            "-i",
            "--rm",
            "--name",
            name,
            "--label",
            f"{test_engine.TEST_LABEL}={test_engine.TEST_LABEL_VALUE}",
            "-v",
            f"{socket_path()}:/var/run/docker.sock",
            "--group-add",
            socket_gid(),
            "-e",
            "MCP_DOCKER_LOG_LEVEL=WARNING",
            *extra,
            image_ref,
        ],
        env=dict(os.environ),
    )


async def served_tools(settings: Settings) -> set[str]:
    async with Client(create_server(settings)) as c:
        return {t.name for t in (await c.list_tools()).tools}


def test_image_is_slim_non_root_with_healthcheck(image: dict[str, Any]) -> None:
    config = image["Config"]
    assert config["User"] == "mcpuser"
    assert config["Entrypoint"] == ["mcp-docker"]
    assert config["Healthcheck"]["Test"] == ["CMD", "mcp-docker", "doctor", "--json"]
    assert config["Labels"]["org.opencontainers.image.version"] == __version__
    assert image["Size"] < 300 * 1024 * 1024, image["Size"]  # the base is ~125 MB, the venv ~35 MB


@pytest.mark.parametrize("mode", MODES)
async def test_mcp_client_lists_tools_over_stdio_from_the_image(
    mode: str, image: dict[str, Any], docker_client: docker.DockerClient, unique: Callable[[str], str]
) -> None:
    name = unique("image-stdio")
    async with Client(docker_run_params(name, IMAGE), mode=mode) as c:
        assert c.server_info is not None and c.server_info.name == "mcp-docker"
        assert c.server_info.version == __version__
        names = {t.name for t in (await c.list_tools()).tools}
        assert names == await served_tools(Settings())

        # The server in the container reaches the engine through the socket, as mcpuser.
        me = docker_client.containers.get(name)
        assert me.attrs["Config"]["User"] == "mcpuser"
        listed = structured(await c.call_tool("docker_list_containers", {"filters": {"name": name}}))
        assert [x["name"] for x in listed["containers"]] == [name]
        assert listed["containers"][0]["state"] == "running"
    # The client closed stdin: the server exits and `--rm` removes the container (waited for, not timed).
    with contextlib.suppress(docker.errors.NotFound):
        docker_client.api.wait(name, condition="removed", timeout=120)
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(name)


async def test_image_honours_settings_from_the_environment(image: dict[str, Any], unique: Callable[[str], str]) -> None:
    async with Client(docker_run_params(unique("image-ro"), IMAGE, "-e", "MCP_DOCKER_READ_ONLY=true")) as c:
        names = {t.name for t in (await c.list_tools()).tools}
    assert names == await served_tools(Settings(read_only=True))
    assert "docker_remove_container" not in names


def test_healthcheck_command_reports_the_engine(
    image: dict[str, Any], docker_client: docker.DockerClient, unique: Callable[[str], str]
) -> None:
    """The HEALTHCHECK passes with the socket's group, and fails (exit 1) without it."""
    command = image["Config"]["Healthcheck"]["Test"][1:]
    mount = {socket_path(): {"bind": "/var/run/docker.sock", "mode": "rw"}}
    with_group = docker_client.containers.run(
        IMAGE, detach=True, stdin_open=True, name=unique("health"), labels=TEST_LABELS,
        volumes=mount, group_add=[socket_gid()],
    )  # fmt: skip
    without_group = docker_client.containers.run(
        IMAGE, detach=True, stdin_open=True, name=unique("nohealth"), labels=TEST_LABELS, volumes=mount
    )
    try:
        with_group.reload()
        assert with_group.status == "running"  # serving stdio, waiting for a client
        assert with_group.attrs["State"]["Health"]["Status"] in {"starting", "healthy"}
        code, out = with_group.exec_run(command)
        assert code == 0, out
        report = json.loads(out)
        assert report["engine"]["reachable"] is True
        assert report["engine"]["server_version"] == docker_client.version()["Version"]

        code, out = without_group.exec_run(command)
        assert code == 1
        assert json.loads(out)["engine"]["reachable"] is False
        assert b"Permission denied" in out
    finally:
        for c in (with_group, without_group):
            c.remove(force=True)


def test_compose_file_for_development_is_valid() -> None:
    compose = shutil.which("docker-compose")
    cmd = [compose] if compose else ["docker", "compose"]
    env = {**os.environ, "DOCKER_GID": socket_gid()}
    done = subprocess.run(
        [*cmd, "-f", "docker-compose.yml", "config"], cwd=ROOT, capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "/var/run/docker.sock" in text  # socket mount
    assert str(ROOT / "src") in text  # source mount
    assert "MCP_DOCKER_" in text
    assert socket_gid() in text


def test_source_mount_overrides_the_installed_package(
    image: dict[str, Any], docker_client: docker.DockerClient
) -> None:
    """What docker-compose.yml relies on: src/ mounted at /opt/src with PYTHONPATH wins over the install."""
    out = docker_client.containers.run(
        IMAGE,
        ["-c", "import mcp_docker, mcp_docker.server; print(mcp_docker.__file__)"],
        entrypoint=["python3"],
        environment={"PYTHONPATH": "/opt/src"},
        volumes={str(ROOT / "src"): {"bind": "/opt/src", "mode": "ro"}},
        labels=TEST_LABELS,
        remove=True,
    )
    assert out.decode().strip() == "/opt/src/mcp_docker/__init__.py"
