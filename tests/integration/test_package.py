"""`uv build` makes a wheel that installs into a fresh virtual environment and runs `mcp-docker`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

import docker
import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv")
    assert found, "uv is needed to build the package (`pip install uv`)"
    return found


def run(*args: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the wheel, the `mcp-docker` script of a fresh venv where only that wheel was installed)."""
    work = tmp_path_factory.mktemp("package")
    run(uv(), "build", "--out-dir", work / "dist", cwd=ROOT)
    wheels = sorted((work / "dist").glob("*.whl"))
    assert len(wheels) == 1, wheels
    assert len(sorted((work / "dist").glob("*.tar.gz"))) == 1
    venv = work / "venv"
    run(uv(), "venv", "--quiet", "--python", sys.executable, venv)
    run(uv(), "pip", "install", "--quiet", "--python", venv / "bin" / "python", wheels[0])
    return wheels[0], venv / "bin" / "mcp-docker"


def test_wheel_installs_and_runs(installed: tuple[Path, Path]) -> None:
    _, script = installed
    done = run(script, "--version")
    assert done.stdout.strip() == f"mcp-docker {PROJECT['version']}"
    # The installed package is the wheel's, not this checkout's source.
    where = run(script.parent / "python", "-c", "import mcp_docker; print(mcp_docker.__file__)", cwd="/")
    assert "site-packages" in where.stdout


def test_wheel_metadata_for_pypi(installed: tuple[Path, Path]) -> None:
    wheel, _ = installed
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(zf.read(meta_name).decode())
        entry_points = zf.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert "mcp_docker/py.typed" in names
    assert "mcp-docker = mcp_docker.__main__:main" in entry_points
    assert meta["Name"] == "mcp-docker"
    assert meta["License-Expression"] == "MIT"
    assert meta["Requires-Python"] == ">=3.11"
    assert meta["Description-Content-Type"] == "text/markdown"
    assert "## Quick start" in (meta.get_payload() or "")
    urls = {u.split(",")[0].strip() for u in meta.get_all("Project-URL") or []}
    assert {"Homepage", "Documentation", "Repository", "Issues", "Changelog"} <= urls
    classifiers = set(meta.get_all("Classifier") or [])
    assert {"Programming Language :: Python :: 3.11", "Programming Language :: Python :: 3.12"} <= classifiers


@pytest.mark.engine
def test_installed_server_reaches_the_engine(installed: tuple[Path, Path], docker_client: docker.DockerClient) -> None:
    _, script = installed
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCP_DOCKER_")}
    report = json.loads(run(script, "doctor", "--json", env=env).stdout)
    assert report["engine"]["reachable"] is True
    assert report["engine"]["server_version"] == docker_client.version()["Version"]
