"""The release command builds what a tag publishes, and the bundle runs the way Claude Desktop runs it.

`scripts/build_release.py --no-image` (the command .github/workflows/release.yml runs, without the
image) writes the wheel, the sdist, the `.mcpb` and server.json; each is checked here. The image is
left out on purpose: test_container_image.py already builds it from the same Dockerfile and
prepare_wheels.sh the release command uses, and serves MCP from it; building it twice per run would
double the slowest step of CI for no new check.

The bundle test unpacks the `.mcpb`, fills in the manifest's `user_config` as a user would,
substitutes `${__dirname}` and `${user_config.KEY}` the way the MCPB spec says (booleans as
"true"/"false"), starts the server with the manifest's command, args and env (uv installs the
bundled lock file's dependencies), and works on the real engine through an MCP client over stdio.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import jsonschema
import pytest
from mcp import Client, StdioServerParameters

from mcp_docker.tools import all_tools
from tests.conftest import error_text, structured

ROOT = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
MANIFEST = json.loads((ROOT / "packaging" / "mcpb" / "manifest.json").read_text())
SCHEMA = json.loads((ROOT / "schemas" / "mcp-registry-server-2025-12-11.schema.json").read_text())


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("release") / "dist"
    done = subprocess.run(
        [sys.executable, "scripts/build_release.py", "--no-image", "--out-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert done.returncode == 0, f"build_release.py failed:\n{done.stdout}\n{done.stderr}"
    return out


def test_release_command_writes_the_artifacts(dist: Path) -> None:
    assert sorted(p.name for p in dist.iterdir() if not p.name.startswith(".")) == sorted(
        [
            f"mcp_docker-{VERSION}-py3-none-any.whl",
            f"mcp_docker-{VERSION}.tar.gz",
            f"mcp-docker-{VERSION}.mcpb",
            "server.json",
        ]
    )


def test_wheel_and_sdist(dist: Path) -> None:
    with zipfile.ZipFile(dist / f"mcp_docker-{VERSION}-py3-none-any.whl") as wheel:
        names = wheel.namelist()
        metadata = wheel.read(f"mcp_docker-{VERSION}.dist-info/METADATA").decode()
    assert "mcp_docker/__main__.py" in names
    assert f"\nVersion: {VERSION}\n" in metadata
    with tarfile.open(dist / f"mcp_docker-{VERSION}.tar.gz") as sdist:
        members = sdist.getnames()
    assert f"mcp_docker-{VERSION}/pyproject.toml" in members
    assert f"mcp_docker-{VERSION}/src/mcp_docker/__init__.py" in members


def test_bundle_holds_the_project_and_its_manifest(dist: Path) -> None:
    with zipfile.ZipFile(dist / f"mcp-docker-{VERSION}.mcpb") as bundle:
        names = set(bundle.namelist())
        manifest = json.loads(bundle.read("manifest.json"))
        lock = bundle.read("uv.lock").decode()
    assert manifest == MANIFEST
    assert {
        "manifest.json",
        "pyproject.toml",
        "uv.lock",
        "README.md",
        "LICENSE",
        manifest["server"]["entry_point"],
    } <= names
    assert lock == (ROOT / "uv.lock").read_text()
    # A `uv` bundle carries no installed dependencies and nothing of the build machine's.
    assert not [n for n in names if re.match(r"(\.venv|server/lib|server/venv|node_modules)/", n) or "__pycache__" in n]


def test_server_json_of_the_release(dist: Path) -> None:
    data = json.loads((dist / "server.json").read_text())
    jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER).validate(data)
    committed = json.loads((ROOT / "server.json").read_text())
    assert data["packages"][: len(committed["packages"])] == committed["packages"]
    (bundle_entry,) = [p for p in data["packages"] if p["registryType"] == "mcpb"]
    bundle = dist / f"mcp-docker-{VERSION}.mcpb"
    assert bundle_entry["fileSha256"] == hashlib.sha256(bundle.read_bytes()).hexdigest()
    assert bundle_entry["identifier"].endswith(f"/v{VERSION}/{bundle.name}")
    assert bundle_entry["version"] == data["version"] == VERSION


# --- the bundle, started as the manifest says -------------------------------------------------------


def substitute(value: Any, variables: dict[str, Any]) -> Any:
    """MCPB's variable substitution: `${NAME}` in strings; an arg that is exactly `${user_config.X}` with a
    list value expands into several args."""
    if isinstance(value, str):
        return re.sub(r"\$\{([^}]+)\}", lambda m: str(variables.get(m[1], m[0])), value)
    if isinstance(value, list):
        out: list[Any] = []
        for item in value:
            whole = re.fullmatch(r"\$\{(user_config\.[^}]+)\}", item) if isinstance(item, str) else None
            if whole and isinstance(variables.get(whole[1]), list):
                out.extend(variables[whole[1]])
            else:
                out.append(substitute(item, variables))
        return out
    if isinstance(value, dict):
        return {k: substitute(v, variables) for k, v in value.items()}
    return value


def server_params(unpacked: Path, user_values: dict[str, Any]) -> StdioServerParameters:
    """What Claude Desktop would run for this bundle with these values in its settings form."""
    merged = {k: o["default"] for k, o in MANIFEST["user_config"].items() if "default" in o}
    merged.update(user_values)
    variables: dict[str, Any] = {"__dirname": str(unpacked), "HOME": str(Path.home()), "/": os.sep}
    variables["pathSeparator"] = os.sep
    for key, value in merged.items():
        variables[f"user_config.{key}"] = ("true" if value else "false") if isinstance(value, bool) else value
    config = substitute(MANIFEST["server"]["mcp_config"], variables)
    assert "${" not in json.dumps(config), config
    # The client's own environment, less anything that would configure the server behind the bundle's back.
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MCP_DOCKER_", "DOCKER_", "UV_PROJECT", "VIRTUAL_ENV")) and k != "PYTHONPATH"
    }
    command = shutil.which(config["command"])
    assert command, f"{config['command']} is needed to run a uv bundle"
    return StdioServerParameters(
        command=command, args=config["args"], env={**base, **config["env"]}, cwd=str(unpacked.parent)
    )


@pytest.fixture
def unpacked(dist: Path, tmp_path: Path) -> Path:
    target = tmp_path / "Claude Extensions" / "mcp-docker"
    with zipfile.ZipFile(dist / f"mcp-docker-{VERSION}.mcpb") as bundle:
        bundle.extractall(target)
    return target


def engine_endpoint() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def offered(toolsets: set[str], read_only: bool) -> set[str]:
    return {
        name
        for name, spec in all_tools().items()
        if spec.toolset in toolsets and (not read_only or str(spec.lowest_level()) == "safe")
    }


@pytest.mark.engine
@pytest.mark.anyio
async def test_bundle_serves_with_the_users_settings(
    unpacked: Path,
    tmp_path: Path,
    docker_client: docker.DockerClient,
    test_image: str,
    unique: Callable[[str], str],
) -> None:
    allowed = tmp_path / "projects"
    allowed.mkdir()
    (allowed / "hello.txt").write_text("from the host\n")
    params = server_params(
        unpacked,
        {
            "docker_host": engine_endpoint(),
            "destructive": "allow",
            "allowed_bind_roots": str(allowed),
            "toolsets": "containers,images,system",
        },
    )
    name = unique("bundle")
    async with Client(params) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        assert tools == offered({"containers", "images", "system"}, read_only=False)
        assert tools <= {t["name"] for t in MANIFEST["tools"]}
        info = structured(await client.call_tool("docker_version", {}))
        assert info["api_version"] == docker_client.version()["ApiVersion"]
        created = structured(
            await client.call_tool(
                "docker_create_container",
                {
                    "image": test_image,
                    "name": name,
                    "command": ["cat", "/x/hello.txt"],
                    "volumes": [f"{allowed}:/x:ro"],
                },
            )
        )
        refused = error_text(
            await client.call_tool(
                "docker_create_container",
                {"image": test_image, "name": unique("bundle"), "volumes": [f"{tmp_path}:/x"]},
            )
        )
    container = docker_client.containers.get(name)
    assert container.id.startswith(created["id"][:12])
    assert [m["Source"] for m in container.attrs["Mounts"]] == [str(allowed)]
    assert "MCP_DOCKER_ALLOWED_BIND_ROOTS" in refused


@pytest.mark.engine
@pytest.mark.anyio
async def test_bundle_read_only_mode_offers_read_only_tools(unpacked: Path, docker_client: docker.DockerClient) -> None:
    params = server_params(unpacked, {"docker_host": engine_endpoint(), "read_only": True})
    async with Client(params) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        listed = structured(await client.call_tool("docker_list_containers", {"all": True}))
    default_sets = set(MANIFEST["user_config"]["toolsets"]["default"].split(","))
    assert tools == offered(default_sets, read_only=True)
    assert "docker_remove_container" not in tools
    assert isinstance(listed["containers"], list)


def test_bundle_entry_point_runs_the_same_server(unpacked: Path) -> None:
    """A host may run the `uv` bundle's entry point itself (`uv run <entry_point>` in the bundle)."""
    params = server_params(unpacked, {})
    uv_run = [params.command, "run", "--directory", str(unpacked), "--frozen", "--no-dev", "--quiet"]
    done = subprocess.run(
        [*uv_run, MANIFEST["server"]["entry_point"], "--version"],
        env=params.env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"mcp-docker {VERSION}"
