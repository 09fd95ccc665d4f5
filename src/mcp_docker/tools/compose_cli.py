"""Finding and running the Compose CLI: `docker compose` (v2) or `docker-compose` (v1).

The CLI runs with an argument list (never a shell), a MINIMAL environment (what it needs to reach the
engine, never the server's own variables, so `${MCP_DOCKER_HTTP_TOKEN}` in a compose file expands to
nothing), a timeout, and its output cleaned and bounded.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections import deque
from pathlib import Path

import anyio

from mcp_docker.docker.client import Engine
from mcp_docker.state import Ctx
from mcp_docker.utils.errors import MCPDockerError, OperationTimeout, engine_output
from mcp_docker.utils.output import clean_text

MAX_KEPT_BYTES = 1_000_000
# What the CLI needs from the server's environment: where its binaries and plugins are, its config
# (contexts, credentials for pulls), the TLS material of the engine endpoint, and proxies to reach it.
_PASSED_ENV = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "DOCKER_CONFIG",
    "DOCKER_CERT_PATH",
    "DOCKER_TLS_VERIFY",
    "DOCKER_TLS",
    "DOCKER_BUILDKIT",
    "BUILDKIT_PROGRESS",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
)


class ComposeUnavailable(MCPDockerError):
    hint = (
        "Install the Compose plugin (`docker compose`) or docker-compose on the server's machine, "
        "or choose the CLI with MCP_DOCKER_COMPOSE_CLI (auto, v2, v1), or disable the compose toolset."
    )


def _v2() -> tuple[str, ...] | None:
    docker_bin = shutil.which("docker")
    if not docker_bin:
        return None
    try:
        probe = subprocess.run(
            [docker_bin, "compose", "version"], capture_output=True, timeout=15, check=False, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (docker_bin, "compose") if probe.returncode == 0 else None


@functools.cache
def compose_cli(choice: str = "auto") -> tuple[str, ...]:
    """The CLI for MCP_DOCKER_COMPOSE_CLI: v2 `docker compose`, v1 `docker-compose`, auto = v2 when present."""
    if choice in ("auto", "v2"):
        v2 = _v2()
        if v2:
            return v2
        if choice == "v2":
            raise ComposeUnavailable("MCP_DOCKER_COMPOSE_CLI=v2, but `docker compose` (the v2 plugin) does not work.")
    v1 = shutil.which("docker-compose")
    if v1:
        return (v1,)
    if choice == "v1":
        raise ComposeUnavailable("MCP_DOCKER_COMPOSE_CLI=v1, but `docker-compose` (v1) was not found.")
    raise ComposeUnavailable("Neither `docker compose` (v2) nor `docker-compose` (v1) was found on the server.")


def is_v2(cli: tuple[str, ...]) -> bool:
    return len(cli) == 2


def compose_env(eng: Engine) -> dict[str, str]:
    """The CLI's whole environment: a few variables it needs, and the endpoint of the server's engine.

    The ONE place that decides where the CLI's engine requests go (wire a filtering socket here)."""
    env = {name: os.environ[name] for name in _PASSED_ENV if name in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    if eng.environment:
        env.update({k: v for k, v in eng.environment.items() if k.startswith("DOCKER_")})
    host = eng.base_url or os.environ.get("DOCKER_HOST")
    if host:
        env["DOCKER_HOST"] = host
    env["COMPOSE_INTERACTIVE_NO_CLI"] = "1"
    return env


async def capture(argv: list[str], env: dict[str, str], cwd: Path, timeout: float) -> tuple[int, str, str]:
    """Run the CLI to completion: exit code, stdout and stderr apart (machine-readable output on stdout)."""
    with anyio.move_on_after(timeout) as scope:
        done = await anyio.run_process(argv, stdin=subprocess.DEVNULL, env=env, cwd=cwd, check=False)
    if scope.cancelled_caught:
        raise OperationTimeout(f"Compose did not finish within {timeout:g} s and was stopped.")
    out = done.stdout.decode("utf-8", "replace")
    err = clean_text(done.stderr.decode("utf-8", "replace"))
    return done.returncode, out, err


async def stream(
    ctx: Ctx, argv: list[str], env: dict[str, str], cwd: Path, timeout: float, progress: bool
) -> tuple[int, str]:
    """Run the CLI with stdout and stderr together, one progress notification per line, newest output kept."""
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


def build_command(
    cli: tuple[str, ...],
    action: str,
    directory: Path,
    files: list[Path],
    project_name: str | None,
    services: list[str],
    *,
    remove_volumes: bool = False,
    build: bool = False,
    tail: int = 100,
    timestamps: bool = False,
    all_profiles: bool = False,
    profiles: tuple[str, ...] = (),
) -> list[str]:
    """The argument list: explicit files (so COMPOSE_FILE in a `.env` is never used), the project directory,
    the project name, then the action with machine-readable output where the CLI offers it."""
    v2 = is_v2(cli)
    argv = [*cli, "--ansi", "never"]
    for f in files:
        argv += ["-f", str(f)]
    argv += ["--project-directory", str(directory)]
    if project_name:
        argv += ["-p", project_name]
    if all_profiles:  # v2 knows '*'; v1 is given the profiles the project's services name
        for profile in ["*"] if v2 else profiles:
            argv += ["--profile", profile]
    if action == "up":
        argv += ["up", "-d", *(["--build"] if build else [])]
    elif action == "down":
        argv += ["down", *(["-v"] if remove_volumes else [])]
    elif action == "ps":
        argv += ["ps", "--format", "json", "-a"] if v2 else ["ps", "-q"]
    elif action == "logs":
        argv += ["logs", "--no-color", "--tail", str(tail), *(["-t"] if timestamps else [])]
    elif action == "config":
        argv += ["config", "--format", "json"] if v2 else ["config"]
    else:
        argv.append(action)
    return argv + services
