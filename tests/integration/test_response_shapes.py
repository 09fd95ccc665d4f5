"""Every read tool's output is filled in on the engine under test, whatever its API version.

Between API 1.41 (Docker 20.10) and 1.45 (26.1) the engine dropped fields the tools could have read:
image `VirtualSize`, `Container` / `ContainerConfig`, system df's `BuilderSize`, image `VirtualSize`
and build cache `Parent`; info's `KernelMemory`; and added others (an endpoint's `DNSNames`). Each
assertion below names a field that would come back empty (0, '', []) if a tool read a field the
engine no longer sends. The suite runs this file on both engines (.ci/run).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest
from mcp import Client

from tests.conftest import TEST_LABELS, structured

pytestmark = [pytest.mark.anyio, pytest.mark.engine]


async def test_every_read_tool_fills_its_key_fields(
    client: Client,
    docker_client: docker.DockerClient,
    test_image: str,
    unique: Callable[[str], str],
    tmp_path: Path,
) -> None:
    started = int(time.time()) - 1
    (tmp_path / "Dockerfile").write_text(f'FROM {test_image}\nRUN echo shaped > /shape\nCMD ["sleep", "300"]\n')
    tag = f"{unique('shape')}:1"
    built = structured(await client.call_tool("docker_build_image", {"path": str(tmp_path), "tag": tag}))
    for _ in range(20):  # a private /24 no other network (of this or another session) uses
        prefix = f"10.{random.randint(220, 250)}.{random.randint(0, 255)}"
        try:
            network = docker_client.networks.create(
                unique("net"),
                labels=TEST_LABELS,
                ipam=docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=f"{prefix}.0/24")]),
            )
            break
        except docker.errors.APIError as exc:
            if "overlaps" not in str(exc):
                raise
    volume = docker_client.volumes.create(unique("vol"), labels=TEST_LABELS)
    container = docker_client.containers.run(
        tag,
        name=unique("shape"),
        detach=True,
        labels=TEST_LABELS,
        network=network.name,
        volumes={volume.name: {"bind": "/data", "mode": "rw"}},
        healthcheck={"test": ["CMD", "true"], "interval": 1_000_000_000, "retries": 1},
    )
    for _ in range(100):  # the first health check runs after one interval
        if (docker_client.api.inspect_container(container.id)["State"].get("Health") or {}).get("Status") == "healthy":
            break
        time.sleep(0.1)

    async def call(tool: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        return structured(await client.call_tool(tool, args or {}))

    images = await call("docker_list_images", {"filters": {"reference": tag.split(":")[0]}})
    (row,) = images["images"]
    assert row["size"] > 0 and row["created"] and row["tags"] == [tag]  # not VirtualSize (gone in 1.44)

    image = await call("docker_inspect_image", {"image": tag, "full": True})
    assert image["id"] == built["id"] and image["size"] > 0 and image["layers"] >= 1
    assert image["architecture"] and image["os"] == "linux" and image["created"]
    assert image["command"] == ["sleep", "300"] and image["labels"]["mcp-docker.managed"] == "true"
    assert image["raw"]["Config"]  # ContainerConfig is gone since 1.45; Config carries the config

    history = await call("docker_image_history", {"image": tag})
    assert history["layers"] and history["total_size"] > 0
    assert any("echo shaped" in layer["created_by"] for layer in history["layers"])

    listed = await call("docker_list_containers", {"filters": {"name": container.name}})
    (summary,) = listed["containers"]
    assert summary["state"] == "running" and summary["status"].startswith("Up") and summary["image"] == tag

    details = await call("docker_inspect_container", {"container": container.name})
    assert details["state"]["running"] and details["state"]["started_at"]
    assert details["state"]["health"]["status"] == "healthy"
    assert details["networks"][network.name].startswith(f"{prefix}.")
    assert any(m["type"] == "volume" and m["destination"] == "/data" for m in details["mounts"])
    assert details["image_id"] == built["id"] and details["created"]

    stats = await call("docker_container_stats", {"container": container.name})
    assert stats["running"] and stats["memory_usage"] > 0 and stats["pids"] >= 1 and stats["online_cpus"] >= 1

    logs = await call("docker_container_logs", {"container": container.name})
    assert logs["container"]

    nets = await call("docker_list_networks", {"filters": {"name": network.name}})
    assert [n["name"] for n in nets["networks"]] == [network.name] and nets["networks"][0]["created"]
    net = await call("docker_inspect_network", {"network": network.name})
    assert net["subnets"][0]["subnet"] == f"{prefix}.0/24"
    endpoint = net["containers"][container.name]
    assert endpoint["ipv4_address"].startswith(f"{prefix}.") and endpoint["mac_address"]

    vols = await call("docker_list_volumes", {"filters": {"name": volume.name}})
    assert vols["volumes"][0]["driver"] == "local" and vols["volumes"][0]["created"]
    vol = await call("docker_inspect_volume", {"volume": volume.name})
    assert vol["mountpoint"] and vol["used_by"] == [container.name]

    df = await call("docker_system_df")
    assert df["images"]["count"] >= 2 and df["images"]["size"] > 0 and df["images"]["active"] >= 1
    assert df["containers"]["active"] >= 1 and df["volumes"]["count"] >= 1
    if built["builder"] == "buildkit":  # the classic builder of 20.10 keeps no build cache records
        assert df["build_cache"]["count"] >= 1

    info = await call("docker_system_info")
    assert info["server_version"] and info["storage_driver"] and info["cpus"] >= 1 and info["memory_bytes"] > 0
    assert info["containers_running"] >= 1 and info["kernel_version"] and info["cgroup_version"]

    version = await call("docker_version")
    assert version["api_version"] and version["min_api_version"] and version["go_version"]
    assert version["negotiated_api_version"] == docker_client.api.api_version

    health = await call("docker_healthcheck")
    assert health["reachable"] and health["api_version"] == docker_client.api.api_version

    events = await call(
        "docker_events", {"since": str(started), "filters": {"container": container.name}, "max_wait": 2}
    )
    actions = {e["action"] for e in events["events"]}
    assert {"create", "start"} <= actions, actions
    assert all(e["id"] == container.id[:12] and e["name"] == container.name for e in events["events"])
