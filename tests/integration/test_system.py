"""The 6 system tools against the real engine; effects and facts are checked on the engine itself."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import docker
import pytest
from mcp import Client
from mcp.types import ResourceTemplateReference

from mcp_docker.docker.client import Engine
from mcp_docker.resources import LOGS_TEMPLATE
from mcp_docker.server import create_server
from mcp_docker.tools import system_tools
from mcp_docker.tools.system_models import compact_event, disk_usage
from mcp_docker.utils.errors import ConflictError
from tests.conftest import TEST_LABELS, allow_settings, error_text, structured
from tests.engine import TEST_LABEL, TEST_LABEL_VALUE
from tests.waiting import eventually

pytestmark = [pytest.mark.anyio, pytest.mark.engine]

MY_LABEL = {"label": f"{TEST_LABEL}={TEST_LABEL_VALUE}"}


async def test_system_info_matches_engine(client: Client, docker_client: docker.DockerClient) -> None:
    data = structured(await client.call_tool("docker_system_info", {}))
    info = docker_client.info()
    assert data["server_version"] == info["ServerVersion"]
    assert data["cpus"] == info["NCPU"]
    assert data["memory_bytes"] == info["MemTotal"]
    assert data["storage_driver"] == info["Driver"]
    assert data["swarm"] in ("inactive", "active", "pending", "error", "locked")
    assert "Plugins" not in data and "raw" not in data


async def test_version_reports_server_and_negotiated_api(client: Client, docker_client: docker.DockerClient) -> None:
    data = structured(await client.call_tool("docker_version", {}))
    version = docker_client.version()
    assert data["server_version"] == version["Version"]
    assert data["api_version"] == version["ApiVersion"]
    assert data["negotiated_api_version"] == docker_client.api.api_version
    assert data["client_library"] == docker.__version__


async def test_df_counts_match_engine(
    client: Client, docker_client: docker.DockerClient, run_container: Callable[..., Any]
) -> None:
    run_container()
    before = docker_client.df()
    data = structured(await client.call_tool("docker_system_df", {}))
    after = docker_client.df()

    def between(value: int, a: int, b: int) -> bool:  # the engine is shared: others may change it meanwhile
        return min(a, b) <= value <= max(a, b)

    assert between(data["images"]["count"], len(before["Images"]), len(after["Images"]))
    assert between(data["images"]["size"], before["LayersSize"], after["LayersSize"])
    assert between(data["volumes"]["count"], len(before["Volumes"] or []), len(after["Volumes"] or []))
    assert data["containers"]["active"] >= 1
    for kind in ("images", "containers", "volumes", "build_cache"):
        assert 0 <= data[kind]["reclaimable"] <= data[kind]["size"]
    assert data["total_size"] >= data["images"]["size"]


def test_disk_usage_per_kind() -> None:
    usage = disk_usage(
        {
            "LayersSize": 1000,
            "Images": [
                {"Containers": 1, "Size": 600, "SharedSize": 100},
                {"Containers": 0, "Size": 400, "SharedSize": 0},
            ],
            "Containers": [{"State": "running", "SizeRw": 10}, {"State": "exited", "SizeRw": 5}],
            "Volumes": [
                {"UsageData": {"Size": 50, "RefCount": 1}},
                {"UsageData": {"Size": 20, "RefCount": 0}},
                {"UsageData": {"Size": -1, "RefCount": 0}},
            ],
            "BuildCache": [{"Size": 7, "InUse": False, "Shared": False}, {"Size": 3, "InUse": True, "Shared": False}],
        }
    )
    assert usage.images.model_dump() == {"count": 2, "active": 1, "size": 1000, "reclaimable": 500}
    assert usage.containers.model_dump() == {"count": 2, "active": 1, "size": 15, "reclaimable": 5}
    assert usage.volumes.model_dump() == {"count": 3, "active": 1, "size": 70, "reclaimable": 20}
    assert usage.build_cache.model_dump() == {"count": 2, "active": 1, "size": 10, "reclaimable": 7}
    assert usage.total_size == 1095 and usage.total_reclaimable == 532


async def test_prune_with_label_filter_removes_only_ours(
    client: Client,
    docker_client: docker.DockerClient,
    test_image: str,
    unique: Callable[[str], str],
    run_container: Callable[..., Any],
) -> None:
    stopped = docker_client.containers.create(test_image, "true", name=unique("prune"), labels=TEST_LABELS)
    running = run_container()
    other = docker_client.containers.create(
        test_image, "true", name=unique("keep"), labels={TEST_LABEL: TEST_LABEL_VALUE + "other"}
    )
    network = docker_client.networks.create(unique("prunenet"), labels=TEST_LABELS)
    volume = docker_client.api.create_volume(labels=TEST_LABELS)["Name"]  # anonymous
    named = docker_client.volumes.create(unique("prunevol"), labels=TEST_LABELS).name
    try:
        # Without volumes=true the volume stays.
        data = structured(await client.call_tool("docker_system_prune", {"filters": MY_LABEL}))
        assert stopped.id[:12] in data["containers"]["removed"]
        assert network.name in data["networks"]["removed"]
        assert "volumes" not in data or data["volumes"] is None
        assert data["build_cache"] is None and "build cache" in data["note"]
        with pytest.raises(docker.errors.NotFound):
            docker_client.containers.get(stopped.id)
        with pytest.raises(docker.errors.NotFound):
            docker_client.networks.get(network.id)
        assert docker_client.containers.get(running.id).status == "running"
        assert docker_client.containers.get(other.id).status == "created"
        docker_client.volumes.get(volume)
        docker_client.images.get(test_image)

        # volumes=true: the unused anonymous volumes, on every engine API; named ones stay.
        data = structured(await client.call_tool("docker_system_prune", {"filters": MY_LABEL, "volumes": True}))
        assert volume in data["volumes"]["removed"]
        assert all(re.fullmatch(r"[0-9a-f]{64}", v) for v in data["volumes"]["removed"])
        with pytest.raises(docker.errors.NotFound):
            docker_client.volumes.get(volume)
        docker_client.volumes.get(named)
    finally:
        other.remove(force=True)


async def test_prune_refuses_unknown_filter(client: Client) -> None:
    text = error_text(await client.call_tool("docker_system_prune", {"filters": {"name": "x"}}))
    assert "Unknown prune filter" in text and "label" in text


async def test_healthcheck_reports_engine_and_unhealthy(
    client: Client, docker_client: docker.DockerClient, run_container: Callable[..., Any]
) -> None:
    sick = run_container(
        healthcheck={"test": ["CMD", "false"], "interval": 200_000_000, "retries": 1, "start_period": 0}
    )

    def unhealthy() -> bool:  # the engine marks it unhealthy after its first failed probe
        sick.reload()
        return bool((sick.attrs["State"].get("Health") or {}).get("Status") == "unhealthy")

    await eventually(unhealthy)
    assert sick.attrs["State"]["Health"]["Status"] == "unhealthy"
    data = structured(await client.call_tool("docker_healthcheck", {}))
    assert data["reachable"] is True
    assert data["server_version"] == docker_client.version()["Version"]
    assert data["latency_ms"] >= 0
    assert data["containers_running"] >= 1
    assert sick.name in [c["name"] for c in data["unhealthy"]]


async def test_events_returns_start_event_and_returns_by_itself(
    client: Client, run_container: Callable[..., Any]
) -> None:
    container = run_container()
    data = structured(
        await client.call_tool(
            "docker_events",
            {
                "since": "1m",
                "filters": {"container": container.name, "event": "start"},
                "max_wait": 2,
            },
        )
    )
    assert data["count"] >= 1
    event = data["events"][0]
    assert event["type"] == "container" and event["action"] == "start"
    assert event["name"] == container.name
    assert event["id"] == container.id[:12]
    assert event["time"].endswith("Z")


async def test_events_stops_at_limit_and_validates(client: Client, run_container: Callable[..., Any]) -> None:
    container = run_container("sh -c 'sleep 300'")
    container.restart(timeout=0)
    data = structured(
        await client.call_tool(
            "docker_events", {"since": "1m", "filters": {"container": container.name}, "limit": 1, "max_wait": 2}
        )
    )
    assert data["count"] == 1 and data["truncated"] is True
    past = structured(
        await client.call_tool(
            "docker_events", {"since": "2m", "until": "1m", "filters": {"container": container.name}}
        )
    )
    assert past["truncated"] is False
    bad = error_text(await client.call_tool("docker_events", {"since": "1m", "until": "2m"}))
    assert "after 'until'" in bad
    too_long = error_text(await client.call_tool("docker_events", {"max_wait": 3600}))
    assert "max_wait" in too_long


def test_compact_event_shapes_ids_and_time() -> None:
    event = compact_event(
        {
            "Type": "image",
            "Action": "pull",
            "Actor": {"ID": "sha256:" + "a" * 64, "Attributes": {"name": "busy\x1b[31mbox", "extra": "x"}},
            "time": 1700000000,
        }
    )
    assert event.id == "a" * 12 and event.name == "busybox" and event.attributes == {}
    assert event.time == "2023-11-14T22:13:20.000Z"


async def test_prune_until_filter_and_volumes_note(client: Client, docker_client: docker.DockerClient) -> None:
    data = structured(
        await client.call_tool("docker_system_prune", {"filters": {**MY_LABEL, "until": "87600h"}, "volumes": True})
    )
    assert data["containers"]["count"] == 0  # nothing of ours is ten years old
    assert "'until' filter does not apply to volumes" in data["note"]
    assert data["filters"]["until"] == ["87600h"]


async def test_unreachable_engine_is_reported_not_raised(tmp_path: Path) -> None:
    engine = Engine(base_url=f"unix://{tmp_path}/missing.sock", connect_timeout=2)
    async with Client(create_server(allow_settings(), engine=engine), mode="legacy") as c:
        data = structured(await c.call_tool("docker_healthcheck", {}))
        assert data["reachable"] is False
        assert "Cannot reach the Docker engine" in data["error"]
        assert data["unhealthy"] == []
        resources = (await c.list_resources()).resources
        assert resources == []
        done = await c.complete(
            ResourceTemplateReference(type="ref/resource", uri=LOGS_TEMPLATE), {"name": "container", "value": ""}
        )
        assert done.completion.values == []
        text = error_text(await c.call_tool("docker_system_info", {}))
        assert "Cannot reach the Docker engine" in text


def test_prune_waits_for_a_concurrent_prune(monkeypatch: pytest.MonkeyPatch) -> None:
    busy = docker.errors.APIError("busy", response=SimpleNamespace(status_code=409), explanation="already running")
    calls: list[int] = []

    def flaky(**kwargs: Any) -> dict[str, Any]:
        calls.append(1)
        if len(calls) < 2:
            raise busy
        return {"ContainersDeleted": None, **kwargs}

    assert system_tools._prune(flaky, filters=None) == {"ContainersDeleted": None, "filters": None}
    monkeypatch.setattr(system_tools, "PRUNE_ATTEMPTS", 1)
    with pytest.raises(ConflictError, match="Another prune is running"):
        system_tools._prune(lambda **_: (_ for _ in ()).throw(busy))
    bad = docker.errors.APIError("bad", response=SimpleNamespace(status_code=400), explanation="bad filter")
    with pytest.raises(docker.errors.APIError):
        system_tools._prune(lambda **_: (_ for _ in ()).throw(bad))
