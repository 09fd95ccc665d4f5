"""The project's release files say what the issue asks and do not drift from the code."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def read(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def test_readme_sections_and_quick_start() -> None:
    readme = read("README.md")
    for heading in (
        "## Features",
        "## Quick start",
        "## Install",
        "## Add it to your MCP client",
        "## Settings",
        "## Tools",
        "## Development",
        "## Requirements",
        "## License",
    ):
        assert heading in readme, heading
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "uv run mcp-docker" in quick and "uv run pytest --cov" in quick
    for install in ("uvx mcp-docker", "uv tool install mcp-docker", "pip install mcp-docker", "uv sync"):
        assert install in readme, install
    assert "claude mcp add docker -- uvx mcp-docker" in readme


@pytest.mark.parametrize("doc", ["README.md", "docs/SETUP.md"])
def test_json_examples_are_valid_client_configs(doc: str) -> None:
    blocks = re.findall(r"```json\n(.*?)```", read(doc), flags=re.S)
    assert blocks
    for block in blocks:
        config = json.loads(block)
        server = (config.get("mcpServers") or config["servers"])["docker"]  # VS Code says "servers"
        assert server["command"] and isinstance(server["args"], list)


@pytest.mark.parametrize("doc", ["README.md", "docs/SETUP.md", "docs/ARCHITECTURE.md", "RELEASE_CHECKLIST.md"])
def test_relative_links_exist(doc: str) -> None:
    base = (ROOT / doc).parent
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", read(doc)):
        assert (base / target).exists(), f"{doc} links to a missing {target}"


def test_changelog_keeps_a_changelog() -> None:
    changelog = read("CHANGELOG.md")
    assert "keepachangelog.com" in changelog
    assert "## [Unreleased]" in changelog
    version = tomllib.loads(read("pyproject.toml"))["project"]["version"]
    assert f"## [{version}]" in changelog


def test_license_is_mit() -> None:
    assert read("LICENSE").startswith("MIT License")
    assert tomllib.loads(read("pyproject.toml"))["project"]["license"] == "MIT"


def test_ci_workflow_runs_the_ci_script_on_both_pythons() -> None:
    ci = read(".github/workflows/ci.yml")
    assert "bash .ci/run" in ci
    assert '["3.11", "3.12"]' in ci
    assert "uv run python scripts/build_release.py" in ci  # builds the package and the image
    assert "debootstrap" in read(".ci/run")


def test_release_workflow_publishes_with_trusted_publishing() -> None:
    release = read(".github/workflows/release.yml")
    assert 'tags: ["v*.*.*"]' in release
    assert "id-token: write" in release and "pypa/gh-action-pypi-publish" in release
    assert "gh release create" in release
    # The artifacts come from the one release command CI runs and tests (test_release_build.py).
    assert "uv run python scripts/build_release.py" in release
    assert "packages-dir: pypi/" in release  # PyPI gets the wheel and sdist only
    assert "docker push" in release
    assert "mcp-publisher publish" in release


def test_dockerfile_is_multi_stage_non_root_with_healthcheck() -> None:
    dockerfile = read("Dockerfile")
    assert "ARG BASE_IMAGE=" in dockerfile
    assert "FROM ${BASE_IMAGE} AS builder" in dockerfile and "FROM ${BASE_IMAGE} AS runtime" in dockerfile
    assert "--no-index --find-links /wheels" in dockerfile
    assert "USER mcpuser" in dockerfile
    assert "HEALTHCHECK" in dockerfile
    assert "--group-add" in dockerfile  # how mcpuser reaches the socket is documented where it matters
    assert ".docker-wheels" in read(".gitignore")
