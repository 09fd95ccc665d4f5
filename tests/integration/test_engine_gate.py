"""The engine gate attacked on the real engine: through the MCP tools (where a tool-level check may answer
first, the gate must hold anyway), and straight through the server's docker-py client (no tool check at
all), with objects made outside the server. Every test checks on the engine that nothing was created,
started, or run."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest
from mcp import Client

from mcp_docker.config import Settings
from mcp_docker.docker.client import Engine
from mcp_docker.server import create_server
from mcp_docker.utils.errors import UnsafeOperation
from tests.conftest import MODES, TEST_LABELS, allow_settings, error_text, structured
from tests.private_engine import free_port

pytestmark = [pytest.mark.anyio, pytest.mark.engine]

PUBLISH = "MCP_DOCKER_ALLOWED_PUBLISH_ADDRESSES"

VOLUME_ATTACKS = [
    ("overlay-etc", {"type": "overlay", "device": "overlay", "o": "lowerdir=/etc,upperdir=/tmp/u,workdir=/tmp/w"}),
    ("proc", {"type": "proc", "device": "proc"}),
    ("cgroup", {"type": "cgroup", "device": "cgroup", "o": "devices"}),
    ("relative-device", {"type": "none", "o": "bind", "device": "../../../etc"}),
    ("bind-etc", {"type": "none", "o": "bind", "device": "/etc"}),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("case", "opts"), VOLUME_ATTACKS, ids=[c[0] for c in VOLUME_ATTACKS])
async def test_volume_driver_options_are_refused_through_the_tools(
    mode: str,
    case: str,
    opts: dict[str, str],
    docker_client: docker.DockerClient,
    test_image: str,
    unique: Callable[[str], str],
) -> None:
    name, volume = unique("gatec"), unique("gatev")
    async with Client(create_server(allow_settings()), mode=mode) as client:
        mount = {"type": "volume", "source": volume, "target": "/x", "driver": "local", "driver_opts": opts}
        text = error_text(
            await client.call_tool(
                "docker_create_container",
                {"image": test_image, "name": name, "labels": TEST_LABELS, "mounts": [mount]},
            )
        )
        assert "Refused" in text, text
        text = error_text(
            await client.call_tool("docker_create_volume", {"name": volume, "driver_opts": opts, "labels": TEST_LABELS})
        )
        assert "Refused" in text and "driver" in text.lower(), text
    assert docker_client.containers.list(all=True, filters={"name": name}) == []
    assert docker_client.volumes.list(filters={"name": volume}) == []


@pytest.mark.parametrize("mode", MODES)
async def test_symlink_swapped_after_create_is_caught_at_start(
    mode: str, tmp_path: Path, docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str]
) -> None:
    root, outside = tmp_path / "allowed", tmp_path / "outside"
    (root / "safe").mkdir(parents=True)
    outside.mkdir()
    canary = "mcpt-canary-" + os.urandom(8).hex()
    (outside / "secret").write_text(canary)
    link = root / "link"
    link.symlink_to(root / "safe")
    name = unique("swap")
    settings = allow_settings(allowed_bind_roots=[str(root)])
    async with Client(create_server(settings), mode=mode) as client:
        structured(
            await client.call_tool(
                "docker_create_container",
                {
                    "image": test_image,
                    "name": name,
                    "labels": TEST_LABELS,
                    "command": ["cat", "/data/secret"],
                    "volumes": [f"{link}:/data"],
                },
            )
        )
        link.unlink()
        link.symlink_to(outside)  # now the bind source points outside the allowed root
        for tool in ("docker_start_container", "docker_restart_container"):
            text = error_text(await client.call_tool(tool, {"container": name}))
            assert f"resolves to {outside}" in text and "MCP_DOCKER_ALLOWED_BIND_ROOTS" in text, text
    container = docker_client.containers.get(name)
    assert container.attrs["State"]["StartedAt"].startswith("0001-")  # never started
    assert canary.encode() not in container.logs()


@pytest.fixture
def outside_container(docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str]) -> Any:
    """Made directly on the engine, not through the server: CAP_SYS_ADMIN and the engine's socket."""
    return docker_client.containers.create(
        test_image,
        ["sleep", "300"],
        name=unique("outside"),
        labels=TEST_LABELS,
        cap_add=["SYS_ADMIN"],
        volumes={"/var/run/docker.sock": {"bind": "/var/run/docker.sock", "mode": "rw"}},
    )


@pytest.mark.parametrize("mode", MODES)
async def test_a_container_made_outside_with_sys_admin_and_the_socket_cannot_be_started_or_execd(
    mode: str, outside_container: Any
) -> None:
    name = outside_container.name
    async with Client(create_server(allow_settings()), mode=mode) as client:
        text = error_text(await client.call_tool("docker_start_container", {"container": name}))
        assert ("SYS_ADMIN" in text or "Docker socket" in text) and name in text, text
        outside_container.reload()
        assert outside_container.status == "created"
        outside_container.start()  # someone else starts it
        text = error_text(await client.call_tool("docker_exec_command", {"container": name, "command": ["id"]}))
        assert ("SYS_ADMIN" in text or "Docker socket" in text) and "Nothing was sent" in text, text
        text = error_text(await client.call_tool("docker_restart_container", {"container": name}))
        assert "SYS_ADMIN" in text or "Docker socket" in text
    outside_container.reload()
    assert not outside_container.attrs.get("ExecIDs")  # no exec was ever created in it


