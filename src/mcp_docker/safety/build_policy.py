"""What a build may do: the Dockerfile lies inside the context, and its instructions reach nothing the
operator did not allow.

A build runs the Dockerfile's steps on the engine's host. Without this policy a model could read any
host file through the build (`dockerfile: /etc/passwd`: docker-py sends a Dockerfile outside the
context along with it, and the engine echoes its lines in the error), fetch from the network
(`ADD https://...`, `ADD git@...`), or run a step in the host's network namespace or without the
sandbox (`RUN --network=host`, `RUN --security=insecure`). `check_build` is the one function the
build paths (docker-py's builder and BuildKit) call before anything is sent to the engine.

The Dockerfile is parsed without heredoc support: every line (after joining continuations) is read
as an instruction, so a heredoc body can only cause a refusal, never hide an instruction. Values
with `$` in the positions checked (ADD sources, --from, RUN flags) cannot be checked before the
engine substitutes them, so they are refused too.

Pure: reads only the Dockerfile; unit-tested directly and attacked through the build tool.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mcp_docker.utils.errors import UnsafeOperation, ValidationError, engine_output

if TYPE_CHECKING:
    from mcp_docker.config import Settings

NETWORK_SETTING = "MCP_DOCKER_ALLOW_BUILD_NETWORK"
MAX_DOCKERFILE_BYTES = 1024 * 1024
_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z]+)\s*=\s*(.*?)\s*$")
_URL = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*://|git@|[\w.-]+@[\w.-]+:)")
_OFFICIAL_FRONTEND = re.compile(
    r"^(?:docker\.io/)?docker/dockerfile(?:-upstream)?(?::[\w.-]+)?(?:@sha256:[0-9a-f]{64})?$"
)
_DEFAULT_NETWORKS = {"", "default", "none"}


@dataclass(frozen=True)
class Instruction:
    line: int
    keyword: str
    args: str


def check_build(
    context: str | Path,
    dockerfile: str | None,
    settings: Settings,
    *,
    buildargs: Mapping[str, str] | None = None,
    network_mode: str | None = None,
    extra_hosts: Mapping[str, str] | list[str] | None = None,
) -> Path:
    """Check a build before it is sent: return the resolved Dockerfile (inside `context`), or raise
    `ValidationError` (bad input) / `UnsafeOperation` (refused by the policy)."""
    root = Path(context).expanduser().resolve()
    name = dockerfile or "Dockerfile"
    file = (root / name).resolve()
    if not file.is_relative_to(root):
        raise ValidationError(
            f"The Dockerfile {name!r} must be inside the build context {str(context)!r} (after following links "
            "and '..'). Pass its path relative to the context."
        )
    if not file.is_file():
        raise ValidationError(
            f"No Dockerfile {name!r} in {str(context)!r}. Pass dockerfile= with its name in the context."
        )
    if file.stat().st_size > MAX_DOCKERFILE_BYTES:
        raise ValidationError(f"The Dockerfile {name!r} is over {MAX_DOCKERFILE_BYTES} bytes.")
    allow_network = settings.allow_build_network
    if not allow_network:
        if network_mode is not None and network_mode not in _DEFAULT_NETWORKS:
            raise _refuse(f"network_mode={network_mode!r} for the build")
        if extra_hosts:
            raise _refuse("extra_hosts for the build")
    if buildargs and any(key.upper() == "BUILDKIT_SYNTAX" for key in buildargs):
        raise UnsafeOperation(
            "Refused: the build argument BUILDKIT_SYNTAX chooses the build frontend, which this server cannot "
            "check. Remove it; nothing was sent to the engine."
        )
    check_dockerfile(file.read_text(encoding="utf-8", errors="replace"), settings)
    return file


def build_failure(step: str | None, error: str | None, output: str, limit: int) -> str:
    """The message of a failed build. The step line and the engine's error echo the Dockerfile, and the
    output is the step's own: all of it is fenced as engine data (see `engine_output`)."""
    # The classic builder says "Step 2/3 : RUN ..."; BuildKit "[2/3] RUN ..." or "[stage 2/3] RUN ...".
    number = re.match(r"Step (\d+/\d+)", step or "") or re.match(r"\[(?:[^\]]* )?(\d+/\d+)\]", step or "")
    where = f"at step {number.group(1)}" if number else ("at a step" if step else "before the first step")
    report = f"{step or '(no step)'}\n{error or 'no image was produced'}"
    return (
        f"The build failed {where}. The step and the engine's error:{engine_output(report, 2000, 'engine error')}"
        f"Output of that step:{engine_output(output, limit, 'build step output')}"
    )


