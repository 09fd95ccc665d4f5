"""Compose projects through the Compose CLI the machine has: `docker compose` (v2), else `docker-compose` (v1).

The CLI is run with an argument list (never a shell), the engine endpoint in its environment, a timeout,
and its output cleaned and bounded. Long actions report one progress notification per output line.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from collections import deque
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
import anyio.to_thread
from pydantic import BaseModel, Field

from mcp_docker.docker.client import Engine
from mcp_docker.safety.compose_policy import check_compose_config
from mcp_docker.safety.levels import Level
from mcp_docker.state import Ctx, engine, settings
from mcp_docker.tools.compose_down_question import compose_down_question
from mcp_docker.tools.container_models import ContainerSummary, container_summary
from mcp_docker.tools.declare import docker_tool
from mcp_docker.utils.errors import EngineError, MCPDockerError, OperationTimeout, ValidationError, engine_output
from mcp_docker.utils.output import REDACTED, bounded_tail, clean_text, cut_bytes

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
COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
_PROJECT = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
MAX_KEPT_BYTES = 1_000_000
_SERVICE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")


class ComposeUnavailable(MCPDockerError):
    hint = (
        "Install the Compose plugin (`docker compose`) or docker-compose on the server's machine, "
        "or disable the compose toolset (MCP_DOCKER_TOOLSETS)."
    )


class ComposeResult(BaseModel):
    action: str
    cli: str = Field(description="The Compose CLI used: 'docker compose' (v2) or 'docker-compose' (v1).")
    command: list[str] = Field(description="The arguments run (no shell).")
    exit_code: int
    output: str = Field(description="The CLI's output (stdout and stderr), cleaned and bounded.")
    truncated: bool = Field(description="True when older output was cut to fit the size bound.")
    containers: list[ContainerSummary] | None = Field(
        None, description="The project's containers (ps, and after up/start/stop/restart)."
    )


@functools.cache
def compose_cli() -> tuple[str, ...]:
    """`docker compose` when `docker compose version` works, else `docker-compose`."""
    docker_bin = shutil.which("docker")
    if docker_bin:
        try:
            probe = subprocess.run(
                [docker_bin, "compose", "version"],
                capture_output=True,
                timeout=15,
                check=False,
                stdin=subprocess.DEVNULL,
            )
            if probe.returncode == 0:
                return (docker_bin, "compose")
        except (OSError, subprocess.TimeoutExpired):
            pass
    v1 = shutil.which("docker-compose")
    if v1:
        return (v1,)
    raise ComposeUnavailable("Neither `docker compose` (v2) nor `docker-compose` (v1) was found on the server.")


def compose_env(eng: Engine) -> dict[str, str]:
    """The server's environment, pointing the CLI at the same engine the server uses."""
    env = dict(os.environ)
    if eng.environment:
        env.update(eng.environment)
    if eng.base_url:
        env["DOCKER_HOST"] = eng.base_url
    env.setdefault("COMPOSE_INTERACTIVE_NO_CLI", "1")
    return env


def _paths(project_dir: str | None, files: list[str] | None) -> tuple[Path | None, list[Path]]:
    if not project_dir and not files:
        raise ValidationError("Give project_dir (a directory with a compose file) and/or files (compose files).")
    directory: Path | None = None
    if project_dir:
        directory = Path(project_dir).expanduser()
        if not directory.is_dir():
            raise ValidationError(f"project_dir '{project_dir}' is not a directory on the server's machine.")
        directory = directory.resolve()
    resolved: list[Path] = []
    for name in files or []:
        path = Path(name).expanduser()
        if not path.is_absolute() and directory is not None:
            path = directory / path
        if not path.is_file():
            raise ValidationError(f"Compose file '{name}' does not exist on the server's machine ({path}).")
        resolved.append(path.resolve())
    if directory is not None and not resolved and not any((directory / f).is_file() for f in COMPOSE_FILES):
        raise ValidationError(
            f"No compose file in '{project_dir}' (looked for {', '.join(COMPOSE_FILES)}); pass files=[...]."
        )
    return directory, resolved


