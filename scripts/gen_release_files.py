"""Generate the release metadata from the code: the MCP Bundle manifest and the MCP Registry entry.

    uv run python scripts/gen_docs.py          # regenerates these together with docs/API.md and the README
    uv run python scripts/gen_docs.py --check  # exit 1 when any generated file is out of date

Files written (both committed, both checked by tests/unit/test_release_metadata.py):

- `packaging/mcpb/manifest.json`: the `.mcpb` manifest (MCPB manifest_version 0.4, server type `uv`):
  name, version, every tool and prompt the server offers (from the server's own tools/list and
  prompts/list), and `user_config` for the main settings, mapped to their `MCP_DOCKER_*` variables.
- `server.json`: the MCP Registry entry (schema 2025-12-11, kept in schemas/): the PyPI package run
  with `uvx`, the container image, and every environment variable of `config.Settings`.

The version is pyproject.toml's. `scripts/build_release.py` adds, in `dist/server.json` only, the
`.mcpb` package entry with the built bundle's SHA-256 (it cannot be known before the build).
"""

from __future__ import annotations

import json
import tomllib
import typing
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "packaging" / "mcpb" / "manifest.json"
SERVER_JSON = ROOT / "server.json"
REGISTRY_SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
REGISTRY_NAME = "io.github.mcp-docker/mcp-docker"
REPOSITORY = "https://github.com/mcp-docker/mcp-docker"
IMAGE = "ghcr.io/mcp-docker/mcp-docker"
SOCKET = "/var/run/docker.sock"

# The settings a Claude Desktop user can set in the bundle's dialog: (setting, key, title, type).
# `None` as setting means DOCKER_HOST, which the engine client reads like the docker CLI does.
# Lists are comma-separated strings: MCPB cannot put a multi-valued (`multiple`) entry into an
# environment variable (its substitution only expands arrays in `args`).
USER_CONFIG: tuple[tuple[str | None, str, str, str], ...] = (
    (None, "docker_host", "Docker engine endpoint (DOCKER_HOST)", "string"),
    ("read_only", "read_only", "Read-only mode", "boolean"),
    ("destructive", "destructive", "Destructive tools: confirm, allow or deny", "string"),
    ("allowed_bind_roots", "allowed_bind_roots", "Allowed bind-mount roots", "string"),
    ("allowed_build_roots", "allowed_build_roots", "Allowed build-context roots", "string"),
    ("toolsets", "toolsets", "Toolsets", "string"),
)
DOCKER_HOST_HELP = (
    "Engine to manage, e.g. unix:///var/run/docker.sock, ssh://user@host or tcp://host:2376. "
    "Empty: found like the docker CLI does (DOCKER_CONTEXT or the current context, else the local socket)."
)
# How the bundle starts the server: uv (which Claude Desktop provides for `uv` bundles) syncs the
# bundled project with its lock file (runtime dependencies only) and runs the console script.
BUNDLE_COMMAND = "uv"
BUNDLE_ARGS = ["run", "--project", "${__dirname}", "--frozen", "--no-dev", "--quiet", "mcp-docker"]


def project() -> dict[str, Any]:
    data: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return data


def env_name(setting: str) -> str:
    from mcp_docker.config import Settings

    return f"{Settings.model_config.get('env_prefix', '')}{setting.upper()}"


def default_string(field: Any) -> str:
    """A setting's default as the text its environment variable would hold ('' for none)."""
    from pydantic_core import PydanticUndefined

    value = field.default_factory() if field.default_factory is not None else field.default
    if value is PydanticUndefined or value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _choices(annotation: Any) -> list[str]:
    if typing.get_origin(annotation) is typing.Literal:
        return [str(a) for a in typing.get_args(annotation)]
    return []


def _format(annotation: Any) -> str:
    kinds = {a for a in (typing.get_args(annotation) or (annotation,)) if a is not type(None)}
    if kinds == {bool}:
        return "boolean"
    if kinds and kinds <= {int, float}:
        return "number"
    return "string"


# --- the MCPB manifest ---------------------------------------------------------------------------


_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "cf.")


def first_sentence(text: str) -> str:
    """The text up to the first full stop that ends a sentence (not an abbreviation's, as in 'e.g.')."""
    text = " ".join(text.split())
    start = 0
    while (end := text.find(". ", start)) >= 0:
        if text[: end + 1].rsplit(" ", 1)[-1].lower() not in _ABBREVIATIONS:
            return text[: end + 1]
        start = end + 2
    return text


def _prompt_text(prompt: Any) -> str:
    args = prompt.arguments or []
    where = ", ".join(f"{a.name}: ${{arguments.{a.name}}}" for a in args)
    head = first_sentence(prompt.description or prompt.name)
    return f"{head} ({where})" if where else head


