"""The Swarm tools against a real single-node swarm on a private second engine (never the shared one).

The module starts its own dockerd (tests/private_engine.py), loads the test image into it, runs
`swarm init` there, and leaves the swarm and stops that engine at the end. Every effect is checked
on that engine directly. The shared engine is only used to show the "not a swarm manager" error.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import docker
import pytest
from mcp import Client

from mcp_docker.config import TOOLSETS, Settings
from mcp_docker.docker.client import Engine
from mcp_docker.server import create_server
from tests.conftest import MODES, TEST_LABELS, allow_settings, error_text, structured
from tests.engine import ensure_test_image
from tests.private_engine import PrivateEngine, free_port, free_udp_port, running_private_engine

pytestmark = [pytest.mark.anyio, pytest.mark.engine]

SWARM_SETTINGS = {
    "toolsets": list(TOOLSETS),
    # Swarm publishes service ports on every interface of every node: the engine gate needs this.
    "allowed_publish_addresses": ["0.0.0.0"],
}


@pytest.fixture(scope="module")
def swarm() -> Iterator[PrivateEngine]:
    """A second engine, in a network namespace of its own, managing a one-node swarm with the test image."""
    with running_private_engine(own_netns=True) as engine:
        ensure_test_image(engine.client)
        port = free_port()
        engine.client.api.init_swarm(
            advertise_addr=f"127.0.0.1:{port}",
            listen_addr=f"127.0.0.1:{port}",
            default_addr_pool=["10.214.0.0/16"],
            subnet_size=24,
            data_path_port=free_udp_port(),
        )
        try:
            yield engine
        finally:
            engine.client.api.leave_swarm(force=True)
            assert engine.client.info()["Swarm"]["LocalNodeState"] == "inactive"


def _server_client(engine: PrivateEngine, settings: Settings, mode: str) -> tuple[Engine, Any]:
    eng = Engine(base_url=engine.url, connect_timeout=5)
    return eng, Client(create_server(settings, engine=eng), mode=mode)


@pytest.fixture(params=MODES)
async def swarm_client(request: pytest.FixtureRequest, swarm: PrivateEngine) -> AsyncIterator[Client]:
    eng, client = _server_client(swarm, allow_settings(**SWARM_SETTINGS), request.param)
    async with client as c:
        yield c
    eng.close()


@pytest.fixture
def settings() -> Settings:
    """For the shared-engine `client` fixture of conftest: with the swarm toolset."""
    return allow_settings(**SWARM_SETTINGS)


def wait_for(check: Callable[[], Any], what: str, deadline: float = 90.0) -> Any:
    """Poll `check` until it returns something truthy (the swarm converges in the background)."""
    end = time.monotonic() + deadline
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.3)


def running_tasks(api: docker.APIClient, service: str) -> list[dict[str, Any]]:
    tasks = api.tasks(filters={"service": service, "desired-state": "running"})
    return [t for t in tasks if t["Status"]["State"] == "running"]


async def test_service_lifecycle(swarm_client: Client, swarm: PrivateEngine, unique: Callable[[str], str]) -> None:
    api = swarm.client.api
    name = unique("svc")
    image = ensure_test_image(swarm.client)
    created = structured(
        await swarm_client.call_tool(
            "docker_create_service",
            {
                "image": image,
                "name": name,
                "replicas": 1,
                "command": ["sh", "-c", "echo hello-from-task; exec sleep 600"],
                "environment": {"GREETING": "hi", "SECRET_TOKEN": "s3cr3t"},
                "labels": {**TEST_LABELS, "app": "web"},
            },
        )
    )
    assert created["name"] == name
    assert created["replicas"] == 1
    spec = api.inspect_service(name)["Spec"]
    assert spec["Labels"]["mcp-docker.managed"] == "true"
    assert spec["Labels"]["app"] == "web"
    container_spec = spec["TaskTemplate"]["ContainerSpec"]
    assert container_spec["Args"] == ["sh", "-c", "echo hello-from-task; exec sleep 600"]
    assert "GREETING=hi" in container_spec["Env"]
    assert spec["Mode"] == {"Replicated": {"Replicas": 1}}

    details = structured(await swarm_client.call_tool("docker_inspect_service", {"service": name, "full": True}))
    assert details["env"] == ["GREETING=***", "SECRET_TOKEN=***"]
    assert "s3cr3t" not in str(details["raw"])
    assert details["labels"]["app"] == "web"
    assert details["container_labels"]["mcp-docker.managed"] == "true"

    listed = structured(await swarm_client.call_tool("docker_list_services", {"filters": {"name": name}}))
    assert [s["name"] for s in listed["services"]] == [name]
    assert listed["services"][0]["mode"] == "replicated"

    scaled = structured(await swarm_client.call_tool("docker_scale_service", {"service": name, "replicas": 2}))
    assert scaled["replicas"] == 2
    assert scaled["version"] > created["version"]
    assert api.inspect_service(name)["Spec"]["Mode"] == {"Replicated": {"Replicas": 2}}
    engine_tasks = wait_for(lambda: len(running_tasks(api, name)) == 2 and running_tasks(api, name), "2 tasks")

    tasks = structured(await swarm_client.call_tool("docker_list_tasks", {"service": name, "desired_state": "running"}))
    assert tasks["total"] == 2
    assert {t["id"] for t in tasks["tasks"]} == {t["ID"][:12] for t in engine_tasks}
    assert {t["slot"] for t in tasks["tasks"]} == {1, 2}
    hostname = swarm.client.info()["Name"]
    assert all(t["service"] == name and t["node"] == hostname and t["state"] == "running" for t in tasks["tasks"])
    assert all(t["container_id"] for t in tasks["tasks"])

    async def logs() -> dict[str, Any]:
        return structured(await swarm_client.call_tool("docker_service_logs", {"service": name, "tail": 50}))

    end = time.monotonic() + 60
    log = await logs()
    while log["text"].count("hello-from-task") < 2 and time.monotonic() < end:
        await anyio.sleep(0.3)
        log = await logs()
    assert log["text"].count("hello-from-task") == 2, log
    assert log["truncated"] is False

    nodes = structured(await swarm_client.call_tool("docker_list_nodes", {}))
    assert nodes["total"] == 1
    node = nodes["nodes"][0]
    assert (node["hostname"], node["role"], node["leader"], node["state"]) == (hostname, "manager", True, "ready")
    assert node["id"] == api.nodes()[0]["ID"][:12]

    updated = structured(
        await swarm_client.call_tool(
            "docker_update_service",
            {"service": name, "environment": {"GREETING": "bye", "SECRET_TOKEN": None}, "labels": {"app": "api"}},
        )
    )
    assert updated["version"] > scaled["version"]
    spec = api.inspect_service(name)["Spec"]
    assert spec["TaskTemplate"]["ContainerSpec"]["Env"] == ["GREETING=bye"]
    assert spec["Labels"]["app"] == "api"
    assert spec["Labels"]["mcp-docker.managed"] == "true"
    assert spec["Mode"] == {"Replicated": {"Replicas": 2}}

    removed = structured(await swarm_client.call_tool("docker_remove_service", {"service": name}))
    assert removed == {"id": created["id"], "name": name, "removed": True}
    with pytest.raises(docker.errors.NotFound):
        api.inspect_service(name)
    label = f"com.docker.swarm.service.name={name}"
    # The low-level list: the high-level one inspects each listed container, which races with its removal.
    wait_for(lambda: not swarm.client.api.containers(all=True, filters={"label": label}), "task containers gone")


async def test_global_service_ports_update_and_scale_refusal(
    swarm_client: Client, swarm: PrivateEngine, unique: Callable[[str], str]
) -> None:
    api = swarm.client.api
    name = unique("glob")
    port = free_port()
    text = error_text(
        await swarm_client.call_tool(
            "docker_create_service", {"image": "mcpt-x:1", "name": name, "mode": "global", "replicas": 2}
        )
    )
    assert "global service" in text
    created = structured(
        await swarm_client.call_tool(
            "docker_create_service",
            {
                "image": ensure_test_image(swarm.client),
                "name": name,
                "mode": "global",
                "command": "sleep 600",
                "ports": {"8080/tcp": port, "53/udp": None},
                "publish_mode": "host",
                "workdir": "/tmp",
                "labels": TEST_LABELS,
            },
        )
    )
    assert created["mode"] == "global"
    assert created["replicas"] is None
    spec = api.inspect_service(name)["Spec"]
    assert spec["Mode"] == {"Global": {}}
    assert spec["TaskTemplate"]["ContainerSpec"]["Dir"] == "/tmp"
    ports = {(p["TargetPort"], p["Protocol"]): p for p in spec["EndpointSpec"]["Ports"]}
    assert ports[(8080, "tcp")]["PublishedPort"] == port
    assert ports[(8080, "tcp")]["PublishMode"] == "host"
    assert (53, "udp") in ports

    listed = structured(await swarm_client.call_tool("docker_list_services", {"filters": {"mode": "global"}}))
    summary = next(s for s in listed["services"] if s["name"] == name)
    assert f"{port}->8080/tcp (host)" in summary["ports"]

    text = error_text(await swarm_client.call_tool("docker_scale_service", {"service": name, "replicas": 3}))
    assert "global" in text
    assert api.inspect_service(name)["Spec"]["Mode"] == {"Global": {}}

    forced = structured(
        await swarm_client.call_tool(
            "docker_update_service",
            {"service": name, "force": True, "command": ["sleep", "700"], "image": created["image"]},
        )
    )
    spec = api.inspect_service(name)["Spec"]
    assert spec["TaskTemplate"]["ForceUpdate"] == 1
    assert spec["TaskTemplate"]["ContainerSpec"]["Args"] == ["sleep", "700"]
    assert forced["version"] > created["version"]
    structured(await swarm_client.call_tool("docker_remove_service", {"service": name}))
    assert not api.services(filters={"name": name})


async def test_service_policy_and_validation(
    swarm: PrivateEngine, unique: Callable[[str], str], tmp_path: Path
) -> None:
    api = swarm.client.api
    name = unique("pol")
    image = ensure_test_image(swarm.client)
    eng, client = _server_client(swarm, allow_settings(**SWARM_SETTINGS), "legacy")
    async with client as c:
        refused = error_text(
            await c.call_tool("docker_create_service", {"image": image, "name": name, "mounts": ["/etc:/host-etc"]})
        )
        assert "MCP_DOCKER_ALLOWED_BIND_ROOTS" in refused
        refused = error_text(
            await c.call_tool("docker_create_service", {"image": image, "name": name, "networks": ["host"]})
        )
        assert "Refused" in refused
        for bad in (
            {"mounts": ["novolume"]},
            {"mounts": ["./rel:/x"]},
            {"ports": {"8000-8010/tcp": None}},
            {"environment": {"A=B": "c"}},
            {"command": []},
        ):
            text = error_text(await c.call_tool("docker_create_service", {"image": image, "name": name, **bad}))
            assert "Invalid" in text or "not supported" in text or "empty" in text, (bad, text)
        assert not api.services(filters={"name": name})

        text = error_text(await c.call_tool("docker_inspect_service", {"service": "mcpf-no-such-service"}))
        assert "No such service 'mcpf-no-such-service'" in text
        assert "docker_list_services" in text
        text = error_text(await c.call_tool("docker_list_tasks", {"service": "mcpf-no-such-service"}))
        assert "No such service 'mcpf-no-such-service'" in text
        text = error_text(await c.call_tool("docker_list_services", {"filters": {"bogus": "x"}}))
        assert "rejected the request (400)" in text
        text = error_text(await c.call_tool("docker_update_service", {"service": "whatever"}))
        assert "Nothing to change" in text
        text = error_text(await c.call_tool("docker_remove_service", {"service": "mcpf-no-such-service"}))
        assert "No such service" in text
    eng.close()

    allowed = allow_settings(**SWARM_SETTINGS, allowed_bind_roots=[str(tmp_path)])
    eng, client = _server_client(swarm, allowed, "auto")
    async with client as c:
        structured(
            await c.call_tool(
                "docker_create_service",
                {
                    "image": image,
                    "name": name,
                    "replicas": 0,
                    "mounts": [f"{tmp_path}:/data:ro", f"{name}-vol:/cache", f"{name}-rw:/ro:rw"],
                    "labels": TEST_LABELS,
                },
            )
        )
        mounts = api.inspect_service(name)["Spec"]["TaskTemplate"]["ContainerSpec"]["Mounts"]
        assert {(m["Type"], m["Source"], m["Target"], bool(m.get("ReadOnly"))) for m in mounts} == {
            ("bind", str(tmp_path), "/data", True),
            ("volume", f"{name}-vol", "/cache", False),
            ("volume", f"{name}-rw", "/ro", False),
        }
        details = structured(await c.call_tool("docker_inspect_service", {"service": name}))
        assert f"bind {tmp_path}:/data:ro" in details["mounts"]
        empty = structured(await c.call_tool("docker_list_tasks", {"service": name}))
        assert empty == {"tasks": [], "total": 0, "limit": 50, "truncated": False}
        structured(await c.call_tool("docker_remove_service", {"service": name}))
    eng.close()
    assert not api.services(filters={"name": name})


async def test_swarm_toolset_is_opt_in(swarm: PrivateEngine) -> None:
    eng, client = _server_client(swarm, allow_settings(), "legacy")
    async with client as c:
        names = {t.name for t in (await c.list_tools()).tools}
    eng.close()
    assert "docker_list_services" not in names
    eng, client = _server_client(swarm, allow_settings(**SWARM_SETTINGS), "auto")
    async with client as c:
        swarm_tools = {t.name: t for t in (await c.list_tools()).tools if t.name not in names}
    eng.close()
    assert set(swarm_tools) == {
        "docker_list_services",
        "docker_inspect_service",
        "docker_create_service",
        "docker_scale_service",
        "docker_update_service",
        "docker_service_logs",
        "docker_remove_service",
        "docker_list_tasks",
        "docker_list_nodes",
    }
    for t in swarm_tools.values():  # the same contract as tests/e2e checks for the default tools
        assert t.description and len(t.description) > 20, t.name
        assert t.output_schema is not None, t.name
        assert t.input_schema.get("additionalProperties") is False, t.name
        for param, prop in t.input_schema.get("properties", {}).items():
            assert prop.get("description"), (t.name, param)
    eng, client = _server_client(swarm, Settings(toolsets=["swarm"], destructive="deny"), "legacy")
    async with client as c:
        denied = {t.name for t in (await c.list_tools()).tools}
    eng.close()
    assert denied == set(swarm_tools) - {"docker_remove_service"}
    remove = swarm_tools["docker_remove_service"].annotations
    assert remove is not None
    assert remove.destructive_hint is True
    eng, client = _server_client(swarm, allow_settings(**SWARM_SETTINGS, read_only=True), "legacy")
    async with client as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
    eng.close()
    assert {"docker_list_services", "docker_list_tasks", "docker_list_nodes", "docker_service_logs"} <= set(tools)
    assert "docker_create_service" not in tools
    assert "docker_remove_service" not in tools
    assert tools["docker_list_nodes"].annotations is not None
    assert tools["docker_list_nodes"].annotations.read_only_hint is True


async def test_not_a_swarm_manager_is_a_clear_error(client: Client, docker_client: docker.DockerClient) -> None:
    """The shared engine is not in a swarm (and these tests never make it one)."""
    assert docker_client.info()["Swarm"]["LocalNodeState"] == "inactive"
    for tool, args in (
        ("docker_list_services", {}),
        ("docker_list_nodes", {}),
        ("docker_list_tasks", {}),
        ("docker_inspect_service", {"service": "web"}),
    ):
        text = error_text(await client.call_tool(tool, args))
        assert "This engine is not a swarm manager" in text, text
        assert "docker swarm init" in text


async def test_service_logs_are_bounded(swarm: PrivateEngine, unique: Callable[[str], str]) -> None:
    api = swarm.client.api
    name = unique("logs")
    eng, client = _server_client(swarm, allow_settings(**SWARM_SETTINGS, max_output_bytes=256), "auto")
    async with client as c:
        structured(
            await c.call_tool(
                "docker_create_service",
                {
                    "image": ensure_test_image(swarm.client),
                    "name": name,
                    "replicas": 0,
                    "command": "sh -c 'seq 1 400; printf \"\\033[31mred\\033[0m\\n\"; exec sleep 600'",
                    "labels": TEST_LABELS,
                },
            )
        )
        updated = structured(await c.call_tool("docker_update_service", {"service": name, "replicas": 1}))
        assert updated["replicas"] == 1
        assert api.inspect_service(name)["Spec"]["Mode"] == {"Replicated": {"Replicas": 1}}
        wait_for(lambda: running_tasks(api, name), "a running task")

        async def logs() -> dict[str, Any]:
            return structured(await c.call_tool("docker_service_logs", {"service": name, "tail": None}))

        end = time.monotonic() + 60
        log = await logs()
        while "red" not in log["text"] and time.monotonic() < end:
            await anyio.sleep(0.3)
            log = await logs()
        assert log["truncated"] is True
        assert log["note"] and "tail/since" in log["note"]
        assert len(log["text"].encode()) <= 256
        assert log["text"].endswith("400\nred\n"), log["text"]  # the newest lines, escapes stripped
        assert "\x1b" not in log["text"]
        structured(await c.call_tool("docker_remove_service", {"service": name}))
    eng.close()
