"""The 10 container tools against the real engine; every effect is checked on the engine itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import docker
import pytest
from mcp import Client

from tests.conftest import TEST_LABELS, error_text, structured
from tests.waiting import eventually

pytestmark = [pytest.mark.anyio, pytest.mark.engine]


async def test_create_container_has_name_labels_env_ports(
    client: Client, docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str]
) -> None:
    name = unique("create")
    result = await client.call_tool(
        "docker_create_container",
        {
            "image": test_image,
            "name": name,
            "command": "sleep 300",
            "environment": {"GREETING": "hello", "SECRET_TOKEN": "s3cr3t"},
            "labels": {**TEST_LABELS, "app": "web"},
            "ports": {"8080/tcp": None},
            "restart_policy": "on-failure:2",
            "mem_limit": "64m",
            "cpus": 0.5,
        },
    )
    data = structured(result)
    assert data["name"] == name
    assert data["state"] == "created"

    attrs = docker_client.api.inspect_container(name)
    assert attrs["Config"]["Labels"]["app"] == "web"
    assert attrs["Config"]["Labels"]["mcp-docker.managed"] == "true"
    assert "GREETING=hello" in attrs["Config"]["Env"]
    assert attrs["Config"]["Cmd"] == ["sleep", "300"]
    assert "8080/tcp" in attrs["HostConfig"]["PortBindings"]
    assert attrs["HostConfig"]["PortBindings"]["8080/tcp"][0]["HostIp"] == "127.0.0.1"
    assert attrs["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    assert attrs["HostConfig"]["Memory"] == 64 * 1024 * 1024
    assert attrs["HostConfig"]["NanoCpus"] == 500_000_000
    assert attrs["State"]["Status"] == "created"


async def test_create_and_start_publishes_port(
    client: Client, docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str]
) -> None:
    name = unique("web")
    data = structured(
        await client.call_tool(
            "docker_create_container",
            {
                "image": test_image,
                "name": name,
                "command": ["httpd", "-f", "-p", "8080"],
                "ports": {"8080": 0 or None},
                "labels": TEST_LABELS,
                "start": True,
            },
        )
    )
    assert data["state"] == "running"
    assert any(p.startswith("127.0.0.1:") and p.endswith("->8080/tcp") for p in data["ports"])
    assert docker_client.containers.get(name).status == "running"


async def test_create_missing_image_is_clear_error(
    client: Client, docker_client: docker.DockerClient, unique: Callable[[str], str]
) -> None:
    name = unique("noimg")
    text = error_text(
        await client.call_tool("docker_create_container", {"image": "mcpt-no-such-image:1", "name": name})
    )
    assert "No such image 'mcpt-no-such-image:1'" in text
    assert "docker_list_images" in text
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(name)


async def test_create_rejects_bad_input_and_creates_nothing(
    client: Client, docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str]
) -> None:
    name = unique("bad")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"ports": {"http": 80}}, "Invalid container port"),
        ({"ports": {"80": 70000}}, "Invalid host port"),
        ({"mem_limit": "lots"}, "Invalid memory size"),
        ({"restart_policy": "sometimes"}, "Invalid restart policy"),
        ({"volumes": ["/etc:/host-etc"]}, "MCP_DOCKER_ALLOWED_BIND_ROOTS"),
        ({"unknown_option": True}, "unknown_option"),
    ]
    for extra, expected in cases:
        text = error_text(
            await client.call_tool("docker_create_container", {"image": test_image, "name": name, **extra})
        )
        assert expected in text, (extra, text)
    text = error_text(await client.call_tool("docker_create_container", {"image": test_image, "name": "-bad name"}))
    assert "Invalid container name" in text
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(name)


async def test_create_with_named_volume_and_network(
    client: Client, docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str]
) -> None:
    net = docker_client.networks.create(unique("net"), labels=TEST_LABELS)
    vol = unique("vol")
    name = unique("vn")
    data = structured(
        await client.call_tool(
            "docker_create_container",
            {
                "image": test_image,
                "name": name,
                "command": "sleep 300",
                "volumes": [f"{vol}:/data"],
                "network": net.name,
                "labels": TEST_LABELS,
                "start": True,
            },
        )
    )
    assert data["state"] == "running"
    attrs = docker_client.api.inspect_container(name)
    assert net.name in attrs["NetworkSettings"]["Networks"]
    assert any(m.get("Name") == vol and m["Destination"] == "/data" for m in attrs["Mounts"])
    text = error_text(
        await client.call_tool(
            "docker_create_container",
            {"image": test_image, "name": unique("x"), "network": "mcpt-no-such-net"},
        )
    )
    assert "No such network 'mcpt-no-such-net'" in text


async def test_list_containers_compact_with_filters_and_limit(
    client: Client, run_container: Callable[..., Any], unique: Callable[[str], str]
) -> None:
    group = unique("group")
    first = run_container(labels={"group": group})
    second = run_container(labels={"group": group})
    data = structured(await client.call_tool("docker_list_containers", {"filters": {"label": f"group={group}"}}))
    names = {c["name"] for c in data["containers"]}
    assert names == {first.name, second.name}
    assert data["total"] == 2
    assert data["truncated"] is False
    assert set(data["containers"][0]) == {"id", "name", "image", "state", "status", "ports"}

    limited = structured(
        await client.call_tool("docker_list_containers", {"filters": {"label": [f"group={group}"]}, "limit": 1})
    )
    assert len(limited["containers"]) == 1
    assert limited["total"] == 2
    assert limited["truncated"] is True

    first.stop(timeout=0)

    def exited() -> bool:  # Docker 26 can answer the stop before the listing shows the container exited
        first.reload()
        return bool(first.status == "exited")

    await eventually(exited)
    running = structured(await client.call_tool("docker_list_containers", {"filters": {"label": f"group={group}"}}))
    assert {c["name"] for c in running["containers"]} == {second.name}
    every = structured(
        await client.call_tool("docker_list_containers", {"all": True, "filters": {"label": f"group={group}"}})
    )
    assert {c["state"] for c in every["containers"]} == {"exited", "running"}


async def test_inspect_container_redacts_env(client: Client, run_container: Callable[..., Any]) -> None:
    c = run_container(environment={"DB_PASSWORD": "hunter2", "MODE": "prod"}, labels={"tier": "db"})
    data = structured(await client.call_tool("docker_inspect_container", {"container": c.name}))
    assert data["name"] == c.name
    assert data["state"]["running"] is True
    assert "DB_PASSWORD=***" in data["env"]
    assert "MODE=***" in data["env"]
    assert "hunter2" not in str(result_text := data)
    assert data["labels"]["tier"] == "db"
    assert data["command"] == ["sleep", "300"]
    assert data["raw"] is None

    full = structured(await client.call_tool("docker_inspect_container", {"container": c.id[:12], "full": True}))
    assert full["raw"]["Id"] == c.id
    assert "hunter2" not in str(full)
    assert result_text


async def test_inspect_env_visible_when_redaction_disabled(
    run_container: Callable[..., Any], docker_client: docker.DockerClient
) -> None:
    from mcp_docker.server import create_server
    from tests.conftest import allow_settings

    c = run_container(environment={"MODE": "prod"})
    async with Client(create_server(allow_settings(redact_env=False))) as cl:
        data = structured(await cl.call_tool("docker_inspect_container", {"container": c.name}))
    assert "MODE=prod" in data["env"]


async def test_missing_container_errors_name_it(client: Client) -> None:
    for tool, args in [
        ("docker_inspect_container", {}),
        ("docker_start_container", {}),
        ("docker_stop_container", {}),
        ("docker_restart_container", {}),
        ("docker_remove_container", {}),
        ("docker_container_logs", {}),
        ("docker_container_stats", {}),
        ("docker_exec_command", {"command": ["true"]}),
    ]:
        text = error_text(await client.call_tool(tool, {"container": "mcpt-ghost", **args}))
        assert "No such container 'mcpt-ghost'" in text, (tool, text)
        assert "docker_list_containers" in text


async def test_start_stop_restart_change_engine_state(
    client: Client, docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str]
) -> None:
    container = docker_client.containers.create(test_image, ["sleep", "300"], name=unique("life"), labels=TEST_LABELS)
    started = structured(await client.call_tool("docker_start_container", {"container": container.name}))
    assert started["state"] == "running"
    container.reload()
    assert container.status == "running"
    first_start = container.attrs["State"]["StartedAt"]

    stopped = structured(await client.call_tool("docker_stop_container", {"container": container.name, "timeout": 1}))
    assert stopped["state"] == "exited"
    container.reload()
    assert container.status == "exited"

    restarted = structured(
        await client.call_tool("docker_restart_container", {"container": container.name, "timeout": 1})
    )
    assert restarted["state"] == "running"
    container.reload()
    assert container.status == "running"
    assert container.attrs["State"]["StartedAt"] != first_start


async def test_remove_container_really_removes(
    client: Client, docker_client: docker.DockerClient, run_container: Callable[..., Any]
) -> None:
    c = run_container()
    text = error_text(await client.call_tool("docker_remove_container", {"container": c.name}))
    assert "Conflict" in text
    assert docker_client.containers.get(c.name).status == "running"

    data = structured(await client.call_tool("docker_remove_container", {"container": c.name, "force": True}))
    assert data["removed"] is True
    assert data["name"] == c.name
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(c.name)


async def test_logs_return_printed_lines_with_tail_and_ansi_stripped(
    client: Client, run_container: Callable[..., Any]
) -> None:
    c = run_container(
        [
            "sh",
            "-c",
            "for i in $(seq 1 150); do echo line-$i; done; printf '\\033[31mred\\033[0m\\n'; "
            "sleep 0.5; echo to-stderr >&2; sleep 300",
        ]
    )
    await eventually(lambda: b"to-stderr" in c.logs())
    data = structured(await client.call_tool("docker_container_logs", {"container": c.name}))
    lines = data["text"].splitlines()
    assert data["lines"] == 100
    assert lines[-1] == "to-stderr"
    assert "red" in lines
    assert "\x1b" not in data["text"]
    assert "line-150" in lines
    assert "line-50" not in lines

    five = structured(await client.call_tool("docker_container_logs", {"container": c.name, "tail": 5}))
    assert five["text"].splitlines() == ["line-148", "line-149", "line-150", "red", "to-stderr"]

    stamped = structured(
        await client.call_tool("docker_container_logs", {"container": c.name, "tail": 1, "timestamps": True})
    )
    assert stamped["text"].split(" ", 1)[0].startswith("20")

    future = structured(await client.call_tool("docker_container_logs", {"container": c.name, "since": "0s"}))
    assert "line-1\n" not in future["text"]
    old = structured(await client.call_tool("docker_container_logs", {"container": c.name, "until": "1h"}))
    assert old["text"] == ""
    bad = error_text(await client.call_tool("docker_container_logs", {"container": c.name, "since": "yesterday"}))
    assert "RFC 3339" in bad


async def test_logs_are_bounded(docker_client: docker.DockerClient, run_container: Callable[..., Any]) -> None:
    from mcp_docker.server import create_server
    from tests.conftest import allow_settings

    c = run_container(
        ["sh", "-c", "for i in $(seq 1 400); do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; done; sleep 300"]
    )
    await eventually(lambda: b"line-400" in c.logs())
    async with Client(create_server(allow_settings(max_output_bytes=1000))) as cl:
        data = structured(await cl.call_tool("docker_container_logs", {"container": c.name, "tail": None}))
    assert data["truncated"] is True
    assert len(data["text"].encode()) <= 1000
    assert data["text"].splitlines()[-1].startswith("line-400-")
    assert "tail/since/until" in data["note"]


async def test_exec_returns_exit_code_and_output(client: Client, run_container: Callable[..., Any]) -> None:
    c = run_container()
    data = structured(
        await client.call_tool("docker_exec_command", {"container": c.name, "command": ["echo", "hi there"]})
    )
    assert data["exit_code"] == 0
    assert data["stdout"] == "hi there\n"

    # A string is split like a shell would, but never run by one; quoted shell characters are plain text.
    data = structured(
        await client.call_tool("docker_exec_command", {"container": c.name, "command": "echo 'a b' ';' id"})
    )
    assert data["command"] == ["echo", "a b", ";", "id"]
    assert data["stdout"] == "a b ; id\n"
    # Unquoted shell syntax would not mean what it says without a shell: refused (tests/integration/test_safety.py).
    assert "shell syntax" in error_text(
        await client.call_tool("docker_exec_command", {"container": c.name, "command": "echo 'a b' ; id"})
    )

    data = structured(
        await client.call_tool(
            "docker_exec_command",
            {
                "container": c.name,
                "command": ["sh", "-c", "echo $FOO; pwd; echo oops >&2; exit 3"],
                "environment": {"FOO": "bar"},
                "workdir": "/tmp",
                "user": "nobody",
            },
        )
    )
    assert data["exit_code"] == 3
    assert data["stdout"] == "bar\n/tmp\n"
    assert data["stderr"] == "oops\n"

    text = error_text(await client.call_tool("docker_exec_command", {"container": c.name, "command": "echo 'open"}))
    assert "Pass a list" in text

    text = error_text(await client.call_tool("docker_exec_command", {"container": c.name, "command": []}))
    assert "empty" in text


async def test_exec_in_stopped_container_is_clear(
    client: Client, docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str]
) -> None:
    c = docker_client.containers.create(test_image, ["true"], name=unique("stopped"), labels=TEST_LABELS)
    text = error_text(await client.call_tool("docker_exec_command", {"container": c.name, "command": ["true"]}))
    assert "is not running" in text


async def test_stats_return_numbers(client: Client, run_container: Callable[..., Any]) -> None:
    c = run_container(["sh", "-c", "while true; do :; done"], mem_limit="64m")
    data = structured(await client.call_tool("docker_container_stats", {"container": c.name}))
    assert data["name"] == c.name
    assert data["running"] is True
    assert data["cpu_percent"] > 1.0
    assert data["memory_limit"] == 64 * 1024 * 1024
    assert 0 < data["memory_usage"] < data["memory_limit"]
    assert 0 < data["memory_percent"] < 100
    assert data["pids"] >= 1
    assert data["online_cpus"] >= 1
