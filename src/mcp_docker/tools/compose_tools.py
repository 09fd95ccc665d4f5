"""Compose projects through the Compose CLI: `docker compose` (v2), else `docker-compose` (v1).

Every action first locates the project and checks every file it reads against the allowed roots
(`compose_project`), then asks the CLI for the resolved model (`config`, all profiles, JSON on v2):
that gives the effective project name (checked against projects of other directories), and for
up/build the model passes the Compose policy (`safety/compose_policy`). `config` returns the model
with environment values and labels redacted.
"""

import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
import anyio.to_thread
from pydantic import Field

from mcp_docker.docker.client import Engine
from mcp_docker.safety.compose_policy import check_compose_model, redact_model
from mcp_docker.safety.confirmation import quote
from mcp_docker.safety.gate_proxy import gated_engine
from mcp_docker.safety.levels import Level
from mcp_docker.state import Ctx, engine, settings
from mcp_docker.tools.compose_cli import build_command, capture, compose_cli, compose_env, is_v2, stream
from mcp_docker.tools.compose_project import Project, default_name, locate
from mcp_docker.tools.container_models import ContainerSummary, container_summary
from mcp_docker.tools.declare import docker_tool
from mcp_docker.utils.errors import EngineError, UnsafeOperation, ValidationError, engine_output
from mcp_docker.utils.output import Model, bounded_tail, cut_bytes

Action = Literal["up", "down", "ps", "logs", "config", "pull", "build", "start", "stop", "restart"]

ACTION_LEVELS: dict[str, Level] = {
    "ps": Level.SAFE,
    "logs": Level.SAFE,
    "config": Level.SAFE,
    "up": Level.MODERATE,
    "pull": Level.MODERATE,
    "build": Level.MODERATE,
    "start": Level.MODERATE,
    "stop": Level.MODERATE,
    "restart": Level.MODERATE,
    "down": Level.DESTRUCTIVE,
}
LONG_ACTIONS = {"up", "down", "pull", "build", "start", "stop", "restart"}
CHECKED_ACTIONS = {"up", "build"}  # actions that create containers or images from the model
# Actions on what exists cover services of every profile (down removes a profiled service's container too).
ALL_PROFILE_ACTIONS = {"down", "ps", "logs", "start", "stop", "restart"}
_PROJECT = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_SERVICE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
PROJECT_LABEL = "com.docker.compose.project"
WORKDIR_LABEL = "com.docker.compose.project.working_dir"
MAX_ERROR = 1500


class ComposeResult(Model):
    action: str
    cli: str = Field(description="The Compose CLI used: 'docker compose' (v2) or 'docker-compose' (v1).")
    project_name: str = Field(description="The effective project name (argument, .env, `name:` or directory).")
    command: list[str] = Field(description="The arguments run (no shell).")
    exit_code: int
    output: str = Field(description="The CLI's output (config: the resolved model, redacted), bounded.")
    truncated: bool = Field(description="True when output was cut to fit the size bound.")
    containers: list[ContainerSummary] | None = Field(
        None, description="The project's containers (ps, and after up/start/stop/restart)."
    )


def _cli_error(what: str, code: int, text: str) -> EngineError:
    return EngineError(
        f"Compose {what} failed (exit {code}):{engine_output(text.strip(), MAX_ERROR, 'compose output')}",
        "Fix the compose file or arguments; action 'config' shows how Compose reads the project.",
    )


async def resolved_model(
    cli: tuple[str, ...], project: Project, name: str | None, env: dict[str, str], timeout: float
) -> dict[str, Any]:
    """The project as Compose resolves it, every profile active (v1 lists every service anyway)."""
    argv = build_command(cli, "config", project.directory, project.files, name, [], all_profiles=True)
    code, out, err = await capture(argv, env, project.directory, timeout)
    if code != 0:
        raise _cli_error("could not read the project: 'config'", code, err or out)
    import yaml  # on the first Compose call, not at start-up (about 30 ms)

    try:
        model = json.loads(out) if is_v2(cli) else yaml.safe_load(out)
    except (ValueError, yaml.YAMLError) as exc:
        raise ValidationError("Compose's resolved configuration could not be parsed.") from exc
    if not isinstance(model, dict):
        raise ValidationError("Compose's resolved configuration is not a mapping.")
    return model


def model_profiles(model: dict[str, Any]) -> tuple[str, ...]:
    """Every profile the project's services name (v1 has no `--profile '*'`)."""
    found: set[str] = set()
    for service in (model.get("services") or {}).values():
        if isinstance(service, dict) and isinstance(service.get("profiles"), list):
            found.update(str(p) for p in service["profiles"])
    return tuple(sorted(found))


def effective_name(project_name: str | None, model: dict[str, Any], project: Project) -> str:
    name = project_name or str(model.get("name") or "") or default_name(project)
    if not _PROJECT.match(name):
        raise ValidationError(f"The project name {name!r} is not valid; pass project_name.")
    return name