def check_dockerfile(text: str, settings: Settings) -> None:
    """Refuse the instructions the settings do not allow (see the module's docstring)."""
    escape, frontend = _directives(text)
    if frontend is not None and not _OFFICIAL_FRONTEND.match(frontend):
        raise UnsafeOperation(
            f"Refused: the Dockerfile's '# syntax={frontend}' names a custom build frontend, which runs its own "
            "code and cannot be checked by this server. Remove the line or use docker/dockerfile; nothing was "
            "sent to the engine."
        )
    for ins in parse(text, escape):
        _check(ins, settings)
        if ins.keyword == "ONBUILD":
            keyword, _, rest = ins.args.strip().partition(" ")
            _check(Instruction(ins.line, keyword.upper(), rest), settings)


def _check(ins: Instruction, settings: Settings) -> None:
    if ins.keyword not in ("ADD", "COPY", "RUN"):
        return
    flags, rest = _flags(ins.args)
    if ins.keyword in ("ADD", "COPY") and "from" in flags and not settings.allow_build_network:
        # A stage name or an image (pulled like FROM's); a URL or a named context is another source.
        source = flags["from"]
        if "$" in source or ":/" in source:
            raise _refuse(f"line {ins.line}: {ins.keyword} --from={source} (only a build stage or an image)")
    if ins.keyword == "ADD" and not settings.allow_build_network:
        # Words as a shell would split them and as plain whitespace does: a URL in either is refused.
        sources: list[str] = []
        for words in (_sources(rest), rest.split()):
            sources.extend(words[:-1] or words)  # the last word is the destination
        for source in sources:
            if "$" in source:
                raise _refuse(f"line {ins.line}: ADD {source} (a variable source could be a URL; use COPY)")
            if _URL.match(source):
                raise _refuse(f"line {ins.line}: ADD {source} (ADD fetches URLs and git repositories)")
    if ins.keyword == "RUN":
        for key, value in flags.items():
            if key == "network" and value.lower() not in _DEFAULT_NETWORKS and not settings.allow_build_network:
                raise _refuse(f"line {ins.line}: RUN --network={value}")
            if key == "security" and value.lower() != "sandbox" and not settings.allow_privileged:
                raise UnsafeOperation(
                    f"Refused: line {ins.line}: RUN --security={value} runs the step without the sandbox (like a "
                    "privileged container). Remove the flag, or the operator sets MCP_DOCKER_ALLOW_PRIVILEGED=true; "
                    "nothing was sent to the engine."
                )


def _refuse(what: str) -> UnsafeOperation:
    return UnsafeOperation(
        f"Refused: {what} reaches the network or the host's network from the build. Remove it (COPY files from "
        f"the context instead), or the operator sets {NETWORK_SETTING}=true; nothing was sent to the engine."
    )


def _directives(text: str) -> tuple[str, str | None]:
    """The parser directives at the top of a Dockerfile: the escape character and the syntax frontend."""
    escape = "\\"
    frontend: str | None = None
    for raw in text.splitlines():
        match = _DIRECTIVE.match(raw.strip())
        if not match:
            break
        key, value = match.group(1).lower(), match.group(2)
        if key == "escape" and value in ("\\", "`"):
            escape = value
        elif key == "syntax":
            frontend = value
    return escape, frontend


def parse(text: str, escape: str = "\\") -> Iterator[Instruction]:
    """Instructions with continuations joined and comments dropped (no heredocs, see the docstring)."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not pending:
            start = number
            if not line or line.startswith("#"):
                continue
        elif line.startswith("#") or not line:
            continue  # comments and empty lines inside a continued instruction are skipped, as Docker does
        if line.endswith(escape):
            pending.append(line[:-1])
            continue
        pending.append(line)
        joined = " ".join(pending).strip()
        pending = []
        keyword, _, args = joined.partition(" ")
        yield Instruction(start, keyword.upper(), args.strip())
    if pending:
        joined = " ".join(pending).strip()
        keyword, _, args = joined.partition(" ")
        yield Instruction(start, keyword.upper(), args.strip())


def _words(args: str) -> list[str]:
    try:
        return shlex.split(args, posix=True)
    except ValueError:
        return args.split()


def _flags(args: str) -> tuple[dict[str, str], str]:
    """Leading `--name=value` flags (names lower-cased; `--name value` read too) and the rest."""
    flags: dict[str, str] = {}
    rest = args.strip()
    while rest.startswith("--"):
        word, _, tail = rest.partition(" ")
        name, eq, value = word[2:].partition("=")
        if not eq and name.lower() in ("from", "network", "security", "chown", "chmod", "checksum", "mount"):
            value, _, tail = tail.strip().partition(" ")
        key = name.lower()
        flags[key] = f"{flags[key]},{value}" if key in flags and key != "mount" else value
        rest = tail.strip()
    return flags, rest


def _sources(rest: str) -> list[str]:
    """The words of an ADD/COPY (JSON or shell form); the last is the destination."""
    if rest.startswith("["):
        try:
            values = json.loads(rest)
        except ValueError:
            values = None
        if isinstance(values, list):
            return [str(v) for v in values]
    return _words(rest)
