"""The HTTP transport at full size, run on demand (not part of the default test run):

    uv run python -m tests.performance.load_bench [--quick] [--json out.json] [--only mixed sessions ...]

1. 50 clients for 120 s in each protocol era (legacy sessions, modern stateless), a mix of list /
   inspect / logs / stats calls and create+start+remove cycles (MCP_DOCKER_DESTRUCTIVE=allow);
2. 10,000 legacy sessions opened and abandoned, then the server's RSS once they have expired
   (a short idle expiry for the run), and again after a second round of 10,000;
3. 10,000 stateless (2026-07-28) requests;
4. a private engine stopped for 10 s in the middle of a 50-client run, in each era;
5. a slow engine (a delaying proxy): deadlines, cancellations and the concurrency bound.

Loopback only; every scenario is bounded in count and time; objects created are removed and those
left over are counted first (must be 0). docs/PERFORMANCE.md records the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio

from tests import engine as test_engine
from tests.performance import http_faults, http_load
from tests.private_engine import PrivateEngine


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


async def mixed(client: Any, image: str, clients: int, seconds: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for era in (http_load.LEGACY, http_load.MODERN):
        # Each run makes its own targets (and the test image again if it went): neighbouring test
        # sessions on the shared engine may clean up by a shorter prefix.
        test_engine.ensure_test_image(client)
        targets = http_load.load_targets(client, image, count=4)
        try:
            log(f"mixed load {era}: {clients} clients, {seconds:g} s")
            with http_load.http_server() as server:
                results = await http_load.mixed_load(
                    server.url, era, [t.name for t in targets], image, clients=clients, seconds=seconds
                )
                out[era] = {
                    **results.summary(),
                    "server_up": server.alive(),
                    "resources": http_load.resource_summary(server),
                    "left_on_engine": len(http_load.leftovers(client)),
                }
            log(json.dumps(out[era]))
        finally:
            http_load.remove(client, targets)
    return out


async def sessions(count: int, idle: float, max_sessions: int | None) -> dict[str, Any]:
    """`count` sessions opened and abandoned under a session limit (None: the default), then the RSS
    once the idle expiry has passed."""
    limit = {} if max_sessions is None else {"http_max_sessions": str(max_sessions)}
    log(f"{count} abandoned sessions, idle expiry {idle:g} s, limit {max_sessions or 'default'}")
    with http_load.http_server(http_session_idle_timeout=f"{idle:g}", **limit) as server:
        for _ in range(20):  # warm up: first requests import and cache what they need
            await http_load.abandoned_sessions(server.url, 1, parallel=1)
        await anyio.sleep(idle + 2)
        start_mb = server.sample().rss_mb
        since = time.monotonic()
        opened = await http_load.abandoned_sessions(server.url, count, parallel=20)
        peak = server.sample().rss_mb
        await anyio.sleep(idle + 5)
        with anyio.move_on_after(60):  # until a new session is admitted again
            while (await http_load.abandoned_sessions(server.url, 1, parallel=1)).summary()["errors"]:
                await anyio.sleep(1)
        end_mb = await http_load.wait_for_memory(server, start_mb + 10, seconds=30)
        # The same again: what the first round freed is used again (no leak) or the RSS grows.
        await http_load.abandoned_sessions(server.url, count, parallel=20)
        await anyio.sleep(idle + 5)
        with anyio.move_on_after(60):
            while (await http_load.abandoned_sessions(server.url, 1, parallel=1)).summary()["errors"]:
                await anyio.sleep(1)
        second_mb = server.sample().rss_mb
        out = {
            **opened.summary(),
            "max_sessions": max_sessions or "default",
            "rss_before_mb": start_mb,
            "rss_after_opening_mb": peak,
            "rss_after_expiry_mb": end_mb,
            "returned_within_10_mb": end_mb <= start_mb + 10,
            "rss_after_a_second_round_mb": second_mb,
            "server_up": server.alive(),
            "resources": http_load.resource_summary(server, since),
        }
    log(json.dumps(out))
    return out


async def stateless(count: int) -> dict[str, Any]:
    log(f"{count} stateless requests")
    with http_load.http_server() as server:
        results = await http_load.stateless_requests(server.url, count, parallel=20)
        out = {**results.summary(), "server_up": server.alive(), "resources": http_load.resource_summary(server)}
    log(json.dumps(out))
    return out


async def faults(shared: Any, image: str, clients: int, seconds: float, quick: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    eng = PrivateEngine(storage_driver="vfs")
    try:
        private = eng.start()
        test_engine.ensure_test_image(private)
        targets = http_load.load_targets(private, test_engine.TEST_IMAGE, count=4)
        try:
            for era in (http_load.LEGACY, http_load.MODERN):
                log(f"engine outage {era}")
                out[f"outage {era}"] = await http_faults.engine_outage(
                    eng,
                    [t.name for t in targets],
                    test_engine.TEST_IMAGE,
                    era,
                    clients=clients,
                    seconds=seconds,
                    stop_after=seconds / 3,
                    down_for=3 if quick else 10,
                )
                log(json.dumps(out[f"outage {era}"]))
        finally:
            http_load.remove(eng.start(), targets)
            out["outage_left_on_engine"] = len(http_load.leftovers(eng.client))
    finally:
        eng.destroy()
    test_engine.ensure_test_image(shared)
    targets = http_load.load_targets(shared, image, count=4)
    socket_path = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock").removeprefix("unix://")
    try:
        with tempfile.TemporaryDirectory(prefix=test_engine.PREFIX, dir="/tmp") as tmp:
            for era in (http_load.LEGACY, http_load.MODERN):
                log(f"slow engine {era}")
                out[f"slow {era}"] = await http_faults.slow_engine(
                    Path(tmp), socket_path, [t.name for t in targets], image, era, clients=clients, seconds=seconds / 2
                )
                log(json.dumps(out[f"slow {era}"]))
    finally:
        http_load.remove(shared, targets)
    return out


SCENARIOS = ("mixed", "sessions", "stateless", "faults")


async def run(quick: bool, only: tuple[str, ...] = SCENARIOS) -> dict[str, Any]:
    handle = test_engine.ensure_engine()
    client = handle.client
    image = test_engine.ensure_test_image(client)
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "engine": client.version().get("Version"),
        },
    }
    clients, seconds = (10, 20.0) if quick else (50, 120.0)
    count = 500 if quick else 10_000
    try:
        if "mixed" in only:
            results["mixed"] = await mixed(client, image, clients, seconds)
        if "sessions" in only:
            idle = 5 if quick else 20
            results["sessions_default_limit"] = await sessions(count, idle=idle, max_sessions=None)
            results["sessions_all_admitted"] = await sessions(count, idle=idle, max_sessions=count + 100)
        if "stateless" in only:
            results["stateless"] = await stateless(count)
        if "faults" in only:
            results["faults"] = await faults(client, image, clients, 30 if quick else 60, quick)
    finally:
        results["left_on_engine"] = len(http_load.leftovers(client))
        test_engine.cleanup(client)
        handle.stop()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, default=list(SCENARIOS), help="these scenarios")
    args = parser.parse_args()
    results = anyio.run(run, args.quick, tuple(args.only))
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
