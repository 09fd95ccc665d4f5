"""The MCP Apps gate on the lists it is handed in every shape a handler may return (a model, a plain dict,
nothing): `ui://` resources and app-only tools stay hidden from a client without the extension."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from mcp.types import ListResourcesResult, Resource

from mcp_docker.apps import gate as gate_module
from mcp_docker.apps.gate import apps_gate

pytestmark = pytest.mark.anyio

APP_ONLY = {"name": "app_button", "_meta": {"ui": {"visibility": ["app"]}}, "inputSchema": {"type": "object"}}
MODEL_TOO = {"name": "docker_list_containers", "_meta": {"ui": {"visibility": ["model", "app"]}}}
PLAIN = {"name": "docker_info"}


def _ctx(method: str, params: dict[str, Any] | None = None) -> Any:
    return SimpleNamespace(method=method, params=params)


async def _through(result: Any, method: str, apps: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(gate_module, "client_supports_apps", lambda ctx: apps)
    calls: list[Any] = []

    async def call_next(ctx: Any) -> Any:
        calls.append(ctx)
        return result

    out = await apps_gate({"app_button"})(_ctx(method), call_next)
    assert len(calls) == 1  # the SDK's handler ran once
    return out


async def test_a_plain_dict_tools_list_loses_app_only_tools_without_the_extension(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = await _through({"tools": [APP_ONLY, MODEL_TOO, PLAIN]}, "tools/list", False, monkeypatch)
    assert [t["name"] for t in out["tools"]] == ["docker_list_containers", "docker_info"]


async def test_a_plain_dict_resources_list_loses_ui_resources_without_the_extension(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    listed = {"resources": [{"uri": "ui://mcp-docker/confirm.html"}, {"uri": "docker://containers/web/logs"}]}
    out = await _through(listed, "resources/list", False, monkeypatch)
    assert out == {"resources": [{"uri": "docker://containers/web/logs"}]}
    kept = await _through({"resources": [{"uri": "ui://mcp-docker/confirm.html"}]}, "resources/list", True, monkeypatch)
    assert kept == {"resources": [{"uri": "ui://mcp-docker/confirm.html"}]}


async def test_a_model_result_is_dumped_by_alias_and_filtered(monkeypatch: pytest.MonkeyPatch) -> None:
    model = ListResourcesResult(
        resources=[Resource(uri="ui://mcp-docker/logs.html", name="v"), Resource(uri="docker://x/stats", name="s")]
    )
    out = await _through(model, "resources/list", False, monkeypatch)
    assert [r["uri"] for r in out["resources"]] == ["docker://x/stats"]
    assert "mimeType" not in out["resources"][0]  # None fields left out, camelCase aliases used


@pytest.mark.parametrize(("method", "key"), [("tools/list", "tools"), ("resources/list", "resources")])
async def test_nothing_from_the_handler_is_an_empty_list(
    method: str, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = await _through(None, method, False, monkeypatch)
    assert out == {key: []}


async def test_an_app_only_tool_called_without_the_extension_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gate_module, "client_supports_apps", lambda ctx: False)

    async def call_next(ctx: Any) -> Any:
        raise AssertionError("the app-only tool must not run")

    out = await apps_gate({"app_button"})(_ctx("tools/call", {"name": "app_button"}), call_next)
    assert out.is_error and out.content[0].text == "Unknown tool: app_button"
