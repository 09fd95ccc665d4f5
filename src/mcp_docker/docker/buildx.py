"""BuildKit builds through `docker buildx build` (the engine's own builder, the `docker` driver).

Why the CLI and not the engine's BuildKit API: a BuildKit build over the engine API (`/build` with
`version=2`) needs a gRPC session streamed over a hijacked `/session` connection (the build context,
the Dockerfile and secrets are served from the client through it) and its progress is protobuf
`SolveStatus` messages; docker-py speaks none of that. `docker buildx build --progress=rawjson` gives
the same `SolveStatus` as JSON, and the build runs in the engine (`--builder` the engine's default
builder, so the image lands in the engine's image store, as with the classic builder).

The CLI gets its engine endpoint from `cli_environment` only (one place: a checking proxy in front of
the engine would be set here).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp_docker.docker.client import Engine
from mcp_docker.safety.build_policy import build_failure
from mcp_docker.utils.errors import EngineError, engine_output
from mcp_docker.utils.output import clean_text

STEP = re.compile(r"^\[(?:[^\]]* )?\d+/\d+\] ")
"""A vertex that is a Dockerfile instruction: '[2/3] RUN ...', '[build 1/2] FROM ...'."""
MAX_KEPT_CHARS = 1_000_000


def cli_environment(eng: Engine) -> dict[str, str]:
    """The environment for a docker CLI run against `eng`: the server's own, with the engine's
    endpoint (DOCKER_HOST, or DOCKER_CONTEXT for a `context:NAME` endpoint) and TLS variables."""
    env = dict(os.environ)
    if eng.environment:
        env.update(eng.environment)
    if eng.base_url and eng.base_url.startswith("context:"):
        env.pop("DOCKER_HOST", None)
        env["DOCKER_CONTEXT"] = eng.base_url.removeprefix("context:")
    elif eng.base_url:
        env["DOCKER_HOST"] = eng.base_url
    return env


def builder_name(env: dict[str, str]) -> str:
    """The engine's own builder: buildx names it after the context ('default' for DOCKER_HOST)."""
    if env.get("DOCKER_HOST"):
        return "default"
    return env.get("DOCKER_CONTEXT") or "default"