def user_config() -> tuple[dict[str, Any], dict[str, str]]:
    """The manifest's user_config entries and the environment they set (`${user_config.KEY}`)."""
    from mcp_docker.config import Settings

    options: dict[str, Any] = {}
    env: dict[str, str] = {}
    for setting, key, title, kind in USER_CONFIG:
        if setting is None:
            description, default, variable = DOCKER_HOST_HELP, "", "DOCKER_HOST"
        else:
            field = Settings.model_fields[setting]
            description = field.description or ""
            if typing.get_origin(field.annotation) is list:
                description += " Comma-separated."
            default, variable = default_string(field), env_name(setting)
        option: dict[str, Any] = {"type": kind, "title": title, "description": description, "required": False}
        option["default"] = (default == "true") if kind == "boolean" else default
        options[key] = option
        env[variable] = f"${{user_config.{key}}}"
    return options, env


def render_manifest(surface: Any) -> dict[str, Any]:
    meta = project()
    options, env = user_config()
    return {
        "manifest_version": "0.4",
        "name": meta["name"],
        "display_name": "Docker (mcp-docker)",
        "version": meta["version"],
        "description": meta["description"],
        "long_description": (
            "Lets the assistant work with a Docker engine: containers, images, networks, volumes, system and "
            "Compose. Safe by default: destructive tools ask you first, bind mounts and build contexts are "
            "refused outside the roots you allow, privileged settings are refused. Needs a Docker engine "
            "(local socket, Docker Desktop, or a remote DOCKER_HOST)."
        ),
        "author": {"name": meta["authors"][0]["name"]},
        "repository": {"type": "git", "url": f"{REPOSITORY}.git"},
        "homepage": meta["urls"]["Homepage"],
        "documentation": meta["urls"]["Documentation"],
        "support": meta["urls"]["Issues"],
        "license": meta["license"],
        "keywords": meta["keywords"],
        "server": {
            "type": "uv",
            "entry_point": "server/main.py",
            "mcp_config": {"command": BUNDLE_COMMAND, "args": BUNDLE_ARGS, "env": env},
        },
        "tools": [{"name": t.name, "description": first_sentence(t.description or "")} for t in surface.tools],
        "tools_generated": False,
        "prompts": [
            {
                "name": p.name,
                "description": first_sentence(p.description or ""),
                "arguments": [a.name for a in p.arguments or []],
                "text": _prompt_text(p),
            }
            for p in surface.prompts
        ],
        "prompts_generated": False,
        "compatibility": {
            "platforms": ["darwin", "linux", "win32"],
            "runtimes": {"python": meta["requires-python"]},
        },
        "user_config": options,
    }


# --- the MCP Registry entry ----------------------------------------------------------------------


def environment_variables() -> list[dict[str, Any]]:
    from mcp_docker.config import Settings

    out: list[dict[str, Any]] = [
        {"name": "DOCKER_HOST", "description": DOCKER_HOST_HELP, "isRequired": False, "format": "string"}
    ]
    for name, field in Settings.model_fields.items():
        entry: dict[str, Any] = {
            "name": env_name(name),
            "description": field.description or name,
            "isRequired": False,
            "format": _format(field.annotation),
        }
        default = default_string(field)
        if default:
            entry["default"] = default
        choices = _choices(field.annotation)
        if choices:
            entry["choices"] = choices
        if name == "http_token":
            entry["isSecret"] = True
        out.append(entry)
    return out


def render_server_json() -> dict[str, Any]:
    meta = project()
    version = meta["version"]
    stdio = {"type": "stdio"}
    return {
        "$schema": REGISTRY_SCHEMA_URL,
        "name": REGISTRY_NAME,
        "title": "mcp-docker",
        "description": "Docker engine tools for MCP: containers, images, networks, volumes, Compose. Safe by default.",
        "version": version,
        "repository": {"url": REPOSITORY, "source": "github"},
        "websiteUrl": meta["urls"]["Homepage"],
        "packages": [
            {
                "registryType": "pypi",
                "identifier": meta["name"],
                "version": version,
                "runtimeHint": "uvx",
                "transport": stdio,
                "environmentVariables": environment_variables(),
            },
            {
                "registryType": "oci",
                "identifier": f"{IMAGE}:{version}",
                "runtimeHint": "docker",
                "transport": stdio,
                "runtimeArguments": [
                    {"type": "named", "name": "-v", "value": f"{SOCKET}:{SOCKET}", "description": "The engine socket."},
                    {
                        "type": "named",
                        "name": "--group-add",
                        "description": "Group id owning the socket (stat -c %g /var/run/docker.sock); the image "
                        "runs as a non-root user.",
                        "isRequired": True,
                        "format": "number",
                    },
                ],
                "environmentVariables": environment_variables(),
            },
        ],
    }


def mcpb_package(url: str, sha256: str) -> dict[str, Any]:
    """The registry's entry for a released bundle (added to dist/server.json by the release build)."""
    return {
        "registryType": "mcpb",
        "identifier": url,
        "version": project()["version"],
        "fileSha256": sha256,
        "transport": {"type": "stdio"},
    }


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def wanted(surface: Any) -> dict[Path, str]:
    return {MANIFEST: dumps(render_manifest(surface)), SERVER_JSON: dumps(render_server_json())}
