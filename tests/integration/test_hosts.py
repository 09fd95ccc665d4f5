"""Several named engines (MCP_DOCKER_HOSTS): routing, the `host` argument, and per-engine modes."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import docker
import pytest
from mcp import Client

from mcp_docker.config import parse_hosts
from mcp_docker.server import create_server
from tests.conftest import TEST_LABELS, allow_settings, error_text, structured

pytestmark = [pytest.mark.anyio, pytest.mark.engine]

SOCK = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"  # the engine under test (conftest)


def test_parse_hosts_and_errors() -> None:
    hosts = parse_hosts(f"local={SOCK}, prod=ssh://ops@prod(ro),ci=context:ci (nd),t=tcp://127.0.0.1:2376")
    assert [(h.name, h.mode) for h in hosts] == [("local", "rw"), ("prod", "ro"), ("ci", "nd"), ("t", "rw")]
    assert hosts[1].endpoint == "ssh://ops@prod"
    for bad, words in [
        ("local", "expected name=endpoint"),
        ("local=http://x", "bad endpoint"),
        (f"a={SOCK},a={SOCK}", "more than once"),
        (f"a={SOCK}(rw!)", "expected name=endpoint"),
    ]:
        with pytest.raises(ValueError, match=words):
            parse_hosts(bad)
    assert parse_hosts(" , ") == []


async def test_one_engine_has_no_host_argument() -> None:
    async with Client(create_server(allow_settings())) as c:
        tools = (await c.list_tools()).tools
    assert all("host" not in t.input_schema.get("properties", {}) for t in tools)


async def test_host_argument_routes_and_guards_writes(
    docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str], run_container: Callable[..., Any]
) -> None:
    settings = allow_settings(hosts=f"main={SOCK},mirror={SOCK}(ro),careful={SOCK}(nd)")
    probe = run_container()
    async with Client(create_server(settings)) as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
        host_schema = tools["docker_list_containers"].input_schema["properties"]["host"]
        assert "main" in str(host_schema)
        assert "mirror" in str(host_schema)

        # Reads default to the first engine, or go where asked.
        for args in ({}, {"host": "mirror"}, {"host": "careful"}):
            listed = structured(await c.call_tool("docker_list_containers", {"filters": {"name": probe.name}, **args}))
            assert [x["name"] for x in listed["containers"]] == [probe.name]

        # A write must name its host.
        name = unique("hosted")
        create = {"image": test_image, "name": name, "labels": TEST_LABELS}
        text = error_text(await c.call_tool("docker_create_container", create))
        assert "several engines" in text
        assert "host" in text
        # A read-only engine refuses writes; an (nd) engine refuses destructive ones.
        text = error_text(await c.call_tool("docker_create_container", {**create, "host": "mirror"}))
        assert "read-only" in text
        with pytest.raises(docker.errors.NotFound):
            docker_client.containers.get(name)
        created = structured(await c.call_tool("docker_create_container", {**create, "host": "careful"}))
        assert created["name"] == name
        text = error_text(await c.call_tool("docker_remove_container", {"container": name, "host": "careful"}))
        assert "no destructive tools" in text
        assert docker_client.containers.get(name).name == name
        removed = structured(await c.call_tool("docker_remove_container", {"container": name, "host": "main"}))
        assert removed["removed"] is True
        with pytest.raises(docker.errors.NotFound):
            docker_client.containers.get(name)
        # Only configured names are accepted: no tool can point the server at a new endpoint.
        text = error_text(await c.call_tool("docker_list_containers", {"host": "tcp://evil:2375"}))
        assert "host" in text


async def test_read_only_everywhere_hides_write_tools() -> None:
    settings = allow_settings(hosts=f"a={SOCK}(ro),b={SOCK}(ro)")
    async with Client(create_server(settings)) as c:
        names = {t.name for t in (await c.list_tools()).tools}
    assert "docker_list_containers" in names
    assert "docker_create_container" not in names
    assert "docker_remove_container" not in names


async def test_unreachable_named_engine_is_clear(tmp_path: Any) -> None:
    settings = allow_settings(hosts=f"main={SOCK},gone=unix://{tmp_path}/none.sock", connect_timeout=2)
    async with Client(create_server(settings)) as c:
        ok = structured(await c.call_tool("docker_list_containers", {"limit": 1}))
        assert ok["limit"] == 1
        text = error_text(await c.call_tool("docker_list_containers", {"host": "gone"}))
        assert "Cannot reach the Docker engine" in text
        assert f"Endpoint: unix://{tmp_path}/none.sock." in text, text  # the named engine's, not main's


async def test_docker_context_endpoint(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, run_container: Callable[..., Any]
) -> None:
    """`name=context:NAME` uses a docker CLI context (its endpoint and TLS material), like the CLI."""
    import subprocess

    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    (tmp_path / "config.json").write_text("{}")  # docker-py looks for contexts beside a config.json only
    subprocess.run(
        ["docker", "context", "create", "mcpt-ctx", "--docker", f"host={SOCK}"],
        check=True,
        capture_output=True,
        env={"DOCKER_CONFIG": str(tmp_path), "PATH": "/usr/local/bin:/usr/bin:/bin"},
    )
    probe = run_container()
    settings = allow_settings(hosts=f"ctx=context:mcpt-ctx,other={SOCK}")
    async with Client(create_server(settings)) as c:
        listed = structured(
            await c.call_tool("docker_list_containers", {"filters": {"name": probe.name}, "host": "ctx"})
        )
    assert [x["name"] for x in listed["containers"]] == [probe.name]


async def test_two_real_engines_each_host_sees_only_its_own(
    docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str], run_container: Callable[..., Any]
) -> None:
    """A second dockerd (own socket, data root and network namespace, started by this test): the same
    call on each host sees only that host's containers, and writes go where `host` says."""
    from tests.engine import engine_kind, ensure_test_image
    from tests.private_engine import running_private_engine

    here = run_container()
    with running_private_engine(own_netns=True) as second:
        if engine_kind() in ("old", "current"):  # the private engine runs the dockerd of the engine under test
            assert second.client.version()["Version"] == docker_client.version()["Version"]
        second_image = ensure_test_image(second.client)
        settings = allow_settings(hosts=f"main={SOCK},second={second.url}")
        async with Client(create_server(settings)) as c:
            name = unique("on-second")
            created = structured(
                await c.call_tool(
                    "docker_create_container",
                    {
                        "image": second_image,
                        "name": name,
                        "command": "sleep 300",
                        "labels": TEST_LABELS,
                        "start": True,
                        "host": "second",
                    },
                )
            )
            assert created["state"] == "running"
            assert second.client.containers.get(name).status == "running"
            with pytest.raises(docker.errors.NotFound):
                docker_client.containers.get(name)

            on_main = structured(await c.call_tool("docker_list_containers", {"all": True, "host": "main"}))
            on_second = structured(await c.call_tool("docker_list_containers", {"all": True, "host": "second"}))
            main_names = {x["name"] for x in on_main["containers"]}
            second_names = {x["name"] for x in on_second["containers"]}
            assert here.name in main_names
            assert name not in main_names
            assert second_names == {name}

            text = error_text(await c.call_tool("docker_inspect_container", {"container": here.name, "host": "second"}))
            assert f"No such container '{here.name}'" in text
        # With confirmation (the default), the question describes the target on the engine the call goes
        # to, and a destructive call that names no host is refused before anything is asked.
        from tests.e2e.test_confirmation import User

        user = User("accept")
        confirm_settings = allow_settings(hosts=f"main={SOCK},second={second.url}", destructive="confirm")
        for mode in ("legacy", "auto"):
            async with Client(create_server(confirm_settings), mode=mode, elicitation_callback=user) as c:
                text = error_text(await c.call_tool("docker_remove_container", {"container": name, "force": True}))
                assert "several engines" in text
                assert user.questions == []
                if mode == "auto":
                    removed = structured(
                        await c.call_tool(
                            "docker_remove_container", {"container": name, "force": True, "host": "second"}
                        )
                    )
                    assert removed["removed"] is True
                    assert len(user.questions) == 1
                    assert name in user.questions[0]
        assert second.client.containers.list(all=True) == []


async def test_unreachable_ssh_engine_is_clear() -> None:
    """ssh:// goes through the system ssh client (docker-py's shell-out, as the docker CLI does); an
    unreachable host is an error that says so, not a hang."""
    settings = allow_settings(hosts=f"main={SOCK},far=ssh://nobody@127.0.0.1:1", connect_timeout=3)
    async with Client(create_server(settings)) as c:
        text = error_text(await c.call_tool("docker_list_containers", {"host": "far"}))
    assert "Cannot reach the Docker engine" in text