@pytest.mark.parametrize("mode", MODES)
async def test_publishing_on_every_interface_needs_the_setting(
    mode: str, docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str]
) -> None:
    name, port = unique("pub"), free_port()
    call = {"image": test_image, "name": name, "labels": TEST_LABELS, "ports": {"80/tcp": f"0.0.0.0:{port}"}}
    async with Client(create_server(allow_settings()), mode=mode) as client:
        text = error_text(await client.call_tool("docker_create_container", call))
        assert PUBLISH in text and "0.0.0.0" in text, text
        assert docker_client.containers.list(all=True, filters={"name": name}) == []
        loopback = structured(await client.call_tool("docker_create_container", {**call, "ports": {"80/tcp": port}}))
    bindings = docker_client.api.inspect_container(loopback["id"])["HostConfig"]["PortBindings"]
    assert bindings["80/tcp"][0]["HostIp"] == "127.0.0.1"
    docker_client.api.remove_container(loopback["id"], force=True)
    async with Client(create_server(allow_settings(allowed_publish_addresses=["0.0.0.0"])), mode=mode) as client:
        created = structured(await client.call_tool("docker_create_container", call))
    assert docker_client.api.inspect_container(created["id"])["HostConfig"]["PortBindings"]["80/tcp"][0]["HostIp"] == (
        "0.0.0.0"
    )


@pytest.fixture
def gated_api(docker_client: docker.DockerClient) -> Any:
    """The docker-py client the server's `Engine` makes (default settings): no tool-level check in front."""
    eng = Engine(settings=Settings())
    yield eng.api
    eng.close()


def _attacks(hostnet: str, test_image: str, name: str, api: Any) -> list[tuple[str, Callable[[], Any], str]]:
    def create(**host: Any) -> Callable[[], Any]:
        return lambda: api.create_container(
            test_image, ["sleep", "1"], name=name, labels=TEST_LABELS, host_config=api.create_host_config(**host)
        )

    return [
        ("privileged", create(privileged=True), "Privileged"),
        ("host-net-by-id", create(network_mode=hostnet), "NetworkMode"),
        ("host-net-by-prefix", create(network_mode=hostnet[:12]), "NetworkMode"),
        ("pid-host", create(pid_mode="host"), "PidMode"),
        ("cap-add", create(cap_add=["SYS_ADMIN"]), "CapAdd"),
        ("devices", create(devices=["/dev/null:/dev/x:rwm"]), "Devices"),
        ("device-rules", create(device_cgroup_rules=["a *:* rwm"]), "DeviceCgroupRules"),
        ("sysctls", create(sysctls={"net.ipv4.ip_forward": "1"}), "Sysctls"),
        ("cgroup-parent", create(cgroup_parent="/"), "CgroupParent"),
        ("volumes-from", create(volumes_from=["whatever"]), "VolumesFrom"),
        ("bind-etc", create(binds=["/etc:/x:ro"]), "Binds"),
        ("bind-root", create(binds=["/:/host"]), "Binds"),
        ("publish-all", create(publish_all_ports=True), "PublishAllPorts"),
        ("port-any", create(port_bindings={80: 8080}), "HostIp"),
        ("runtime", create(runtime="runsc"), "Runtime"),
        ("seccomp", create(security_opt=["seccomp=unconfined"]), "SecurityOpt"),
        ("userns", create(userns_mode="host"), "UsernsMode"),
        ("oom-kill", create(oom_kill_disable=True), "OomKillDisable"),
        (
            "overlay-volume",
            lambda: api.create_volume(name, driver_opts={"type": "overlay", "o": "lowerdir=/etc"}),
            "DriverOpts",
        ),
        ("macvlan", lambda: api.create_network(name, driver="macvlan", options={"parent": "eth0"}), "Driver"),
        ("remote-build", lambda: list(api.build(path="http://127.0.0.1:9/x.tar", tag=name)), "remote"),
        (
            "host-build",
            lambda: list(api.build(fileobj=io.BytesIO(b"FROM scratch\n"), network_mode="host", tag=name)),
            "networkmode",
        ),
    ]


async def test_the_gate_holds_on_its_own(
    gated_api: Any, docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str]
) -> None:
    hostnet = docker_client.api.inspect_network("host")["Id"]
    name = unique("raw")
    for case, attack, field in _attacks(hostnet, test_image, name, gated_api):
        with pytest.raises(UnsafeOperation) as caught:
            attack()
        assert field in str(caught.value), (case, str(caught.value))
        assert "Nothing was sent to the engine" in str(caught.value)
    assert docker_client.containers.list(all=True, filters={"name": name}) == []
    assert docker_client.volumes.list(filters={"name": name}) == []
    assert docker_client.networks.list(names=[name]) == []
    assert docker_client.images.list(name=name) == []


async def test_exec_privileged_and_unlisted_endpoints_are_refused_on_the_raw_client(
    gated_api: Any, run_container: Callable[..., Any], docker_client: docker.DockerClient
) -> None:
    container = run_container()
    with pytest.raises(UnsafeOperation, match="Privileged"):
        gated_api.exec_create(container.id, ["id"], privileged=True)
    container.reload()
    assert not container.attrs.get("ExecIDs")
    with pytest.raises(UnsafeOperation, match="endpoint"):
        gated_api.commit(container.id, repository="mcpt-never")
    with pytest.raises(UnsafeOperation, match="endpoint"):
        gated_api.pull_plugin("vieux/sshfs", {})
    assert docker_client.images.list(name="mcpt-never") == []
    # Harmless work goes through: the gate is not in the way of reads and ordinary changes.
    exec_id = gated_api.exec_create(container.id, ["echo", "ok"])["Id"]
    assert gated_api.exec_start(exec_id) == b"ok\n"
    gated_api.stop(container.id, timeout=1)
    gated_api.start(container.id)
