"""The gated CLI endpoint (safety/gate_proxy.py) with the real CLIs: `docker compose` (v2 plugin),
`docker-compose` (v1) and `docker buildx build` pointed at the private socket. A harmless project goes
up, is listed and goes down; a project that asks for host access is refused by the proxy and nothing of
it (no container, no volume) reaches the engine; a BuildKit build (h2c session and gRPC) goes through."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import docker
import pytest

from mcp_docker.config import Settings
from mcp_docker.docker.client import Engine
from mcp_docker.safety.gate_proxy import gated_engine
from tests.engine import PREFIX, TEST_LABEL

pytestmark = [pytest.mark.anyio, pytest.mark.engine]


def _has_compose_v2() -> bool:
    docker_bin = shutil.which("docker")
    if not docker_bin:
        return False
    return subprocess.run([docker_bin, "compose", "version"], capture_output=True, check=False).returncode == 0


def _has_buildx() -> bool:
    docker_bin = shutil.which("docker")
    if not docker_bin:
        return False
    return subprocess.run([docker_bin, "buildx", "version"], capture_output=True, check=False).returncode == 0


CLIS = [
    pytest.param(("docker", "compose"), id="compose-v2", marks=pytest.mark.engine_feature("compose-v2")),
    pytest.param(("docker-compose",), id="compose-v1", marks=pytest.mark.engine_feature("compose-v1")),
]


def _require(cli: tuple[str, ...]) -> None:
    present = _has_compose_v2() if cli == ("docker", "compose") else shutil.which(cli[0]) is not None
    if not present:
        pytest.fail(f"{' '.join(cli)} is not installed on this machine (ENGINE.md says how to get it)")


def _project(root: Path, service: dict[str, Any], volumes: dict[str, Any] | None = None) -> Path:
    labels = {TEST_LABEL: PREFIX}
    doc: dict[str, Any] = {
        "services": {"web": {"command": ["sleep", "300"], "labels": labels, **service}},
        "networks": {"default": {"labels": labels}},
    }
    if volumes:
        doc["volumes"] = {name: {**spec, "labels": labels} for name, spec in volumes.items()}
    root.mkdir(parents=True, exist_ok=True)
    (root / "docker-compose.yml").write_text(json.dumps(doc))
    return root


async def _run(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    with anyio.fail_after(240):
        return await anyio.run_process(argv, env=env, cwd=cwd, check=False)


@pytest.fixture
def engine() -> Any:
    eng = Engine(settings=Settings())
    yield eng
    eng.close()


def _project_objects(client: docker.DockerClient, project: str) -> tuple[list[Any], list[Any]]:
    label = f"com.docker.compose.project={project}"
    return (
        client.containers.list(all=True, filters={"label": label}),
        client.volumes.list(filters={"label": label}),
    )


@pytest.mark.parametrize("cli", CLIS)
async def test_a_harmless_project_goes_up_and_down_through_the_gate(
    cli: tuple[str, ...],
    engine: Engine,
    tmp_path: Path,
    docker_client: docker.DockerClient,
    test_image: str,
    unique: Callable[[str], str],
) -> None:
    _require(cli)
    project = unique("proj").replace("-", "")
    directory = _project(
        tmp_path / "ok",
        {"image": test_image, "ports": ["127.0.0.1::80"], "volumes": ["data:/data"]},
        {"data": {}},
    )
    async with gated_engine(engine) as gate:
        mode = stat.S_IMODE(os.stat(os.path.dirname(gate.socket_path)).st_mode)
        assert mode == 0o700
        env = {**os.environ, **gate.env}
        base = [*cli, "-p", project]
        up = await _run([*base, "up", "-d"], env, directory)
        assert up.returncode == 0, up.stderr.decode()
        containers, volumes = _project_objects(docker_client, project)
        assert [c.status for c in containers] == ["running"] and len(volumes) == 1
        ps = await _run([*base, "ps"], env, directory)
        assert ps.returncode == 0 and b"web" in ps.stdout, ps.stderr.decode()
        down = await _run([*base, "down", "-v"], env, directory)
        assert down.returncode == 0, down.stderr.decode()
        assert gate.refusals == [] and gate.forwarded > 5
    assert _project_objects(docker_client, project) == ([], [])
    assert not os.path.exists(gate.socket_path)


BAD_PROJECTS = [
    ("privileged", {"privileged": True}, None, "Privileged"),
    ("host-network", {"network_mode": "host"}, None, "NetworkMode"),
    ("bind-root", {"volumes": ["/:/host"]}, None, "Binds"),
    ("cap-sys-admin", {"cap_add": ["SYS_ADMIN"]}, None, "SYS_ADMIN"),
    (
        "overlay-volume",
        {"volumes": ["ov:/x"]},
        {"ov": {"driver_opts": {"type": "overlay", "device": "overlay", "o": "lowerdir=/etc"}}},
        "overlay",
    ),
    ("publish-all-interfaces", {"ports": ["18099:80"]}, None, "HostIp"),
]


@pytest.mark.parametrize("cli", CLIS)
@pytest.mark.parametrize(("case", "service", "volumes", "word"), BAD_PROJECTS, ids=[c[0] for c in BAD_PROJECTS])
async def test_a_project_asking_for_the_host_is_refused_with_nothing_created(
    cli: tuple[str, ...],
    case: str,
    service: dict[str, Any],
    volumes: dict[str, Any] | None,
    word: str,
    engine: Engine,
    tmp_path: Path,
    docker_client: docker.DockerClient,
    test_image: str,
    unique: Callable[[str], str],
) -> None:
    _require(cli)
    project = unique("bad").replace("-", "")
    directory = _project(tmp_path / case, {"image": test_image, **service}, volumes)
    async with gated_engine(engine) as gate:
        env = {**os.environ, **gate.env}
        try:
            up = await _run([*cli, "-p", project, "up", "-d"], env, directory)
        finally:
            await _run([*cli, "-p", project, "down", "-v"], env, directory)
    assert up.returncode != 0
    assert b"Refused by mcp-docker" in up.stderr + up.stdout, up.stderr.decode()
    assert gate.refusals and word in str(gate.refusals[0]), [str(r) for r in gate.refusals]
    assert _project_objects(docker_client, project) == ([], [])


async def test_refusals_are_answered_403_in_dockers_error_shape(engine: Engine) -> None:
    async with gated_engine(engine) as gate:

        def ask() -> bytes:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.connect(gate.socket_path)
                sock.sendall(b"POST /v1.41/plugins/pull?remote=x HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n")
                data = b""
                while chunk := sock.recv(65536):
                    data += chunk
                return data

        def ask_services(body: bytes) -> bytes:  # a JSON body sent as text/plain is still checked as JSON
            with socket.socket(socket.AF_UNIX) as sock:
                sock.connect(gate.socket_path)
                head = "POST /v1.41/services/create HTTP/1.1\r\nHost: d\r\nContent-Type: text/plain\r\n"
                sock.sendall(head.encode() + b"Transfer-Encoding: chunked\r\n\r\n")
                sock.sendall(f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n")
                data = b""
                while chunk := sock.recv(65536):
                    data += chunk
                return data

        raw = await anyio.to_thread.run_sync(ask)
        spec = {"Name": "x", "TaskTemplate": {"ContainerSpec": {"Image": "i", "Privileged": True}}}
        raw_service = await anyio.to_thread.run_sync(ask_services, json.dumps(spec).encode())
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 403")
    assert json.loads(body)["message"].startswith("Refused by mcp-docker: engine endpoint POST /plugins/pull")
    head, _, body = raw_service.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 403") and b"ContainerSpec.Privileged" in body
    assert len(gate.refusals) == 2 and gate.forwarded == 0


async def test_exec_hijack_and_keep_alive_go_through(
    engine: Engine, run_container: Callable[..., Any], docker_client: docker.DockerClient
) -> None:
    container = run_container()

    def through(host: str) -> None:  # a docker-py client of its own, on a worker thread (the proxy runs here)
        client = docker.DockerClient(base_url=host, version="1.41")
        try:
            assert client.containers.get(container.id).status == "running"
            result = client.containers.get(container.id).exec_run(["sh", "-c", "echo hijacked; echo err >&2"])
            assert result.exit_code == 0 and b"hijacked" in result.output
            assert client.api.logs(container.id, stream=False) == b""
            with pytest.raises(docker.errors.APIError) as caught:
                client.api.exec_create(container.id, ["id"], privileged=True)
            assert caught.value.status_code == 403
            assert "Refused by mcp-docker" in str(caught.value.explanation)
        finally:
            client.close()

    async with gated_engine(engine) as gate:
        await anyio.to_thread.run_sync(through, gate.docker_host)
    assert len(gate.refusals) == 1


@pytest.mark.engine_feature("buildkit")
async def test_buildx_builds_through_the_gate(
    engine: Engine, tmp_path: Path, docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str]
) -> None:
    if not _has_buildx():
        pytest.fail("docker buildx is not installed on this machine (ENGINE.md says how to get it)")
    tag = unique("built") + ":1"
    (tmp_path / "Dockerfile").write_text(f"FROM {test_image}\nRUN echo built > /built\n")
    async with gated_engine(engine) as gate:
        env = {**os.environ, **gate.env}
        build = await _run(
            ["docker", "buildx", "build", "--label", f"{TEST_LABEL}={PREFIX}", "-t", tag, "."], env, tmp_path
        )
        assert build.returncode == 0, build.stderr.decode()[-2000:]
        assert gate.refusals == []
    try:
        output = docker_client.containers.run(tag, ["cat", "/built"], remove=True, labels={TEST_LABEL: PREFIX})
        assert output == b"built\n"
    finally:
        docker_client.images.remove(tag, force=True)
