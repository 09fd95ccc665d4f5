"""Benchmarks on the real engine, run on demand (not part of the default test run).

    uv run python -m tests.performance.bench [--quick] [--json out.json]

Measures, each as a median over repeated runs: start-up against the bare SDK
(startup_bench.py); per-call latency over stdio against the same operation called directly with
docker-py (the difference is the server's overhead); 50 and 200 concurrent calls on one session;
RSS growth over many calls; time to the first progress notification of a pull and a build (when
those tools exist). Results are printed as a table and optionally written as JSON;
docs/PERFORMANCE.md records them. The HTTP transport under load: load_bench.py.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker

from tests import engine as test_engine

INIT = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}},
}


class StdioServer:
    """The real server as a subprocess, spoken to with raw JSON-RPC lines (no client overhead)."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        full_env = {
            **os.environ,
            "MCP_DOCKER_LOG_LEVEL": "WARNING",
            "MCP_DOCKER_DESTRUCTIVE": "allow",
            "MCP_DOCKER_ALLOWED_BUILD_ROOTS": tempfile.gettempdir(),
            **(env or {}),
        }
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mcp_docker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
            env=full_env,
        )
        self.next_id = 1

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def read(self) -> dict[str, Any]:
        assert self.proc.stdout
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("server closed stdout")
            msg: dict[str, Any] = json.loads(line)
            if "id" in msg:
                return msg

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.send(self.message(method, params))
        return self.read()

    def message(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        msg = {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params or {}}
        self.next_id += 1
        return msg

    def initialize(self) -> None:
        self.send(INIT)
        self.read()
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def call(self, tool: str, args: dict[str, Any]) -> dict[str, Any]:
        reply = self.request("tools/call", {"name": tool, "arguments": args})
        if reply.get("result", {}).get("isError"):
            raise RuntimeError(f"{tool} failed: {reply}")
        return reply

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


def median_ms(fn: Callable[[], Any], runs: int) -> float:
    fn()  # warm up
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(samples), 3)


