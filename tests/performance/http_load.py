"""Load on the streamable HTTP transport: many clients, abandoned sessions, stateless bursts.

The server runs as a subprocess (`python -m mcp_docker --transport http`, a token, loopback only),
so its RSS and open file descriptors are read from /proc every second. Clients speak raw HTTP
JSON-RPC (httpx2), so the client library's cost stays small on a shared machine:

- legacy era: 2025-11-25 `initialize`, then calls on the `Mcp-Session-Id` session;
- modern era: 2026-07-28 stateless requests, protocol version header on each.

Every scenario is bounded in count and time, removes what it created and reports objects left on
the engine (created by the run's clients, found before clean-up; must be 0). Sizes are arguments:
the CI tests (tests/integration/test_http_load.py) run them small, `tests.performance.load_bench`
at full size.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import docker
import httpx2

from tests import engine as test_engine
from tests.performance.mcp_http_client import LEGACY, MODERN, TOKEN, McpHttp, client_http, error_kind
from tests.waiting import stop_process

__all__ = ["LEGACY", "MODERN", "TOKEN", "McpHttp", "client_http", "error_kind"]

LABELS = {test_engine.TEST_LABEL: test_engine.TEST_LABEL_VALUE}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# --- the server process and its samples ----------------------------------------------------------------


@dataclass
class Sample:
    t: float
    rss_mb: float
    fds: int


@dataclass
class ServerProcess:
    proc: subprocess.Popen[bytes]
    url: str
    base: str
    samples: list[Sample] = field(default_factory=list)

    def sample(self) -> Sample:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")) / 1024
        return Sample(time.monotonic(), round(rss, 1), len(os.listdir(f"/proc/{self.proc.pid}/fd")))

    def alive(self) -> bool:
        return self.proc.poll() is None


@contextmanager
def http_server(docker_host: str | None = None, **settings: str) -> Iterator[ServerProcess]:
    """The real server over HTTP on a free loopback port with a token; sampled every second."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCP_DOCKER_")}
    env.update(MCP_DOCKER_HTTP_TOKEN=TOKEN, MCP_DOCKER_DESTRUCTIVE="allow", MCP_DOCKER_LOG_LEVEL="WARNING")
    env.update({f"MCP_DOCKER_{k.upper()}": str(v) for k, v in settings.items()})
    if docker_host:
        env["DOCKER_HOST"] = docker_host
    log = open(f"/tmp/{test_engine.PREFIX}http-load-{port}.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcp_docker", "--transport", "http", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    server = ServerProcess(proc, f"http://127.0.0.1:{port}/mcp", f"http://127.0.0.1:{port}")
    stop = threading.Event()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx2.get(f"{server.base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                said = Path(log.name).read_bytes()[-4000:].decode("utf-8", "replace")
                raise RuntimeError(f"the HTTP server did not start; its stderr ended with:\n{said}")
            time.sleep(0.1)

        def sampler() -> None:
            while not stop.wait(1.0) and server.alive():
                try:
                    server.samples.append(server.sample())
                except (OSError, StopIteration):
                    return

        server.samples.append(server.sample())
        threading.Thread(target=sampler, name="load-sampler", daemon=True).start()
        yield server
    finally:
        stop.set()
        stop_process(proc)
        log.close()
        Path(log.name).unlink(missing_ok=True)  # a host file the run made: removed whatever happened


# --- results -----------------------------------------------------------------------------------------


@dataclass
class Call:
    op: str
    start: float
    seconds: float
    error: str | None  # None: success; else its kind


@dataclass
class Results:
    calls: list[Call] = field(default_factory=list)
    wall_seconds: float = 0.0

    def add(self, op: str, start: float, error: str | None) -> None:
        self.calls.append(Call(op, start, time.monotonic() - start, error))

    def summary(self) -> dict[str, Any]:
        times = sorted(c.seconds * 1000 for c in self.calls)

        def pct(p: float) -> float:
            return round(times[min(len(times) - 1, int(p * len(times)))], 1) if times else float("nan")

        ops = Counter(c.op for c in self.calls)
        return {
            "calls": len(self.calls),
            "seconds": round(self.wall_seconds, 1),
            "calls_per_s": round(len(self.calls) / self.wall_seconds, 1) if self.wall_seconds else 0.0,
            "p50_ms": pct(0.50),
            "p95_ms": pct(0.95),
            "p99_ms": pct(0.99),
            "max_ms": round(times[-1], 1) if times else float("nan"),
            "by_op": dict(ops),
            "errors": dict(Counter(c.error for c in self.calls if c.error)),
        }


def resource_summary(server: ServerProcess, since: float = 0.0) -> dict[str, Any]:
    samples = [s for s in server.samples if s.t >= since] or server.samples
    return {
        "rss_start_mb": samples[0].rss_mb,
        "rss_peak_mb": max(s.rss_mb for s in samples),
        "rss_end_mb": samples[-1].rss_mb,
        "fds_start": samples[0].fds,
        "fds_peak": max(s.fds for s in samples),
        "fds_end": samples[-1].fds,
        "samples": len(samples),
    }


# --- scenario: many clients making a mix of calls ----------------------------------------------------------


MIX = (("list", 40), ("inspect", 25), ("logs", 25), ("stats", 5), ("cycle", 5))


def pick(rng: random.Random) -> str:
    return rng.choices([m for m, _ in MIX], weights=[w for _, w in MIX])[0]


async def one_op(c: McpHttp, op: str, targets: list[str], rng: random.Random, results: Results, image: str) -> None:
    start = time.monotonic()
    target = rng.choice(targets)
    try:
        if op == "cycle":
            name = f"{test_engine.PREFIX}load-{uuid.uuid4().hex[:8]}"
            args = {"image": image, "name": name, "command": "sleep 300", "labels": LABELS, "network_mode": "none"}
            response = await c.call("docker_create_container", {**args, "start": True})
            kind = error_kind(response)
            removed = await c.call("docker_remove_container", {"container": name, "force": True})
            kind = kind or error_kind(removed)
        elif op == "list":
            kind = error_kind(await c.call("docker_list_containers", {"filters": {"name": test_engine.PREFIX}}))
        elif op == "inspect":
            kind = error_kind(await c.call("docker_inspect_container", {"container": target}))
        elif op == "logs":
            kind = error_kind(await c.call("docker_container_logs", {"container": target, "tail": 20}))
        else:
            kind = error_kind(await c.call("docker_container_stats", {"container": target}))
    except httpx2.TimeoutException:
        kind = "client timeout (hang)"
    except (httpx2.TransportError, ValueError) as exc:
        kind = f"transport {type(exc).__name__}"
    results.add(op, start, kind)


async def mixed_load(
    url: str,
    era: str,
    targets: list[str],
    image: str,
    clients: int = 50,
    seconds: float = 120.0,
    max_calls: int | None = None,
    call_timeout: float = 30.0,
    ops: tuple[str, ...] | None = None,
    seed: int = 7,
) -> Results:
    """`clients` clients calling until `seconds` pass (or `max_calls` calls were made)."""
    results = Results()
    stop_at = time.monotonic() + seconds
    made = 0

    async def client(i: int) -> None:
        nonlocal made
        rng = random.Random(seed * 1000 + i)
        async with client_http(call_timeout) as http:
            c = McpHttp(http, url, era)
            try:
                await c.open()
            except (httpx2.HTTPError, ValueError) as exc:
                results.add("open", time.monotonic(), f"open {type(exc).__name__}")
                return
            while time.monotonic() < stop_at and (max_calls is None or made < max_calls):
                made += 1
                op = rng.choice(ops) if ops else pick(rng)
                await one_op(c, op, targets, rng, results, image)
            with anyio.move_on_after(5):
                await c.close()

    began = time.monotonic()
    async with anyio.create_task_group() as tg:
        for i in range(clients):
            tg.start_soon(client, i)
    results.wall_seconds = time.monotonic() - began
    return results


# --- scenario: sessions opened and abandoned, stateless requests ---------------------------------------


async def abandoned_sessions(url: str, count: int, parallel: int = 20) -> Results:
    """`count` legacy sessions opened (initialize answered) and never closed."""
    results = Results()
    remaining = count

    async def worker() -> None:
        nonlocal remaining
        async with client_http(30) as http:
            while remaining > 0:
                remaining -= 1
                start = time.monotonic()
                try:
                    response = await McpHttp(http, url, LEGACY).initialize()
                    kind = None if response.status_code == 200 else f"http {response.status_code}"
                except httpx2.HTTPError as exc:
                    kind = f"transport {type(exc).__name__}"
                results.add("open session", start, kind)

    began = time.monotonic()
    async with anyio.create_task_group() as tg:
        for _ in range(parallel):
            tg.start_soon(worker)
    results.wall_seconds = time.monotonic() - began
    return results


async def stateless_requests(url: str, count: int, parallel: int = 20) -> Results:
    """`count` modern (2026-07-28) stateless tool calls, `parallel` at a time."""
    results = Results()
    remaining = count

    async def worker() -> None:
        nonlocal remaining
        async with client_http(30) as http:
            c = McpHttp(http, url, MODERN)
            while remaining > 0:
                remaining -= 1
                start = time.monotonic()
                try:
                    kind = error_kind(await c.call("docker_list_containers", {"filters": {"name": "mcpt-none"}}))
                except httpx2.HTTPError as exc:
                    kind = f"transport {type(exc).__name__}"
                results.add("stateless list", start, kind)

    began = time.monotonic()
    async with anyio.create_task_group() as tg:
        for _ in range(parallel):
            tg.start_soon(worker)
    results.wall_seconds = time.monotonic() - began
    return results


async def wait_for_memory(server: ServerProcess, target_mb: float, seconds: float) -> float:
    """Poll the server's RSS until it is at most `target_mb` or `seconds` pass; the last value."""
    with anyio.move_on_after(seconds):
        while server.sample().rss_mb > target_mb:
            await anyio.sleep(0.5)
    return server.sample().rss_mb


# --- engine objects ------------------------------------------------------------------------------------


def load_targets(client: docker.DockerClient, image: str, count: int = 4) -> list[Any]:
    """Running, labelled containers the load inspects and reads logs of."""
    return [
        client.containers.run(
            image,
            ["sh", "-c", "for i in $(seq 1 50); do echo line $i; done; sleep 3600"],
            detach=True,
            # Labelled (removed by label); the name does not start with the prefix, so a neighbouring
            # test session cleaning up by a shorter prefix (such as the default `mcpt-`) leaves it alone.
            name=f"load-target-{test_engine.PREFIX}{uuid.uuid4().hex[:6]}",
            labels=LABELS,
            network_mode="none",
            stop_signal="SIGKILL",  # a stopping engine does not wait 10 s for each
        )
        for _ in range(count)
    ]


def leftovers(client: docker.DockerClient) -> list[str]:
    """Containers a load client created (name prefix `<PREFIX>load-`, not the targets) still present."""
    found = client.containers.list(all=True, filters={"label": f"{test_engine.TEST_LABEL}={test_engine.PREFIX}"})
    return [c.name for c in found if c.name.startswith(f"{test_engine.PREFIX}load-") and "target" not in c.name]


def remove(client: docker.DockerClient, containers: list[Any]) -> None:
    for c in containers:
        with suppress(docker.errors.APIError):
            c.remove(force=True)
    for name in leftovers(client):
        with suppress(docker.errors.APIError):
            client.containers.get(name).remove(force=True)


def median(values: list[float]) -> float:
    return round(statistics.median(values), 1) if values else float("nan")