def check_owner(eng: Engine, name: str, directory: Path) -> None:
    """A project name that belongs to containers of another working directory is not ours to change."""
    rows: list[dict[str, Any]] = eng.api.containers(all=True, filters={"label": f"{PROJECT_LABEL}={name}"})
    for row in rows:
        workdir = (row.get("Labels") or {}).get(WORKDIR_LABEL)
        if workdir is None or os.path.realpath(workdir) != str(directory):
            raise UnsafeOperation(
                f"Refused: project name {name!r} belongs to a project from another directory "
                f"({workdir or 'unknown'}), not {directory}. Nothing was changed.",
                "Pass another project_name (or set `name:` in the compose file) for this project.",
            )


def check_owned_objects(eng: Engine, model: dict[str, Any], name: str) -> None:
    """A volume or network the project would use by name must be new or already the project's own:
    Compose adopts an existing one with a warning (another project's data, or a volume that binds)."""
    for section, lookup in (("volumes", eng.api.volumes), ("networks", eng.api.networks)):
        for key, spec in (model.get(section) or {}).items():
            real = str((spec or {}).get("name") or f"{name}_{key}") if isinstance(spec, dict | None) else ""
            if not real:
                continue
            found = lookup(filters={"name": real})
            rows = found.get("Volumes") or [] if isinstance(found, dict) else found
            for row in rows or []:
                if row.get("Name") == real and (row.get("Labels") or {}).get(PROJECT_LABEL) != name:
                    raise UnsafeOperation(
                        f"Refused: Compose {section[:-1]} '{key}' would use the existing {section[:-1]} {real!r}, "
                        f"which does not belong to project {name!r}. Nothing was created.",
                        "Give the object a name of its own (or remove `name:`).",
                    )


def _ids(cli: tuple[str, ...], text: str) -> list[str]:
    if not is_v2(cli):
        return [line.strip() for line in text.splitlines() if re.fullmatch(r"[0-9a-f]{12,64}", line.strip())]
    text = text.strip()
    rows: list[Any] = []
    if text.startswith("["):
        rows = json.loads(text)
    else:
        rows = [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]
    return [str(r["ID"]) for r in rows if isinstance(r, dict) and r.get("ID")]


def _containers(eng: Engine, ids: list[str]) -> list[ContainerSummary]:
    if not ids:
        return []
    rows: list[dict[str, Any]] = eng.api.containers(all=True, filters={"id": ids})
    return sorted((container_summary(row) for row in rows), key=lambda c: c.name)


def _down_question(eng: Engine, arguments: dict[str, Any]) -> str:
    """Names the PROJECT(s) that go and their containers, from the engine's labels (no file is read before
    the call's own checks: the body refuses a name that belongs to another directory)."""
    project_dir, files = arguments.get("project_dir"), arguments.get("files") or []
    directory = project_dir or (os.path.dirname(str(files[0])) if files else "")
    directory = os.path.realpath(os.path.expanduser(str(directory))) if directory else ""
    name = arguments.get("project_name")
    label = f"{PROJECT_LABEL}={name}" if name else f"{WORKDIR_LABEL}={directory}"
    rows = eng.api.containers(all=True, filters={"label": label})
    projects = sorted({str((r.get("Labels") or {}).get(PROJECT_LABEL)) for r in rows} | ({name} if name else set()))
    containers = sorted(str((r.get("Names") or ["?"])[0]).lstrip("/") for r in rows)
    networks: list[str] = []
    volumes: list[str] = []
    for project in projects:
        owned = {"label": f"{PROJECT_LABEL}={project}"}
        networks += [str(n.get("Name")) for n in eng.api.networks(filters=owned)]
        volumes += [str(v.get("Name")) for v in eng.api.volumes(filters=owned).get("Volumes") or []]

    def listed(title: str, items: list[str]) -> str:
        shown = ", ".join(quote(i, 60) for i in sorted(items)[:20]) + (" ..." if len(items) > 20 else "")
        return f"{title} ({len(items)}){': ' + shown if items else ''}."

    which = ", ".join(quote(p) for p in projects) or "(none running)"
    lines = [
        f"Compose down of project {which} (directory {quote(directory)}) removes:",
        listed("Containers", containers),
        listed("Networks", networks),
    ]
    if arguments.get("remove_volumes"):
        lines.append(listed("Volumes, with their data (lost)", volumes))
    elif volumes:
        lines.append(listed("Volumes kept (remove_volumes=false)", volumes))
    lines.append("Proceed?")
    return "\n".join(lines)