def build_command(
    cli: tuple[str, ...],
    action: str,
    directory: Path | None,
    files: list[Path],
    project_name: str | None,
    services: list[str],
    *,
    remove_volumes: bool = False,
    build: bool = False,
    tail: int = 100,
    timestamps: bool = False,
) -> list[str]:
    argv = [*cli, "--ansi", "never"]
    for f in files:
        argv += ["-f", str(f)]
    if directory is not None:
        argv += ["--project-directory", str(directory)]
    if project_name:
        argv += ["-p", project_name]
    if action == "up":
        argv += ["up", "-d", *(["--build"] if build else [])]
    elif action == "down":
        argv += ["down", *(["-v"] if remove_volumes else [])]
    elif action == "ps":
        argv += ["ps", "-q", *(["-a"] if len(cli) == 2 else [])]
    elif action == "logs":
        argv += ["logs", "--no-color", "--tail", str(tail), *(["-t"] if timestamps else [])]
    else:
        argv.append(action)
    return argv + services


def redact_config(text: str) -> str:
    """Hide values under `environment:` blocks of a `config` output (KEY: value -> KEY: '***')."""
    out: list[str] = []
    env_indent: int | None = None
    for line in text.splitlines(keepends=True):
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if env_indent is not None and stripped.strip() and indent <= env_indent:
            env_indent = None
        if env_indent is not None and stripped.strip():
            key, sep, _ = stripped.rstrip("\n").partition(":")
            if key.startswith("- "):
                key, sep, _ = key.partition("=")
                line = f"{' ' * indent}{key}={REDACTED}\n" if sep else line
            elif sep:
                line = f"{' ' * indent}{key}: '{REDACTED}'\n"
        elif stripped.rstrip().endswith("environment:"):
            env_indent = indent
        out.append(line)
    return "".join(out)


async def _run(
    ctx: Ctx, argv: list[str], env: dict[str, str], cwd: Path | None, timeout: float, progress: bool
) -> tuple[int, str]:
    lines: deque[str] = deque()
    kept = 0  # bytes in `lines`: the oldest lines go beyond MAX_KEPT_BYTES (the reply keeps the newest)

    def keep(line: str) -> None:
        nonlocal kept
        lines.append(line)
        kept += len(line) + 1
        while kept > MAX_KEPT_BYTES and len(lines) > 1:
            kept -= len(lines.popleft()) + 1

    count = 0
    with anyio.move_on_after(timeout) as scope:
        async with await anyio.open_process(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=cwd
        ) as process:
            try:
                assert process.stdout is not None
                buffer = b""
                async for chunk in process.stdout:
                    buffer += chunk
                    *complete, buffer = buffer.split(b"\n")
                    for raw in complete:
                        line = clean_text(raw.decode("utf-8", "replace")).rstrip()
                        keep(line)
                        count += 1
                        if progress and line:
                            await ctx.report_progress(count, None, line[:200])
                if buffer:
                    keep(clean_text(buffer.decode("utf-8", "replace")).rstrip())
                code = await process.wait()
            finally:
                if process.returncode is None:
                    process.kill()
                    with anyio.CancelScope(shield=True):
                        await process.wait()
    text = "\n".join(lines) + ("\n" if lines else "")
    if scope.cancelled_caught:
        raise OperationTimeout(
            f"Compose did not finish within {timeout:g} s and was stopped. Last output:"
            f"{engine_output(text, 2000, 'compose output')}"
        )
    return code, text


