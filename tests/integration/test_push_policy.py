"""docker_push_image goes only to allowed registries (MCP_DOCKER_ALLOWED_REGISTRIES, by default the
registries the Docker config holds credentials for); a refused push leaves the registry untouched."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import docker
import pytest
from mcp import Client

from mcp_docker.server import create_server
from tests.conftest import allow_settings, error_text, structured

pytestmark = [pytest.mark.anyio, pytest.mark.engine]


def _tags_in_registry(registry: str, repository: str) -> list[str]:
    """The tags the registry holds for `repository` (none when it does not know it)."""
    try:
        with urllib.request.urlopen(f"http://{registry}/v2/{repository}/tags/list", timeout=10) as response:
            return list(json.load(response).get("tags") or [])
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return []
        raise


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Docker config directory for the server in this test (no logged-in registries)."""
    config = tmp_path / "docker-config"
    config.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    return config


async def test_push_to_a_registry_not_allowed_is_refused_before_anything_is_sent(
    client: Client,
    docker_client: docker.DockerClient,
    test_image: str,
    unique: Callable[[str], str],
    registry: str,
    docker_config: Path,
) -> None:
    name = unique("refused")
    docker_client.images.get(test_image).tag(f"{registry}/{name}", "1")
    text = error_text(await client.call_tool("docker_push_image", {"image": f"{registry}/{name}:1"}))
    assert f"'{registry}'" in text and "MCP_DOCKER_ALLOWED_REGISTRIES" in text and "nothing was sent" in text
    assert _tags_in_registry(registry, name) == []
    # Docker Hub too: not logged in, not listed.
    text = error_text(await client.call_tool("docker_push_image", {"image": f"{name}:1"}))
    assert "'docker.io'" in text


async def test_push_is_allowed_to_a_listed_or_logged_in_registry(
    docker_client: docker.DockerClient,
    test_image: str,
    unique: Callable[[str], str],
    registry: str,
    docker_config: Path,
) -> None:
    listed, logged_in, elsewhere = unique("listed"), unique("loggedin"), unique("elsewhere")
    for name in (listed, logged_in, elsewhere):
        docker_client.images.get(test_image).tag(f"{registry}/{name}", "1")

    async with Client(create_server(allow_settings(allowed_registries=[registry])), mode="legacy") as c:
        pushed = structured(await c.call_tool("docker_push_image", {"image": f"{registry}/{listed}:1"}))
    assert pushed["digest"].startswith("sha256:")
    assert _tags_in_registry(registry, listed) == ["1"]

    # Without the setting, the Docker config's `auths` keys are the allowed registries.
    (docker_config / "config.json").write_text(json.dumps({"auths": {f"http://{registry}/v2/": {}}}))
    async with Client(create_server(allow_settings()), mode="legacy") as c:
        structured(await c.call_tool("docker_push_image", {"image": f"{registry}/{logged_in}:1"}))
    assert _tags_in_registry(registry, logged_in) == ["1"]

    # The setting replaces the config's list: a logged-in registry not listed is refused.
    async with Client(create_server(allow_settings(allowed_registries=["registry.example.com"])), mode="legacy") as c:
        text = error_text(await c.call_tool("docker_push_image", {"image": f"{registry}/{elsewhere}:1"}))
    assert "registry.example.com" in text and f"'{registry}'" in text
    assert _tags_in_registry(registry, elsewhere) == []