def _probe(docker_bin: str, config: str | None, host: str | None, context: str | None) -> bool:
    env = {**os.environ, "DOCKER_CONFIG": config or "", "DOCKER_HOST": host or "", "DOCKER_CONTEXT": context or ""}
    env = {k: v for k, v in env.items() if v}
    try:
        probe = subprocess.run(
            [docker_bin, "buildx", "inspect", builder_name(env)],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0 and re.search(r"^Driver:\s+docker\s*$", probe.stdout, re.M) is not None


_AVAILABLE: set[tuple[str, str | None, str | None, str | None]] = set()


def buildx_available(env: dict[str, str]) -> bool:
    """True when `docker buildx` is installed for this CLI configuration and the engine's builder (the
    `docker` driver) answers. A success is remembered per (CLI, config, endpoint); a failure is probed
    again next time (the engine may have been down)."""
    docker_bin = shutil.which("docker", path=env.get("PATH"))
    if docker_bin is None:
        return False
    key = (docker_bin, env.get("DOCKER_CONFIG"), env.get("DOCKER_HOST"), env.get("DOCKER_CONTEXT"))
    if key in _AVAILABLE:
        return True
    if _probe(*key):
        _AVAILABLE.add(key)
        return True
    return False


def use_buildkit(choice: str, env: dict[str, str]) -> bool:
    """MCP_DOCKER_BUILDER: buildkit must work when asked for; auto takes it when `docker buildx` answers."""
    if choice == "classic":
        return False
    if buildx_available(env):
        return True
    if choice == "buildkit":
        raise EngineError(
            "MCP_DOCKER_BUILDER=buildkit, but `docker buildx` with the engine's own builder is not available here.",
            "Install the docker buildx plugin for the server's user, or set MCP_DOCKER_BUILDER=auto or classic.",
        )
    return False


def build_argv(
    docker_bin: str,
    env: dict[str, str],
    context: Path,
    *,
    iidfile: Path,
    tags: list[str],
    dockerfile: str | None,
    buildargs: dict[str, str] | None,
    target: str | None,
    nocache: bool,
    labels: dict[str, str],
) -> list[str]:
    argv = [docker_bin, "buildx", "build", "--builder", builder_name(env), "--progress=rawjson", "--load"]
    argv += ["--iidfile", str(iidfile)]
    for tag in tags:
        argv += ["--tag", tag]
    if dockerfile:
        argv += ["--file", str(context / dockerfile)]
    for key, value in (buildargs or {}).items():
        argv += ["--build-arg", f"{key}={value}"]
    for key, value in labels.items():
        argv += ["--label", f"{key}={value}"]
    if target:
        argv += ["--target", target]
    if nocache:
        argv.append("--no-cache")
    argv += ["--", str(context)]
    return argv


@dataclass
class _Vertex:
    name: str
    started: bool = False
    cached: bool = False
    error: str | None = None
    logs: list[str] = field(default_factory=list)


@dataclass
class BuildkitLog:
    """BuildKit's progress (`SolveStatus` JSON objects) and the CLI's own text, read as they come."""

    vertices: dict[str, _Vertex] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    text_lines: list[str] = field(default_factory=list)  # what the CLI printed that is not JSON
    kept: int = 0

    def _keep(self, line: str) -> None:
        self.lines.append(line)
        self.kept += len(line) + 1
        while self.kept > MAX_KEPT_CHARS and len(self.lines) > 1:
            self.kept -= len(self.lines.pop(0)) + 1

    def feed(self, status: dict[str, Any]) -> list[str]:
        """Take one SolveStatus; return the names of the Dockerfile steps that just started (progress messages)."""
        started: list[str] = []
        for raw in status.get("vertexes") or []:
            digest = str(raw.get("digest", ""))
            vertex = self.vertices.setdefault(digest, _Vertex(clean_text(str(raw.get("name", "")))))
            if raw.get("cached") and not vertex.cached:
                vertex.cached = True
                self._keep(f"{vertex.name} CACHED")
            if raw.get("started") and not vertex.started:
                vertex.started = True
                if not vertex.cached:
                    self._keep(vertex.name)
                if STEP.match(vertex.name):
                    started.append(vertex.name + (" (cached)" if vertex.cached else ""))
            if raw.get("error") and vertex.error is None:
                vertex.error = clean_text(str(raw["error"]))
                self._keep(f"ERROR {vertex.name}: {vertex.error}")
        for entry in status.get("logs") or []:
            vertex = self.vertices.setdefault(str(entry.get("vertex", "")), _Vertex(""))
            try:
                data = base64.b64decode(entry.get("data") or b"").decode("utf-8", "replace")
            except ValueError:
                continue
            for line in clean_text(data).splitlines():
                vertex.logs.append(line)
                self._keep(line)
            if len(vertex.logs) > 2000:
                del vertex.logs[:-2000]
        for warning in status.get("warnings") or []:
            short = warning.get("short")
            if short:
                with contextlib.suppress(ValueError):
                    self._keep("WARNING: " + base64.b64decode(short).decode("utf-8", "replace"))
        return started

    def text(self, line: str) -> None:
        line = clean_text(line).rstrip()
        if line:
            self.text_lines.append(line)
            self._keep(line)

    @property
    def steps(self) -> int:
        return sum(1 for v in self.vertices.values() if v.started and STEP.match(v.name))

    def failed(self) -> _Vertex | None:
        return next((v for v in self.vertices.values() if v.error), None)

    def cli_error(self) -> str:
        """The CLI's own error line(s) ('ERROR: failed to solve: ...'), else its last text."""
        errors = [line.removeprefix("ERROR: ") for line in self.text_lines if line.startswith("ERROR")]
        return "; ".join(errors) or (self.text_lines[-1] if self.text_lines else "")

    def log_text(self) -> str:
        return "\n".join(self.lines) + ("\n" if self.lines else "")


@dataclass
class BuildkitRun:
    exit_code: int
    image_id: str | None
    log: BuildkitLog


def run_build(argv: list[str], env: dict[str, str], iidfile: Path, report: Callable[[str | None], None]) -> BuildkitRun:
    """Run `docker buildx build` (blocking; for a worker thread). `report(message)` gets each started
    step; `report(None)` is called at least twice a second, so a cancelled call (report raises) stops
    the build: the CLI is killed, which cancels the build in the engine."""
    log = BuildkitLog()
    decoder = json.JSONDecoder()
    buffer = ""
    process = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
    )
    assert process.stderr is not None
    fd = process.stderr.fileno()
    try:
        eof = False
        while not eof:
            ready, _, _ = select.select([fd], [], [], 0.5)
            report(None)
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            eof = not chunk
            buffer += chunk.decode("utf-8", "replace")
            buffer = _drain(buffer, decoder, log, report, eof)
        exit_code = process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()
    image_id = iidfile.read_text().strip() if exit_code == 0 and iidfile.exists() else None
    return BuildkitRun(exit_code, image_id or None, log)


