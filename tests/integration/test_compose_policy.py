"""The container policy holds for Compose projects: `up` refuses a service that breaks it, and the
engine shows nothing was created. Every case runs with Compose v1 and v2."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest
from mcp import Client

from mcp_docker.config import Settings
from mcp_docker.safety.compose_policy import check_compose_model, service_request
from mcp_docker.server import create_server
from mcp_docker.utils.errors import UnsafeOperation
from tests.compose_support import CLIS
from tests.conftest import allow_settings, error_text, structured
from tests.engine import TEST_LABEL, TEST_LABEL_VALUE

pytestmark = [pytest.mark.anyio, pytest.mark.engine]

SERVICE = """\
version: "3.8"
services:
  app:
    image: {image}
    command: ["sleep", "300"]
    stop_signal: SIGKILL
    labels:
      {label}: "{value}"
{extra}
"""

CASES: list[tuple[str, str, str]] = [
    ("    privileged: true", "privileged", "MCP_DOCKER_ALLOW_PRIVILEGED"),
    ("    network_mode: host", "network", "MCP_DOCKER_ALLOW_HOST_NAMESPACES"),
    ("    pid: host", "pid mode", "MCP_DOCKER_ALLOW_HOST_NAMESPACES"),
    ("    cap_add: [SYS_ADMIN]", "capabilities", "MCP_DOCKER_ALLOWED_CAPABILITIES"),
    ("    devices: [/dev/null:/dev/x]", "devices", "MCP_DOCKER_ALLOW_DEVICES"),
    ("    security_opt: [seccomp:unconfined]", "security options", "MCP_DOCKER_ALLOW_UNCONFINED"),
    ("    volumes: [/etc:/host-etc:ro]", "/etc", "MCP_DOCKER_ALLOWED_BIND_ROOTS"),
    ("    volumes: [./data:/data]", "bind mount", "MCP_DOCKER_ALLOWED_BIND_ROOTS"),
    (
        "    volumes:\n      - type: bind\n        source: /\n        target: /host",
        "bind",
        "MCP_DOCKER_ALLOWED_BIND_ROOTS",
    ),
    ("    volumes: [/var/run/docker.sock:/var/run/docker.sock]", "socket", ""),
    (
        "    volumes: [hostdata:/data]\nvolumes:\n  hostdata:\n    driver_opts: {type: none, o: bind, device: /etc}",
        "hostdata",
        "MCP_DOCKER_ALLOWED_BIND_ROOTS",
    ),
]


@pytest.fixture(params=CLIS)
def cli(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(cli: str) -> Settings:
    return allow_settings(compose_cli=cli)


def _project_containers(docker_client: docker.DockerClient, project: str) -> list[Any]:
    return docker_client.containers.list(all=True, filters={"label": f"com.docker.compose.project={project}"})


@pytest.mark.parametrize(("extra", "what", "setting"), CASES, ids=[c[1] + str(i) for i, c in enumerate(CASES)])
async def test_up_refuses_what_create_would_refuse(
    client: Client,
    docker_client: docker.DockerClient,
    test_image: str,
    unique: Callable[[str], str],
    tmp_path: Path,
    extra: str,
    what: str,
    setting: str,
) -> None:
    (tmp_path / "docker-compose.yml").write_text(
        SERVICE.format(image=test_image, label=TEST_LABEL, value=TEST_LABEL_VALUE, extra=extra)
    )
    project = unique("cpol")
    text = error_text(
        await client.call_tool(
            "docker_compose_operations", {"action": "up", "project_dir": str(tmp_path), "project_name": project}
        )
    )
    assert "Refused" in text
    assert what in text
    assert setting in text
    assert "Compose " in text
    assert _project_containers(docker_client, project) == []
    assert [n for n in docker_client.networks.list() if n.name.startswith(project)] == []


async def test_up_allows_what_the_operator_allows(
    docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str], tmp_path: Path, cli: str
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "docker-compose.yml").write_text(
        SERVICE.format(
            image=test_image, label=TEST_LABEL, value=TEST_LABEL_VALUE, extra="    volumes: [./data:/data:ro]"
        )
    )
    project = unique("cpok")
    args = {"project_dir": str(tmp_path), "project_name": project}
    async with Client(create_server(allow_settings(allowed_bind_roots=[str(tmp_path)], compose_cli=cli))) as c:
        try:
            up = structured(await c.call_tool("docker_compose_operations", {**args, "action": "up"}))
            assert up["exit_code"] == 0
            running = _project_containers(docker_client, project)
            assert len(running) == 1
            assert running[0].attrs["HostConfig"]["Binds"][0].endswith(":/data:ro")
        finally:
            await c.call_tool("docker_compose_operations", {**args, "action": "down"})


def test_service_request_reads_every_spelling() -> None:
    request = service_request(
        {
            "privileged": True,
            "cap_add": "NET_ADMIN",
            "network_mode": "service:db",
            "pid": "host",
            "volumes": ["a:/a", {"type": "bind", "source": "/x", "target": "/y"}, {"type": "tmpfs", "target": "/t"}, 7],
            "devices": ["/dev/fuse"],
        }
    )
    assert request.privileged is True
    assert request.cap_add == ["NET_ADMIN"]
    assert request.network_mode is None  # joining a service of the same project is not a host namespace
    assert request.pid_mode == "host"
    assert request.volumes == ["a:/a"]
    assert [(m.type, m.source) for m in request.mounts] == [("bind", "/x")]
    assert request.devices == ["/dev/fuse"]


def test_model_check_is_an_allow_list() -> None:
    """Pure logic: every key off the list is refused by name, wherever it is; listed keys pass."""
    ok = {"name": "p", "services": {"app": {"image": "x", "ports": ["127.0.0.1:80:80"], "x-note": 1}}}
    check_compose_model(ok, Settings())
    refused = [
        ({"services": {"app": {"image": "x", "sysctls": {"kernel.core_pattern": "|/x"}}}}, "key 'sysctls'"),
        ({"services": {"app": {"image": "x", "whatever_new": 1}}}, "key 'whatever_new'"),
        ({"services": {}, "secrets": {"s": {"file": "/etc/shadow"}}}, "Compose project: key 'secrets'"),
        ({"services": {}, "volumes": {"v": {"external": True}}}, "Compose volume 'v': key 'external'"),
        ({"services": {}, "networks": {"n": {"external": True}}}, "Compose network 'n': key 'external'"),
        ({"services": {}, "networks": {"n": {"driver": "macvlan"}}}, "key 'driver'"),
        ({"services": {"app": {"build": {"context": "/tmp", "ssh": ["default"]}}}}, "build: key 'ssh'"),
        ({"services": {"app": {"build": {"context": "/tmp", "network": "host"}}}}, "build: key 'network'"),
        ({"services": {"app": {"build": {"context": "/tmp", "dockerfile": "/etc/passwd"}}}}, "key 'dockerfile'"),
        ({"services": {"app": {"build": {"context": "/tmp", "cache_to": ["type=local,dest=/x"]}}}}, "'cache_to'"),
        ({"services": {"app": {"image": "x", "ports": ["8080:80"]}}}, "every interface"),
        ({"services": {"app": {"image": "x", "ports": [{"target": 80, "host_ip": "10.0.0.1"}]}}}, "10.0.0.1"),
        ({"services": {"app": {"image": "x", "gpus": "all"}}}, "MCP_DOCKER_ALLOW_DEVICES"),
    ]
    strict = Settings(allowed_build_roots=["/tmp"])
    for model, text in refused:
        with pytest.raises(UnsafeOperation, match=text.replace("(", r"\(")):
            check_compose_model(model, strict)
    check_compose_model(
        {"services": {"app": {"image": "x", "ports": ["8080:80"]}}}, Settings(allowed_publish_addresses=["0.0.0.0"])
    )


async def test_build_contexts_must_be_under_allowed_roots(
    docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str], tmp_path: Path, cli: str
) -> None:
    """A build context's files go to the engine and can be copied into an image, then read back: like a
    bind mount, it needs an allowed root. Refused by default, for builds and for compose projects (the
    project itself under a root, its build context not)."""
    context, compose_dir = tmp_path / "ctx", tmp_path / "proj"
    context.mkdir()
    compose_dir.mkdir()
    (context / "Dockerfile").write_text(f"FROM {test_image}\nCOPY Dockerfile /copied\n")
    built_image = unique("built") + ":1"
    (compose_dir / "docker-compose.yml").write_text(
        SERVICE.format(image=built_image, label=TEST_LABEL, value=TEST_LABEL_VALUE, extra="    build: ../ctx")
    )
    tag = f"{unique('refused')}:1"
    project = unique("cbuild")
    strict = allow_settings(allowed_build_roots=[], allowed_bind_roots=[str(compose_dir)], compose_cli=cli)
    async with Client(create_server(strict)) as c:
        text = error_text(await c.call_tool("docker_build_image", {"path": str(context), "tag": tag}))
        assert "Refused: building from" in text
        assert "MCP_DOCKER_ALLOWED_BUILD_ROOTS" in text
        with pytest.raises(docker.errors.ImageNotFound):
            docker_client.images.get(tag)
        for action in ("up", "build"):
            text = error_text(
                await c.call_tool(
                    "docker_compose_operations",
                    {"action": action, "project_dir": str(compose_dir), "project_name": project},
                )
            )
            assert "Compose service 'app'" in text
            assert "MCP_DOCKER_ALLOWED_BUILD_ROOTS" in text
        assert _project_containers(docker_client, project) == []
        with pytest.raises(docker.errors.ImageNotFound):
            docker_client.images.get(built_image)
    # A bind root counts as a build root.
    roots = allow_settings(allowed_build_roots=[], allowed_bind_roots=[str(tmp_path)], compose_cli=cli)
    async with Client(create_server(roots)) as c:
        built = structured(await c.call_tool("docker_build_image", {"path": str(context), "tag": tag}))
        assert tag in built["tags"]
    assert tag in docker_client.images.get(tag).tags
