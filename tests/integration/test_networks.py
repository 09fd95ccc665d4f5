"""The 6 network tools against the real engine; every effect is checked on the engine itself."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

import docker
import pytest
from mcp import Client

from tests.conftest import TEST_LABELS, error_text, structured

pytestmark = [pytest.mark.anyio, pytest.mark.engine]


async def test_create_connect_disconnect_remove(
    client: Client, docker_client: docker.DockerClient, run_container: Callable[..., Any], unique: Callable[[str], str]
) -> None:
    name = unique("net")
    created = structured(
        await client.call_tool("docker_create_network", {"name": name, "labels": {**TEST_LABELS, "app": "web"}})
    )
    assert created["name"] == name
    assert created["driver"] == "bridge"
    assert created["subnets"]
    net = docker_client.networks.get(name)
    assert net.attrs["Labels"]["mcp-docker.managed"] == "true"
    assert net.attrs["Labels"]["app"] == "web"
    assert net.attrs["Driver"] == "bridge"
    assert net.attrs["Internal"] is False

    container = run_container()
    connected = structured(
        await client.call_tool(
            "docker_connect_container", {"network": name, "container": container.name, "aliases": ["api"]}
        )
    )
    assert connected["connected"] is True
    assert "api" in connected["aliases"]
    endpoint = docker_client.api.inspect_container(container.id)["NetworkSettings"]["Networks"][name]
    assert endpoint["IPAddress"] == connected["ip_address"]
    subnet = ipaddress.ip_network(created["subnets"][0]["subnet"])
    assert ipaddress.ip_address(connected["ip_address"]) in subnet

    details = structured(await client.call_tool("docker_inspect_network", {"network": name}))
    assert details["containers"][container.name]["ipv4_address"].startswith(connected["ip_address"] + "/")
    assert details["labels"]["app"] == "web"
    assert details["raw"] is None
    full = structured(await client.call_tool("docker_inspect_network", {"network": created["id"], "full": True}))
    assert full["raw"]["Name"] == name

    again = structured(await client.call_tool("docker_connect_container", {"network": name, "container": container.id}))
    assert again["already_connected"] is True
    assert again["ip_address"] == connected["ip_address"]

    text = error_text(await client.call_tool("docker_remove_network", {"network": name}))
    assert f"still has containers attached: {container.name}" in text
    assert "docker_disconnect_container" in text
    assert docker_client.networks.get(name)

    disconnected = structured(
        await client.call_tool("docker_disconnect_container", {"network": name, "container": container.name})
    )
    assert disconnected["connected"] is False
    assert name not in docker_client.api.inspect_container(container.id)["NetworkSettings"]["Networks"]
    twice = structured(
        await client.call_tool("docker_disconnect_container", {"network": name, "container": container.name})
    )
    assert twice["connected"] is False

    removed = structured(await client.call_tool("docker_remove_network", {"network": name}))
    assert removed == {"id": created["id"], "name": name, "removed": True}
    with pytest.raises(docker.errors.NotFound):
        docker_client.networks.get(name)


async def test_internal_network_and_list(
    client: Client, docker_client: docker.DockerClient, unique: Callable[[str], str]
) -> None:
    group = unique("group")
    first = unique("inet")
    second = unique("inet")
    for name in (first, second):
        structured(
            await client.call_tool(
                "docker_create_network", {"name": name, "internal": True, "labels": {**TEST_LABELS, "group": group}}
            )
        )
    assert docker_client.networks.get(first).attrs["Internal"] is True
    listed = structured(await client.call_tool("docker_list_networks", {"filters": {"label": f"group={group}"}}))
    assert {n["name"] for n in listed["networks"]} == {first, second}
    assert listed["total"] == 2
    assert all(n["internal"] for n in listed["networks"])
    assert set(listed["networks"][0]) == {"id", "name", "driver", "scope", "internal", "created"}
    limited = structured(
        await client.call_tool("docker_list_networks", {"filters": {"label": [f"group={group}"]}, "limit": 1})
    )
    assert len(limited["networks"]) == 1
    assert limited["truncated"] is True

    text = error_text(await client.call_tool("docker_create_network", {"name": first, "labels": TEST_LABELS}))
    assert "Conflict" in text or "already exists" in text
    assert "Invalid network name" in error_text(await client.call_tool("docker_create_network", {"name": "-bad"}))


async def test_missing_network_and_container_errors(
    client: Client, run_container: Callable[..., Any], unique: Callable[[str], str]
) -> None:
    missing = unique("nonet")
    for tool, args in (
        ("docker_inspect_network", {"network": missing}),
        ("docker_remove_network", {"network": missing}),
        ("docker_connect_container", {"network": missing, "container": "whatever"}),
        ("docker_disconnect_container", {"network": missing, "container": "whatever"}),
    ):
        text = error_text(await client.call_tool(tool, args))
        assert f"No such network '{missing}'" in text, (tool, text)
        assert "docker_list_networks" in text, (tool, text)

    name = unique("net")
    structured(await client.call_tool("docker_create_network", {"name": name, "labels": TEST_LABELS}))
    ghost = unique("ghost")
    for tool in ("docker_connect_container", "docker_disconnect_container"):
        text = error_text(await client.call_tool(tool, {"network": name, "container": ghost}))
        assert f"No such container '{ghost}'" in text, (tool, text)
        assert "docker_list_containers" in text
