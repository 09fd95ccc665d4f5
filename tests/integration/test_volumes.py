"""The 5 volume tools against the real engine; every effect is checked on the engine itself."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import docker
import pytest
from mcp import Client

from tests.conftest import TEST_LABELS, error_text, structured
from tests.engine import PREFIX, TEST_LABEL, TEST_LABEL_VALUE

pytestmark = [pytest.mark.anyio, pytest.mark.engine]


async def test_create_write_inspect_remove(
    client: Client, docker_client: docker.DockerClient, run_container: Callable[..., Any], unique: Callable[[str], str]
) -> None:
    name = unique("vol")
    created = structured(
        await client.call_tool("docker_create_volume", {"name": name, "labels": {**TEST_LABELS, "app": "db"}})
    )
    assert created["name"] == name
    assert created["driver"] == "local"
    volume = docker_client.volumes.get(name)
    assert volume.attrs["Labels"]["mcp-docker.managed"] == "true"
    assert volume.attrs["Labels"]["app"] == "db"

    writer = run_container(["sh", "-c", "echo stored > /data/file"], volumes={name: {"bind": "/data", "mode": "rw"}})
    assert writer.wait(timeout=60)["StatusCode"] == 0
    reader = docker_client.containers.run(
        writer.image.id,
        ["cat", "/data/file"],
        volumes={name: {"bind": "/data", "mode": "ro"}},
        name=unique("read"),
        labels=TEST_LABELS,
        remove=True,
    )
    assert reader.strip() == b"stored"

    assert created["already_existed"] is False
    # The name again, asking for tmpfs and other labels: the engine hands back the volume as it is (disk,
    # data kept, old labels), and the result says so rather than passing it off as a new, empty one.
    again = structured(
        await client.call_tool(
            "docker_create_volume",
            {
                "name": name,
                "labels": {**TEST_LABELS, "app": "cache"},
                "driver_opts": {"type": "tmpfs", "device": "tmpfs"},
            },
        )
    )
    assert again["already_existed"] is True and again["used_by"] == [writer.name], again
    assert again["labels"]["app"] == "db" and "type" not in again["options"]
    assert docker_client.volumes.get(name).attrs["Labels"]["app"] == "db"

    details = structured(await client.call_tool("docker_inspect_volume", {"volume": name}))
    assert details["used_by"] == [writer.name] and details.get("already_existed") is None
    assert details["mountpoint"] == volume.attrs["Mountpoint"]
    assert details["labels"]["app"] == "db"

    text = error_text(await client.call_tool("docker_remove_volume", {"volume": name}))
    assert "in use" in text
    assert docker_client.volumes.get(name)

    writer.remove()
    removed = structured(await client.call_tool("docker_remove_volume", {"volume": name}))
    assert removed == {"name": name, "removed": True}
    with pytest.raises(docker.errors.NotFound):
        docker_client.volumes.get(name)


async def test_driver_opts_and_list(
    client: Client, docker_client: docker.DockerClient, unique: Callable[[str], str]
) -> None:
    group = unique("group")
    names = [unique("vol"), unique("vol")]
    for name in names:
        structured(
            await client.call_tool(
                "docker_create_volume",
                {
                    "name": name,
                    "labels": {**TEST_LABELS, "group": group},
                    "driver_opts": {"type": "tmpfs", "device": "tmpfs", "o": "size=8m"},
                },
            )
        )
    assert docker_client.volumes.get(names[0]).attrs["Options"]["type"] == "tmpfs"
    listed = structured(await client.call_tool("docker_list_volumes", {"filters": {"label": f"group={group}"}}))
    assert sorted(v["name"] for v in listed["volumes"]) == sorted(names)
    assert listed["total"] == 2
    assert listed["volumes"][0]["labels"]["group"] == group
    limited = structured(
        await client.call_tool("docker_list_volumes", {"filters": {"label": [f"group={group}"]}, "limit": 1})
    )
    assert len(limited["volumes"]) == 1
    assert limited["truncated"] is True

    generated = structured(await client.call_tool("docker_create_volume", {"labels": TEST_LABELS}))
    assert len(generated["name"]) == 64
    assert docker_client.volumes.get(generated["name"])
    assert "Invalid volume name" in error_text(await client.call_tool("docker_create_volume", {"name": "bad/name"}))


async def test_prune_removes_only_unused_matching_volumes(
    client: Client, docker_client: docker.DockerClient, run_container: Callable[..., Any], unique: Callable[[str], str]
) -> None:
    """The same on every engine API: anonymous unused volumes by default, named ones too with all=true
    (since API 1.42 the engine's own prune keeps named volumes unless told all=true; before, it took them)."""
    group = unique("group")
    labels = {**TEST_LABELS, "group": group}
    anonymous = docker_client.api.create_volume(labels=labels)["Name"]
    unused = docker_client.volumes.create(unique("unused"), labels=labels).name
    used = docker_client.volumes.create(unique("used"), labels=labels).name
    other = docker_client.volumes.create(unique("other"), labels=TEST_LABELS).name
    run_container(volumes={used: {"bind": "/data", "mode": "rw"}})

    filters = {"label": [f"{TEST_LABEL}={TEST_LABEL_VALUE}", f"group={group}"]}
    result = structured(await client.call_tool("docker_prune_volumes", {"filters": filters}))
    assert result["removed"] == [anonymous]
    assert result["count"] == 1
    assert result["space_reclaimed"] >= 0
    with pytest.raises(docker.errors.NotFound):
        docker_client.volumes.get(anonymous)
    assert docker_client.volumes.get(unused)

    result = structured(await client.call_tool("docker_prune_volumes", {"filters": filters, "all": True}))
    assert result["removed"] == [unused]
    with pytest.raises(docker.errors.NotFound):
        docker_client.volumes.get(unused)
    assert docker_client.volumes.get(used)
    assert docker_client.volumes.get(other)
    text = error_text(await client.call_tool("docker_prune_volumes", {"filters": {"all": "true"}}))
    assert "not as a filter" in text


async def test_prune_question_says_which_volumes_go(
    docker_client: docker.DockerClient, unique: Callable[[str], str]
) -> None:
    from mcp_docker.docker.client import Engine
    from mcp_docker.tools.prune_questions import volume_prune_question

    group = unique("group")
    labels = {**TEST_LABELS, "group": group}
    anonymous = docker_client.api.create_volume(labels=labels)["Name"]
    named = docker_client.volumes.create(unique("named"), labels=labels).name
    eng = Engine()
    try:
        filters = {"label": f"group={group}"}
        question = volume_prune_question(eng, {"filters": filters})
        assert "anonymous volumes (named ones are kept)" in question
        assert "Would be removed now (1)" in question and anonymous[:12] in question and named not in question
        question = volume_prune_question(eng, {"filters": filters, "all": True})
        assert "named ones too (all=true)" in question
        assert "Would be removed now (2)" in question and named in question
    finally:
        eng.close()


async def test_missing_volume_errors_point_at_list_tool(client: Client, unique: Callable[[str], str]) -> None:
    missing = unique("novol")
    for tool in ("docker_inspect_volume", "docker_remove_volume"):
        text = error_text(await client.call_tool(tool, {"volume": missing}))
        assert f"No such volume '{missing}'" in text, (tool, text)
        assert "docker_list_volumes" in text, (tool, text)


async def test_create_volume_refuses_bind_in_disguise(client: Client, docker_client: docker.DockerClient) -> None:
    """A local volume whose driver options bind a host path is a bind mount: refused, nothing created."""
    name = f"{PREFIX}bindvol-{uuid.uuid4().hex[:8]}"
    text = error_text(
        await client.call_tool(
            "docker_create_volume",
            {"name": name, "driver_opts": {"type": "none", "o": "bind", "device": "/etc"}, "labels": TEST_LABELS},
        )
    )
    assert "MCP_DOCKER_ALLOWED_BIND_ROOTS" in text
    with pytest.raises(docker.errors.NotFound):
        docker_client.volumes.get(name)
