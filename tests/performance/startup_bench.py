"""Start-up of the server against the bare MCP SDK, measured in the same run:

    uv run python -m tests.performance.startup_bench [--runs N]

- `own_startup_ms`: in one fresh process, the time from after `import mcp.server` to a built server
  (settings, tool modules, every registration with its schemas): what this project adds;
- `sdk_import_ms`: `import mcp.server` alone, in the same processes;
- `cold_start_ms`: spawn -> initialize -> tools/list answered over stdio;
- `first_call_ms` / `second_call_ms`: the first docker_list_containers after tools/list, and the next
  (laziness must not move more cost into the first call than it saves at start);
- `rss_bare_sdk_mb` (a process that imported mcp.server) against `rss_after_start_mb` (the server
  after tools/list).

Bytecode is written and used (PYTHONDONTWRITEBYTECODE is cleared for these processes and one
unmeasured run compiles everything first), as in any installed copy.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.performance.bench import StdioServer

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
OWN = """
import time, json, sys
t0 = time.perf_counter()
import mcp.server
t1 = time.perf_counter()
from mcp_docker.config import Settings
from mcp_docker.server import create_server
create_server(Settings())
t2 = time.perf_counter()
print(json.dumps({"sdk": (t1 - t0) * 1000, "own": (t2 - t1) * 1000}))
"""
BARE = "import mcp.server, sys; print('ready', flush=True); sys.stdin.readline()"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def own_startup() -> dict[str, float]:
    env = {**ENV, "MCP_DOCKER_LOG_LEVEL": "WARNING"}
    out = subprocess.run([sys.executable, "-c", OWN], env=env, capture_output=True, text=True, check=True)
    data: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return data


def bare_rss() -> float:
    proc = subprocess.Popen(
        [sys.executable, "-c", BARE], env=ENV, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout and proc.stdin
    proc.stdout.readline()
    rss = rss_mb(proc.pid)
    proc.stdin.write("\n")
    proc.stdin.close()
    proc.wait(30)
    return rss


def served(env: dict[str, str]) -> dict[str, float]:
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # StdioServer passes os.environ on
    server = StdioServer(env)
    server.initialize()
    server.request("tools/list")
    cold = (time.perf_counter() - server.started) * 1000
    rss = server.rss_mb()
    start = time.perf_counter()
    server.call("docker_list_containers", {})
    first = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    server.call("docker_list_containers", {})
    second = (time.perf_counter() - start) * 1000
    server.close()
    return {"cold": cold, "rss": rss, "first": first, "second": second}


def startup(runs: int) -> dict[str, Any]:
    own_startup()  # compile and cache bytecode once, unmeasured
    served({})
    owns = [own_startup() for _ in range(runs)]
    serves = [served({}) for _ in range(runs)]
    bare = [bare_rss() for _ in range(runs)]

    def med(values: list[float]) -> float:
        return round(statistics.median(values), 1)

    return {
        "runs": runs,
        "sdk_import_ms": med([o["sdk"] for o in owns]),
        "own_startup_ms": med([o["own"] for o in owns]),
        "cold_start_ms": med([s["cold"] for s in serves]),
        "first_call_ms": med([s["first"] for s in serves]),
        "second_call_ms": med([s["second"] for s in serves]),
        "rss_bare_sdk_mb": med(bare),
        "rss_after_start_mb": med([s["rss"] for s in serves]),
        "rss_over_bare_mb": round(med([s["rss"] for s in serves]) - med(bare), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(json.dumps(startup(args.runs), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