def latency(client: docker.DockerClient, runs: int, image: str) -> list[dict[str, Any]]:
    api = client.api
    rows: list[dict[str, Any]] = []
    server = StdioServer()
    server.initialize()
    probe = client.containers.run(
        image,
        ["sh", "-c", "for i in $(seq 1 200); do echo log line $i; done; sleep 3600"],
        detach=True,
        name=f"{test_engine.PREFIX}bench-probe",
        labels={test_engine.TEST_LABEL: test_engine.TEST_LABEL_VALUE},
    )
    try:
        cases: list[tuple[str, str, dict[str, Any], Callable[[], Any]]] = [
            (
                "list containers (1 running)",
                "docker_list_containers",
                {},
                lambda: api.containers(),
            ),
            (
                "inspect container",
                "docker_inspect_container",
                {"container": probe.name},
                lambda: api.inspect_container(probe.name),
            ),
            (
                "logs tail 100",
                "docker_container_logs",
                {"container": probe.name},
                lambda: api.logs(probe.name, tail=100),
            ),
            (
                "stats (one sample)",
                "docker_container_stats",
                {"container": probe.name},
                lambda: api.stats(probe.name, stream=False),
            ),
        ]
        extra = []
        for i in range(20):
            extra.append(
                client.containers.run(
                    image,
                    ["sleep", "3600"],
                    detach=True,
                    name=f"{test_engine.PREFIX}bench-{i}",
                    labels={test_engine.TEST_LABEL: test_engine.TEST_LABEL_VALUE},
                )
            )
        cases.insert(1, ("list containers (21 running)", "docker_list_containers", {}, lambda: api.containers()))
        for label, tool, args, direct in cases:
            n = max(3, runs // 10) if "stats" in label else runs
            via_server = median_ms(lambda tool=tool, args=args: server.call(tool, args), n)
            via_docker_py = median_ms(direct, n)
            rows.append(
                {
                    "operation": label,
                    "server_ms": via_server,
                    "docker_py_ms": via_docker_py,
                    "overhead_ms": round(via_server - via_docker_py, 3),
                }
            )
        for c in extra:
            c.remove(force=True)
    finally:
        probe.remove(force=True)
        server.close()
    return rows


def concurrency(counts: tuple[int, ...]) -> dict[str, float]:
    server = StdioServer()
    server.initialize()
    out: dict[str, float] = {}
    single = median_ms(lambda: server.call("docker_list_containers", {}), 20)
    out["single_list_ms"] = single
    for n in counts:
        samples = []
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(n):
                server.send(server.message("tools/call", {"name": "docker_list_containers", "arguments": {}}))
            for _ in range(n):
                reply = server.read()
                assert not reply["result"]["isError"], reply
            samples.append((time.perf_counter() - start) * 1000)
        total = statistics.median(samples)
        out[f"concurrent_{n}_ms"] = round(total, 1)
        out[f"concurrent_{n}_x_single"] = round(total / single, 1)
    server.close()
    return out


def memory_growth(calls: int) -> dict[str, float]:
    server = StdioServer()
    server.initialize()
    for _ in range(200):  # warm caches, pools, lazy imports
        server.call("docker_list_containers", {})
    before = server.rss_mb()
    batch = 100
    for _ in range(calls // batch):
        for _ in range(batch):
            server.send(server.message("tools/call", {"name": "docker_list_containers", "arguments": {}}))
        for _ in range(batch):
            server.read()
    after = server.rss_mb()
    server.close()
    return {
        "calls": calls,
        "rss_before_mb": round(before, 1),
        "rss_after_mb": round(after, 1),
        "growth_mb": round(after - before, 1),
    }


def _first_progress_ms(tool: str, args: dict[str, Any]) -> float | None:
    server = StdioServer()
    server.initialize()
    msg = server.message("tools/call", {"name": tool, "arguments": args, "_meta": {"progressToken": 1}})
    start = time.perf_counter()
    server.send(msg)
    first = None
    assert server.proc.stdout
    while True:
        line = json.loads(server.proc.stdout.readline())
        if line.get("method") == "notifications/progress" and first is None:
            first = (time.perf_counter() - start) * 1000
        if line.get("id") == msg["id"]:
            assert not line["result"]["isError"], line
            break
    server.close()
    return first


def first_progress(client: docker.DockerClient, image: str, runs: int) -> dict[str, float]:
    """Time from sending a build / pull call to its first progress notification, over stdio.

    The build runs a step (nocache); the pulled image has a layer of its own (made by that build and
    pushed to a local registry), removed locally before each pull so that bytes really move."""
    import tempfile

    from tests.registry import start_registry

    built = f"{test_engine.PREFIX}bench-built:1"
    registry = start_registry()
    remote = f"{registry.host}/{test_engine.PREFIX}bench:1"
    builds: list[float] = []
    pulls: list[float] = []
    try:
        with tempfile.TemporaryDirectory() as context:
            Path(context, "Dockerfile").write_text(f'FROM {image}\nRUN seq 1 200000 > /numbers\nCMD ["true"]\n')
            for _ in range(runs):
                ms = _first_progress_ms("docker_build_image", {"path": context, "tag": built, "nocache": True})
                if ms is not None:
                    builds.append(ms)
        client.api.tag(built, remote)
        client.images.push(remote)
        for _ in range(runs):
            for ref in (remote, built):
                with contextlib.suppress(docker.errors.NotFound):
                    client.api.remove_image(ref, force=True)
            ms = _first_progress_ms("docker_pull_image", {"image": remote})
            if ms is not None:
                pulls.append(ms)
    finally:
        registry.stop()
    return {
        "build_first_progress_ms": round(statistics.median(builds), 1) if builds else float("nan"),
        "pull_first_progress_ms": round(statistics.median(pulls), 1) if pulls else float("nan"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    runs = 10 if args.quick else 50
    handle = test_engine.ensure_engine()
    client = handle.client
    image = test_engine.ensure_test_image(client)
    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "engine": client.version().get("Version"),
        },
    }
    try:
        from tests.performance.startup_bench import startup

        results["startup"] = startup(5 if args.quick else 15)
        results["latency"] = latency(client, runs, image)
        results["concurrency"] = concurrency((50, 200))
        results["memory"] = memory_growth(1000 if args.quick else 10_000)
        results["progress"] = first_progress(client, image, 3 if args.quick else 5)
    finally:
        test_engine.cleanup(client)
        handle.stop()
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
