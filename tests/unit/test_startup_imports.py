"""Start-up stays light: building the server imports neither docker-py nor its transports.

docker-py pulls in requests, urllib3 and paramiko (its ssh transport), about 0.5 s on a loaded
2-core machine; it is imported on the first engine call (the start-up benchmark,
tests/performance/startup_bench.py, measures the rest). A module-level `import docker` anywhere on
the start-up path (tools, apps, resources, safety) fails this test.
"""

from __future__ import annotations

import os
import subprocess
import sys

HEAVY = ("docker", "paramiko", "requests", "urllib3")
PROGRAM = f"""
import sys
from mcp_docker.config import Settings
from mcp_docker.server import create_server
create_server(Settings())
loaded = [m for m in {HEAVY!r} if m in sys.modules]
assert not loaded, f"imported at start-up: {{loaded}}"
"""


def test_building_the_server_imports_no_engine_library() -> None:
    env = {**os.environ, "MCP_DOCKER_LOG_LEVEL": "WARNING"}
    every = "containers,images,networks,volumes,system,compose,files,swarm"
    for toolsets in ("", every):  # the default toolsets, and every toolset
        run_env = {**env, "MCP_DOCKER_TOOLSETS": toolsets} if toolsets else env
        done = subprocess.run([sys.executable, "-c", PROGRAM], env=run_env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
