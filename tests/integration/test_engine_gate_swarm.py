"""The engine gate on swarm services, on a private one-node swarm (tests/private_engine.py): the host
network by id, and an update (even a scale) of a service made outside the server with a bind mount."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import docker
import pytest

from mcp_docker.config import TOOLSETS, Settings
from mcp_docker.docker.client import Engine
from mcp_docker.utils.errors import UnsafeOperation
from tests.conftest import TEST_LABELS, allow_settings, error_text
from tests.engine import ensure_test_image
from tests.integration.test_swarm import _server_client, swarm
from tests.private_engine import PrivateEngine

pytestmark = [pytest.mark.anyio, pytest.mark.engine]
__all__ = ["swarm"]  # the module-scoped private swarm fixture


async def test_service_on_the_host_network_by_id_is_refused(swarm: PrivateEngine, unique: Callable[[str], str]) -> None:
    api = swarm.client.api
    host_id = api.inspect_network("host")["Id"]
    image = ensure_test_image(swarm.client)
    name = unique("hostnet")
    eng, client = _server_client(swarm, allow_settings(toolsets=list(TOOLSETS)), "legacy")
    async with client as c:
        for network in (host_id, host_id[:12]):
            text = error_text(
                await c.call_tool(
                    "docker_create_service",
                    {"image": image, "name": name, "networks": [network], "labels": TEST_LABELS},
                )
            )
            assert "host driver" in text and "MCP_DOCKER_ALLOW_HOST_NAMESPACES" in text, text
    eng.close()
    raw = Engine(base_url=swarm.url, settings=Settings())
    try:
        with pytest.raises(UnsafeOperation, match="host driver"):
            raw.api.create_service({"ContainerSpec": {"Image": image}}, name=name, networks=[host_id])
    finally:
        raw.close()
    assert not api.services(filters={"name": name})


async def test_updating_a_service_made_outside_with_a_bind_mount_is_refused(
    swarm: PrivateEngine, unique: Callable[[str], str]
) -> None:
    api = swarm.client.api
    image = ensure_test_image(swarm.client)
    name = unique("outsvc")
    created = api.create_service(
        {
            "ContainerSpec": {
                "Image": image,
                "Args": ["sleep", "600"],
                "Mounts": [{"Type": "bind", "Source": "/etc", "Target": "/host-etc", "ReadOnly": True}],
            }
        },
        name=name,
        labels=TEST_LABELS,
        mode={"Replicated": {"Replicas": 0}},
    )
    try:
        version = api.inspect_service(created["ID"])["Version"]["Index"]
        eng, client = _server_client(swarm, allow_settings(toolsets=list(TOOLSETS)), "legacy")
        async with client as c:
            for tool, args in (
                ("docker_update_service", {"labels": {"x": "y"}}),
                ("docker_update_service", {"force": True}),
                ("docker_scale_service", {"replicas": 1}),
            ):
                text = error_text(await c.call_tool(tool, {"service": name, **args}))
                assert "/etc" in text and "MCP_DOCKER_ALLOWED_BIND_ROOTS" in text and "resulting spec" in text, text
        eng.close()
        after = api.inspect_service(created["ID"])
        assert after["Version"]["Index"] == version  # nothing reached the engine
        assert after["Spec"]["Mode"] == {"Replicated": {"Replicas": 0}}
    finally:
        with contextlib.suppress(docker.errors.NotFound):
            api.remove_service(created["ID"])
