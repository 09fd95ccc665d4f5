"""The `mcp-docker` command (doctor, settings errors) and the engine client, against the real engine."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import docker
import pytest

from mcp_docker.__main__ import main
from mcp_docker.docker.client import Engine
from mcp_docker.docker.contexts import describe_endpoint

pytestmark = pytest.mark.engine


def test_doctor_reports_reachable_engine(
    docker_client: docker.DockerClient, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["engine"]["reachable"] is True
    assert report["engine"]["server_version"] == docker_client.version()["Version"]
    assert report["engine"]["api_version"] == docker_client.api.api_version
    assert report["settings"]["destructive"] == "confirm"
    assert report["tools_offered"] >= 10

    assert main(["doctor"]) == 0
    text = capsys.readouterr().out
    assert "engine: reachable at" in text
    assert "destructive = confirm" in text


def test_doctor_unreachable_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/nope.sock")
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "NOT reachable" in out
    assert "mcp-docker doctor" in out or "Cannot reach" in out


def test_bad_settings_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--transport", "http", "--host", "0.0.0.0"]) == 2
    assert "without a token" in capsys.readouterr().err
    assert main(["serve", "--toolsets", "bogus"]) == 2
    assert main(["doctor", "--disabled-tools", "docker_nope", "--log-level", "debug"]) in (0, 1)


def test_engine_client_is_lazy_and_recovers(tmp_path: Path, docker_client: docker.DockerClient) -> None:
    engine = Engine(base_url=f"unix://{tmp_path}/nope.sock", connect_timeout=1)
    assert engine.endpoint.endswith("nope.sock")
    health = engine.health()
    assert health.reachable is False
    assert health.error and "Cannot reach" in health.error
    good = Engine(connect_timeout=3)
    first = good.health()
    assert first.reachable and first.latency_ms is not None and first.api_version
    client = good.client
    assert good.client is client  # reused
    good.reset()
    assert good.client is not client  # recreated after a reset
    good.close()


def test_describe_endpoint() -> None:
    assert describe_endpoint({"DOCKER_HOST": "tcp://h:2376"}) == "tcp://h:2376"
    assert describe_endpoint({}).startswith("unix://")


def test_doctor_reaches_the_engine_docker_context_names_and_says_so(
    docker_client: docker.DockerClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """DOCKER_CONTEXT (over a config.json whose current context does not exist) is the engine reached and
    the one named; a DOCKER_CONTEXT that does not exist is refused, not replaced by the local socket."""
    host = docker_client.api.base_url.replace("http+docker://localhost", "unix:///var/run/docker.sock")
    host = os.environ.get("DOCKER_HOST") or host
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "xq-missing"}))
    meta = tmp_path / "contexts" / "meta" / hashlib.sha256(b"xq-ctx").hexdigest() / "meta.json"
    meta.parent.mkdir(parents=True)  # as `docker context create xq-ctx --docker host=...` writes it
    meta.write_text(json.dumps({"Name": "xq-ctx", "Metadata": {}, "Endpoints": {"docker": {"Host": host}}}))
    monkeypatch.setenv("DOCKER_CONTEXT", "xq-ctx")
    assert main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["engine"]["reachable"] is True, report
    assert report["engine"]["endpoint"] == f"{host} (context xq-ctx)", report
    assert report["engine"]["server_version"] == docker_client.version()["Version"]
    monkeypatch.setenv("DOCKER_CONTEXT", "xq-gone")
    assert main(["doctor", "--json"]) != 0
    report = json.loads(capsys.readouterr().out)
    assert report["engine"]["reachable"] is False
    assert "No docker context 'xq-gone' (DOCKER_CONTEXT names it)" in report["engine"]["error"], report


def test_serve_over_stdio_writes_only_protocol_to_stdout(docker_client: docker.DockerClient) -> None:
    """A raw JSON-RPC exchange: every stdout line is JSON-RPC, logs go to stderr; EOF stops cleanly."""
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    lines = [
        json.dumps(init),
        json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 3,
                "method": "tools/call",
                "params": {"name": "docker_list_containers", "arguments": {}},
            }
        ),
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcp_docker", "--log-level", "DEBUG"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin and proc.stdout
    replies = []
    for line in lines:
        proc.stdin.write(line + "\n")
        proc.stdin.flush()
        if '"id"' in line:
            replies.append(json.loads(proc.stdout.readline()))
    proc.stdin.close()  # end of stdin: the server stops by itself, cleanly
    rest = proc.stdout.read()
    stderr = proc.stderr.read() if proc.stderr else ""
    proc.wait(timeout=30)
    assert proc.returncode == 0, stderr
    assert rest == ""
    assert "Traceback" not in stderr
    assert all(r.get("jsonrpc") == "2.0" for r in replies)
    by_id = {r["id"]: r for r in replies}
    assert by_id[1]["result"]["serverInfo"]["name"] == "mcp-docker"
    assert len(by_id[2]["result"]["tools"]) >= 10
    assert by_id[3]["result"]["isError"] is False
    assert "DEBUG" in stderr or "serving" in stderr
