"""The package's version literal matches pyproject.toml (the one place a release changes it)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import mcp_docker


def test_version_matches_pyproject() -> None:
    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]
    assert mcp_docker.__version__ == project["version"]
