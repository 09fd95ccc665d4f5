"""Every install snippet in the README's install section runs the real command with real flags.

The snippets are parsed out of README.md (JSON client configs, shell commands) and checked against
the code: the console script, the flags of `mcp_docker.__main__._parser`, the `MCP_DOCKER_*`
settings (and their values, through `config.Settings`), the image name of server.json, the flags of
scripts/build_release.py.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from mcp_docker.__main__ import _parser
from mcp_docker.config import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README.split("\n## Install\n", 1)[1].split("\n## Settings\n", 1)[0]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
SCRIPT = next(iter(PROJECT["scripts"]))
SERVER_JSON = json.loads((ROOT / "server.json").read_text())
IMAGE = next(p for p in SERVER_JSON["packages"] if p["registryType"] == "oci")["identifier"].rsplit(":", 1)[0]
# Variables the engine client reads (like the docker CLI), beside the server's own settings.
DOCKER_VARIABLES = {"DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONFIG"}


def json_blocks() -> list[dict[str, Any]]:
    return [json.loads(b) for b in re.findall(r"```json\n(.*?)```", SECTION, flags=re.S)]


def shell_commands() -> list[list[str]]:
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", SECTION, flags=re.S):
        text = block.replace("\\\n", " ")
        for line in text.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                commands.append(shlex.split(line))
    return commands


def check_env(env: dict[str, str]) -> None:
    settings_env = {}
    for name, value in env.items():
        if name in DOCKER_VARIABLES:
            continue
        assert name.startswith("MCP_DOCKER_"), f"{name} is no setting"
        assert name.removeprefix("MCP_DOCKER_").lower() in Settings.model_fields, f"{name} is no setting"
        settings_env[name] = value
    mp = pytest.MonkeyPatch()
    try:
        for key in [k for k in os.environ if k.startswith("MCP_DOCKER_")]:
            mp.delenv(key)
        for key, value in settings_env.items():
            mp.setenv(key, value)
        Settings()  # the values are valid too
    finally:
        mp.undo()


def check_server_args(args: list[str]) -> None:
    """The arguments after the console script: flags (and subcommands) the CLI accepts."""
    _parser().parse_args(args)  # exits (fails the test) on an unknown flag or a bad value


def check_command(command: str, args: list[str], env: dict[str, str]) -> str:
    """Check one way to start the server; returns which ("uvx", "uv", "docker")."""
    check_env(env)
    if command == "uvx":
        # `uvx NAME` runs NAME's console script of the same name.
        assert args[0] == PROJECT["name"] and args[0] in PROJECT["scripts"], args
        check_server_args(args[1:])
    elif command == "uv":
        assert "run" in args and SCRIPT in args, args
        check_server_args(args[args.index(SCRIPT) + 1 :])
    elif command == "docker":
        assert args[:2] == ["run", "-i"], "the image speaks stdio: docker run -i"
        images = [a for a in args if a.split(":")[0] in (IMAGE, "mcp-docker")]
        assert images, f"no {IMAGE} image in {args}"
        position = args.index(images[0])
        options = args[2:position]
        assert "-v" in options and "--group-add" in options, options
        mount = options[options.index("-v") + 1]
        assert mount == "/var/run/docker.sock:/var/run/docker.sock"
        check_server_args(args[position + 1 :])
    else:
        pytest.fail(f"unknown command {command!r}")
    return command


def test_install_section_offers_every_way_in_order() -> None:
    headings = re.findall(r"^### (.+)$", SECTION, flags=re.M)
    assert headings[0] == "Claude Desktop: the one-click bundle", headings
    for wanted in ("Claude Code", "VS Code", "Cursor", "Container image"):
        assert wanted in headings, wanted
    assert ".mcpb" in SECTION.split("### Claude Desktop: by hand")[0]
    assert "`.vscode/mcp.json`" in SECTION and "`~/.cursor/mcp.json`" in SECTION


def test_json_configs_start_the_real_server() -> None:
    blocks = json_blocks()
    kinds = []
    for config in blocks:
        assert set(config) in ({"mcpServers"}, {"servers"}), config
        for server in (config.get("mcpServers") or config["servers"]).values():
            if "servers" in config:  # VS Code's format names the transport
                assert server["type"] == "stdio"
            assert set(server) <= {"type", "command", "args", "env"}
            kinds.append(check_command(server["command"], server["args"], server.get("env", {})))
    assert kinds.count("uvx") >= 3 and "docker" in kinds  # Claude Desktop, VS Code, Cursor; the image


def test_vscode_and_cursor_formats() -> None:
    vscode = SECTION.split("### VS Code", 1)[1].split("\n### ", 1)[0]
    cursor = SECTION.split("### Cursor", 1)[1].split("\n### ", 1)[0]
    assert '"servers"' in vscode and '"mcpServers"' not in vscode
    assert '"mcpServers"' in cursor and '"servers"' not in cursor.replace('"mcpServers"', "")


def test_shell_commands_use_real_commands_and_flags() -> None:
    seen = set()
    for argv in shell_commands():
        if argv[:3] == ["claude", "mcp", "add"]:
            split = argv.index("--")
            options, (command, *args) = argv[3:split], argv[split + 1 :]
            env = {}
            names = []
            i = 0
            while i < len(options):
                if options[i] in ("-e", "--env"):
                    key, _, value = options[i + 1].partition("=")
                    env[key] = value
                    i += 2
                else:
                    names.append(options[i])
                    i += 1
            assert len(names) == 1, f"claude mcp add takes one name: {argv}"
            check_command(command, args, env)
            seen.add("claude")
        elif argv[0] in ("uvx", "docker"):
            check_command(argv[0], argv[1:], {})
            seen.add(argv[0])
        else:
            pytest.fail(f"unexpected command in the install section: {argv}")
    assert {"claude", "docker"} <= seen
    assert "claude mcp add docker -- uvx mcp-docker" in SECTION


def test_bundle_build_command_exists() -> None:
    spec = importlib.util.spec_from_file_location("build_release", ROOT / "scripts" / "build_release.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_release"] = module
    spec.loader.exec_module(module)
    command = re.search(r"`uv run python scripts/build_release\.py([^`]*)`", SECTION)
    assert command, "the install section says how to build the bundle"
    module.parser().parse_args(shlex.split(command[1]))


def test_a_wrong_flag_would_be_caught() -> None:
    """The checks above are not vacuous: a misspelt flag or setting fails them."""
    with pytest.raises(SystemExit):
        check_server_args(["--read-onyl"])
    with pytest.raises(AssertionError):
        check_env({"MCP_DOCKER_READONLY": "true"})
    with pytest.raises(Exception, match="destructive"):
        check_env({"MCP_DOCKER_DESTRUCTIVE": "sometimes"})
