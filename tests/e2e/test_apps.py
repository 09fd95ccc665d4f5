"""MCP Apps (io.modelcontextprotocol/ui): what a client that negotiates the extension gets, and proof
that a client that does not sees exactly today's surface. The views themselves run in a browser in
tests/browser/test_views.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import docker
import pytest
from mcp.client import Client
from mcp.client.extension import ClientExtension

from mcp_docker.apps.app_tools import CONFIRM_META
from mcp_docker.apps.views_html import CSP
from mcp_docker.server import create_server
from tests.conftest import MODES, allow_settings, error_text, stdio_params, structured

pytestmark = [pytest.mark.anyio]

APP_ONLY = {
    "docker_app_request_removal",
    "docker_app_confirm_removal",
    "docker_app_dismiss_removal",
    "docker_app_log_lines",
}
VIEWS = {
    "docker_list_containers": "ui://mcp-docker/containers.html",
    "docker_container_logs": "ui://mcp-docker/logs.html",
    "docker_container_stats": "ui://mcp-docker/stats.html",
    "docker_compose_operations": "ui://mcp-docker/compose.html",
}


class UI(ClientExtension):
    """What an MCP Apps host declares."""

    identifier = "io.modelcontextprotocol/ui"

    def settings(self) -> dict[str, Any]:
        return {"mimeTypes": ["text/html;profile=mcp-app"]}


def apps_client(mode: str, **settings: Any) -> Client:
    return Client(create_server(allow_settings(**settings)), mode=mode, extensions=[UI()])


@pytest.mark.parametrize("mode", MODES)
async def test_without_the_extension_the_surface_is_byte_for_byte_todays(mode: str) -> None:
    """tools/list and resources/list of a client that did not negotiate MCP Apps serialize exactly as
    those of a server built without the extension."""
    lists: list[tuple[str, str]] = []
    for apps in (True, False):
        async with Client(create_server(allow_settings(), apps=apps), mode=mode) as c:
            tools = (await c.list_tools()).model_dump_json(by_alias=True)
            # Per-container resources come and go with the engine's containers (neighbours' too).
            listed = [
                r for r in (await c.list_resources()).resources if not str(r.uri).startswith("docker://containers/")
            ]
            resources = json.dumps([r.model_dump(mode="json", by_alias=True) for r in listed])
            lists.append((tools, resources))
    assert lists[0] == lists[1]
    assert "ui://" not in lists[0][0] + lists[0][1] and "docker_app_" not in lists[0][0]


@pytest.mark.parametrize("mode", MODES)
async def test_app_only_tools_are_unknown_to_a_plain_client(mode: str) -> None:
    async with Client(create_server(allow_settings()), mode=mode) as c:
        for name in APP_ONLY:
            hidden = await c.call_tool(name, {"token": "x"})
            missing = await c.call_tool("docker_no_such_tool", {"token": "x"})
            assert error_text(hidden) == error_text(missing).replace("docker_no_such_tool", name)


@pytest.mark.parametrize("mode", MODES)
async def test_an_apps_client_gets_views_bound_to_tools(mode: str) -> None:
    async with apps_client(mode, destructive="confirm") as c:  # the card's buttons exist where it may ask
        tools = {t.name: t for t in (await c.list_tools()).tools}
        for name, uri in VIEWS.items():
            assert tools[name].meta == {"ui": {"resourceUri": uri}}
        for name in APP_ONLY:
            assert (tools[name].meta or {})["ui"]["visibility"] == ["app"]
        listed = {str(r.uri) for r in (await c.list_resources()).resources}
        assert set(VIEWS.values()) <= listed
        for uri in VIEWS.values():
            content = (await c.read_resource(uri)).contents[0]
            assert content.mime_type == "text/html;profile=mcp-app"
            assert content.meta is not None
            assert content.meta["ui"]["csp"] == {
                "connectDomains": [],
                "resourceDomains": [],
                "frameDomains": [],
                "baseUriDomains": [],
            }
            html = getattr(content, "text", "")
            assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in html
            assert "<script src" not in html and "<link" not in html and "@import" not in html
            assert "https://" not in html.replace("http://www.w3.org/2000/svg", "")
            assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
            assert ".innerHTML" not in html and "insertAdjacentHTML" not in html and "document.write" not in html


@pytest.mark.parametrize("mode", MODES)
async def test_the_extension_is_advertised(mode: str) -> None:
    async with apps_client(mode) as c:
        caps = c.server_capabilities
    if mode == "legacy":
        # The SDK's 2025-era initialize result carries no `extensions` field: the legacy handshake says
        # nothing; hosts find the views through the tools' _meta.ui and resources/read.
        assert caps is None or caps.extensions is None
    else:
        assert caps is not None and caps.extensions == {"io.modelcontextprotocol/ui": {}}


@pytest.mark.engine
@pytest.mark.parametrize("mode", MODES)
async def test_removal_card_secret_reaches_only_the_view_and_works_once(
    mode: str, docker_client: docker.DockerClient, run_container: Callable[..., Any]
) -> None:
    victim = run_container()
    async with apps_client(mode, destructive="confirm") as c:
        asked = await c.call_tool("docker_app_request_removal", {"container": victim.name, "force": True})
        assert not asked.is_error
        token = (asked.meta or {})[CONFIRM_META]["token"]
        model_sees = asked.model_dump_json(include={"content", "structured_content"})
        assert token not in model_sees and len(token) >= 40
        assert "wait" in asked.content[0].text and victim.name in structured(asked)["question"]
        docker_client.containers.get(victim.id)  # asking removed nothing
        wrong = await c.call_tool("docker_app_confirm_removal", {"token": token[:-2] + "xx"})
        assert "nothing was removed" in error_text(wrong)
        docker_client.containers.get(victim.id)
        done = await c.call_tool("docker_app_confirm_removal", {"token": token})
        assert structured(done)["removed"] is True
        with pytest.raises(docker.errors.NotFound):
            docker_client.containers.get(victim.id)
        again = await c.call_tool("docker_app_confirm_removal", {"token": token})
        assert "unknown, used or expired" in error_text(again)


@pytest.mark.engine
@pytest.mark.parametrize("mode", MODES)
async def test_dismissed_card_removes_nothing(
    mode: str, docker_client: docker.DockerClient, run_container: Callable[..., Any]
) -> None:
    keep = run_container()
    async with apps_client(mode, destructive="confirm") as c:
        asked = await c.call_tool("docker_app_request_removal", {"container": keep.name})
        token = (asked.meta or {})[CONFIRM_META]["token"]
        assert structured(await c.call_tool("docker_app_dismiss_removal", {"token": token}))["dismissed"] is True
        late = await c.call_tool("docker_app_confirm_removal", {"token": token})
        assert "nothing was removed" in error_text(late)
    docker_client.containers.get(keep.id)


@pytest.mark.parametrize("settings", [{"read_only": True}, {"destructive": "deny"}])
async def test_no_removal_card_where_removal_is_not_allowed(settings: dict[str, Any]) -> None:
    async with apps_client("auto", **settings) as c:
        names = {t.name for t in (await c.list_tools()).tools}
        assert not names & (APP_ONLY - {"docker_app_log_lines"})
        assert "docker_app_log_lines" in names  # the logs view's own reads stay
        listed = {str(r.uri) for r in (await c.list_resources()).resources}
        assert "ui://mcp-docker/containers.html" in listed  # the views stay (read-only actions fail there)


@pytest.mark.parametrize("mode", MODES)
async def test_stdio_serves_the_views(mode: str) -> None:
    async with Client(stdio_params(), mode=mode, extensions=[UI()]) as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
        assert tools["docker_list_containers"].meta == {"ui": {"resourceUri": VIEWS["docker_list_containers"]}}
        for uri in VIEWS.values():
            content = (await c.read_resource(uri)).contents[0]
            assert content.mime_type == "text/html;profile=mcp-app"
            assert "MCP.start(" in getattr(content, "text", "")