def _drain(
    buffer: str, decoder: json.JSONDecoder, log: BuildkitLog, report: Callable[[str | None], None], eof: bool
) -> str:
    """Take every complete JSON object and text line from the front of `buffer`; return the rest."""
    while True:
        stripped = buffer.lstrip()
        if not stripped:
            return ""
        if stripped.startswith("{"):
            try:
                status, end = decoder.raw_decode(stripped)
            except json.JSONDecodeError:
                if not eof:
                    return stripped  # the object is not complete yet
                status, end = None, 0
            if isinstance(status, dict):
                for message in log.feed(status):
                    report(message)
                buffer = stripped[end:]
                continue
        line, newline, rest = stripped.partition("\n")
        if not newline and not eof:
            return stripped
        log.text(line)
        buffer = rest


def temporary_iidfile() -> Path:
    handle, name = tempfile.mkstemp(prefix="mcp-docker-iid-")
    os.close(handle)
    Path(name).unlink()
    return Path(name)


@dataclass
class BuildkitResult:
    image_id: str
    steps: int
    log: str


def buildkit_build(
    env: dict[str, str],
    context: Path,
    report: Callable[[str | None], None],
    limit: int,
    *,
    tags: list[str],
    dockerfile: str | None,
    buildargs: dict[str, str] | None,
    target: str | None,
    nocache: bool,
    labels: dict[str, str],
) -> BuildkitResult:
    """Build with BuildKit; a failure is an `EngineError` naming the failing step and its output, as the
    classic builder's."""
    docker_bin = shutil.which("docker", path=env.get("PATH"))
    if docker_bin is None:
        raise EngineError(
            "The docker CLI is missing on the server's machine.", "Install it, or set MCP_DOCKER_BUILDER=classic."
        )
    iidfile = temporary_iidfile()
    argv = build_argv(
        docker_bin, env, context, iidfile=iidfile, tags=tags, dockerfile=dockerfile, buildargs=buildargs,
        target=target, nocache=nocache, labels=labels,
    )  # fmt: skip
    try:
        run = run_build(argv, env, iidfile, report)
    finally:
        iidfile.unlink(missing_ok=True)
    if run.exit_code == 0 and run.image_id:
        return BuildkitResult(run.image_id, run.log.steps, run.log.log_text())
    failed = run.log.failed()
    if failed is None or not STEP.match(failed.name):
        reason = (
            (failed.error if failed else None) or run.log.cli_error() or f"docker buildx exited with {run.exit_code}"
        )
        raise EngineError(
            f"The build was refused before it started:{engine_output(reason, 2000, 'engine error')}",
            "Fix the Dockerfile (or buildargs / target) and build again.",
        )
    raise EngineError(  # the step, its error and its output are engine text: fenced as data
        build_failure(failed.name, failed.error, "\n".join(failed.logs), limit),
        "Fix the Dockerfile or the context and build again.",
    )