@docker_tool(
    Level.DESTRUCTIVE,
    "compose",
    title="Compose project",
    destructive_hint=True,
    action_levels=ACTION_LEVELS,
    confirm=_down_question,
)
async def docker_compose_operations(
    ctx: Ctx,
    action: Annotated[
        Action,
        Field(description="up is detached; down removes containers and networks; config: resolved file."),
    ],
    project_dir: Annotated[str | None, Field(description="Server-side directory holding compose.yaml.")] = None,
    files: Annotated[
        list[str] | None,
        Field(description="Compose files, relative to project_dir."),
    ] = None,
    project_name: Annotated[str | None, Field(description="[a-z0-9_-]; default: the directory.")] = None,
    services: Annotated[list[str] | None, Field(description="Only these (not down/config).")] = None,
    remove_volumes: Annotated[bool, Field(description="down: also remove its volumes (data lost).")] = False,
    build: Annotated[bool, Field(description="up: build images first.")] = False,
    tail: Annotated[int, Field(description="logs: lines per service.", ge=0, le=10000)] = 100,
    timeout: Annotated[float, Field(description="Seconds before the CLI is stopped.", gt=0, le=3600)] = 600,
) -> ComposeResult:
    """Run a Compose action on a project under the allowed roots; up/build follow the Compose policy."""
    if project_name is not None and not _PROJECT.match(project_name):
        raise ValidationError(
            f"Invalid project name {project_name!r}: use lowercase letters, digits, '-' and '_', starting with a "
            "letter or digit."
        )
    chosen = list(services or [])
    for service in chosen:
        if not _SERVICE.match(service):
            raise ValidationError(f"Invalid service name {service!r}: use letters, digits, '_', '.' and '-'.")
    if chosen and action in ("down", "config"):
        raise ValidationError(f"'{action}' works on the whole project; leave services empty.")
    if remove_volumes and action != "down":
        raise ValidationError("remove_volumes applies to action 'down' only.")
    if build and action != "up":
        raise ValidationError("build=true applies to action 'up' only; use action 'build' to only build.")
    config = settings(ctx)
    project = await anyio.to_thread.run_sync(locate, project_dir, files, config)
    cli = await anyio.to_thread.run_sync(compose_cli, config.compose_cli)
    eng = engine(ctx)
    # Every request the CLI sends goes through the engine gate (safety/gate_proxy.py), not straight to the engine.
    async with gated_engine(eng) as gate:
        env = {**compose_env(eng), **gate.env}
        model = await resolved_model(cli, project, project_name, env, min(timeout, 120))
        name = effective_name(project_name, model, project)
        profiles = model_profiles(model)
        display_cli = " ".join(os.path.basename(part) for part in cli)
        if action == "config":
            argv = build_command(cli, "config", project.directory, project.files, name, [], all_profiles=True)
            import yaml

            dumped = yaml.safe_dump(redact_model(model, config.redact_env), sort_keys=False, width=100_000)
            text, truncated = cut_bytes(dumped, config.max_output_bytes)
            return ComposeResult(
                action=action,
                cli=display_cli,
                project_name=name,
                command=[os.path.basename(argv[0]), *argv[1:]],
                exit_code=0,
                output=text,
                truncated=truncated,
            )
        await anyio.to_thread.run_sync(check_owner, eng, name, project.directory)
        if action in CHECKED_ACTIONS:
            check_compose_model(model, config)
            await anyio.to_thread.run_sync(check_owned_objects, eng, model, name)
        argv = build_command(
            cli, action, project.directory, project.files, name, chosen, remove_volumes=remove_volumes, build=build,
            tail=tail, all_profiles=action in ALL_PROFILE_ACTIONS, profiles=profiles,
        )  # fmt: skip
        if action == "ps":  # machine-readable output on stdout alone
            code, text, err = await capture(argv, env, project.directory, timeout)
            text = text if code == 0 else err + text
        else:
            code, text = await stream(ctx, argv, env, project.directory, timeout, progress=action in LONG_ACTIONS)
        if gate.refusals:  # the CLI asked the engine for something the gate does not allow
            raise gate.refusals[0]
        if code != 0:
            raise _cli_error(f"'{action}'", code, text)
        containers: list[ContainerSummary] | None = None
        if action == "ps":
            containers = await anyio.to_thread.run_sync(_containers, eng, _ids(cli, text))
            text = ""
        elif action in ("up", "start", "stop", "restart"):
            ps = build_command(
                cli, "ps", project.directory, project.files, name, [], all_profiles=True, profiles=profiles
            )
            ps_code, ps_out, _ = await capture(ps, env, project.directory, 60)
            if ps_code == 0:
                containers = await anyio.to_thread.run_sync(_containers, eng, _ids(cli, ps_out))
        text, truncated = bounded_tail(text, config.max_output_bytes)
        return ComposeResult(
            action=action,
            cli=display_cli,
            project_name=name,
            command=[os.path.basename(argv[0]), *argv[1:]],
            exit_code=code,
            output=text,
            truncated=truncated,
            containers=containers,
        )