@docker_tool(
    Level.DESTRUCTIVE,
    "compose",
    title="Compose project operations",
    destructive_hint=True,
    action_levels=ACTION_LEVELS,
    confirm=compose_down_question,
)
async def docker_compose_operations(
    ctx: Ctx,
    action: Annotated[
        Action,
        Field(
            description="up (create and start, detached), down (stop and remove containers and networks), ps, "
            "logs, config (the resolved file), pull, build, start, stop, restart."
        ),
    ],
    project_dir: Annotated[
        str | None, Field(description="Project directory on the server's machine (holds compose.yaml).")
    ] = None,
    files: Annotated[
        list[str] | None,
        Field(description="Compose files on the server's machine; relative paths are taken from project_dir."),
    ] = None,
    project_name: Annotated[
        str | None, Field(description="Project name (lowercase letters, digits, '-', '_'); default: the directory.")
    ] = None,
    services: Annotated[list[str] | None, Field(description="Only these services (not for down/config).")] = None,
    remove_volumes: Annotated[
        bool, Field(description="down only: also remove the project's named and anonymous volumes (data lost).")
    ] = False,
    build: Annotated[bool, Field(description="up only: build images before starting.")] = False,
    tail: Annotated[int, Field(description="logs only: last N lines per service.", ge=0, le=10000)] = 100,
    timeout: Annotated[float, Field(description="Seconds the CLI may run before it is stopped.", gt=0, le=3600)] = 600,
) -> ComposeResult:
    """Run a Compose action on a project (a directory and/or compose files). ps, logs, config read; up, pull,
    build, start, stop, restart change state; down removes containers and networks (volumes only with
    remove_volumes=true). up/build follow the container policy."""
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
    directory, paths = _paths(project_dir, files)
    cli = await anyio.to_thread.run_sync(compose_cli)
    eng = engine(ctx)
    argv = build_command(
        cli, action, directory, paths, project_name, chosen, remove_volumes=remove_volumes, build=build, tail=tail
    )
    env = compose_env(eng)
    if action in ("up", "build"):
        # The container policy holds for compose files too: check the resolved project first.
        config = build_command(cli, "config", directory, paths, project_name, [])
        config_code, config_text = await _run(ctx, config, env, directory, min(timeout, 120), progress=False)
        if config_code != 0:
            raise EngineError(
                f"Compose could not read the project (exit {config_code}):"
                f"{engine_output(config_text, 3000, 'compose output')}",
                "Fix the compose file; action 'config' shows how Compose reads the project.",
            )
        check_compose_config(config_text, settings(ctx))
    code, text = await _run(ctx, argv, env, directory, timeout, progress=action in LONG_ACTIONS)
    limit = settings(ctx).max_output_bytes
    if code != 0:
        raise EngineError(
            f"Compose '{action}' failed (exit {code}):{engine_output(text, min(limit, 3000), 'compose output')}",
            "Fix the compose file or arguments; action 'config' shows how Compose reads the project.",
        )
    containers: list[ContainerSummary] | None = None
    if action == "ps":
        ids = [line.strip() for line in text.splitlines() if re.fullmatch(r"[0-9a-f]{12,64}", line.strip())]
        containers = await anyio.to_thread.run_sync(_containers, eng, ids)
        text = ""
    elif action in ("up", "start", "stop", "restart"):
        ps = build_command(cli, "ps", directory, paths, project_name, [])
        ps_code, ps_text = await _run(ctx, ps, env, directory, 60, progress=False)
        if ps_code == 0:
            ids = [line.strip() for line in ps_text.splitlines() if re.fullmatch(r"[0-9a-f]{12,64}", line.strip())]
            containers = await anyio.to_thread.run_sync(_containers, eng, ids)
    if action == "config" and settings(ctx).redact_env:
        text = redact_config(text)
    # config reads from the top; everything else (logs, progress) matters most at the end.
    text, truncated = cut_bytes(text, limit) if action == "config" else bounded_tail(text, limit)
    display = [os.path.basename(argv[0]), *argv[1:]]
    return ComposeResult(
        action=action,
        cli=" ".join(os.path.basename(part) for part in cli),
        command=display,
        exit_code=code,
        output=text,
        truncated=truncated,
        containers=containers,
    )


def _containers(eng: Engine, ids: list[str]) -> list[ContainerSummary]:
    if not ids:
        return []
    rows: list[dict[str, Any]] = eng.api.containers(all=True, filters={"id": ids})
    summaries = [container_summary(row) for row in rows]
    return sorted(summaries, key=lambda c: c.name)
