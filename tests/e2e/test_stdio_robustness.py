"""Raw JSON-RPC over stdio: malformed input gets protocol errors and the server stays up; the server
stops cleanly at end of input, on SIGTERM and on SIGINT."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
from typing import Any

import pytest

LEGACY = "2025-11-25"


def start_server() -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCP_DOCKER_")}
    env["MCP_DOCKER_LOG_LEVEL"] = "WARNING"
    return subprocess.Popen(
        [sys.executable, "-m", "mcp_docker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


class Wire:
    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc

    def send(self, message: Any) -> None:
        assert self.proc.stdin is not None
        line = message if isinstance(message, str) else json.dumps(message)
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def receive(self, timeout: float = 30) -> dict[str, Any]:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        assert ready, "no reply from the server"
        line = self.proc.stdout.readline()
        assert line, f"server closed stdout; stderr: {self.proc.stderr.read() if self.proc.stderr else ''}"
        reply: dict[str, Any] = json.loads(line)
        return reply

    def initialize(self) -> None:
        self.send(
            {
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {
                    "protocolVersion": LEGACY,
                    "capabilities": {},
                    "clientInfo": {"name": "raw", "version": "0"},
                },
            }
        )
        assert self.receive()["result"]["serverInfo"]["name"] == "mcp-docker"
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})


def test_malformed_jsonrpc_over_stdio_gets_protocol_errors_and_server_stays_up() -> None:
    proc = start_server()
    wire = Wire(proc)
    try:
        wire.send("{this is not json")
        parse = wire.receive()
        assert parse["id"] is None and parse["error"]["code"] == -32700

        wire.initialize()

        wire.send([1, 2, 3])
        assert wire.receive()["error"]["code"] == -32600

        wire.send({"jsonrpc": "2.0", "id": 1, "method": "no/such/method"})
        unknown = wire.receive()
        assert unknown["id"] == 1 and unknown["error"]["code"] == -32601

        wire.send({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": 5, "arguments": []}})
        wrong = wire.receive()
        assert wrong["id"] == 2 and wrong["error"]["code"] == -32602

        wire.send(
            {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "docker_nope", "arguments": {}}}
        )
        nope = wire.receive()
        assert nope["id"] == 3 and nope["result"]["isError"] is True
        assert "docker_nope" in nope["result"]["content"][0]["text"]

        wire.send({"jsonrpc": "2.0", "id": 4, "method": "tools/list"})
        listed = wire.receive()
        assert listed["id"] == 4
        assert "docker_list_containers" in {t["name"] for t in listed["result"]["tools"]}

        assert proc.stdin is not None
        proc.stdin.close()  # end of input: the server stops by itself
        assert proc.wait(timeout=30) == 0
        assert proc.stderr is not None
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_stdio_server_stops_cleanly_on_signal(signum: int) -> None:
    proc = start_server()
    wire = Wire(proc)
    try:
        wire.initialize()
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
