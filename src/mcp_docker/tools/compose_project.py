"""Which files a Compose project reads, checked against the allowed roots BEFORE the CLI reads any of them.

The project directory, its compose files (and the override file Compose adds), `.env`, and every file
those files name for Compose to read (`include`, `extends.file`, `env_file`, `label_file`, include's
`env_file` and `project_directory`) must lie under a bind or build root once symlinks and `..` are
resolved. The raw files are parsed here (YAML only: nothing is expanded), and a file path that uses
a `${VARIABLE}` is refused, since what it expands to is only known once the CLI has read it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp_docker.config import Settings
from mcp_docker.safety.host_paths import resolve, under
from mcp_docker.utils.errors import UnsafeOperation, ValidationError

COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDES = {
    "compose.yaml": ("compose.override.yaml", "compose.override.yml"),
    "compose.yml": ("compose.override.yml", "compose.override.yaml"),
    "docker-compose.yml": ("docker-compose.override.yml", "docker-compose.override.yaml"),
    "docker-compose.yaml": ("docker-compose.override.yaml", "docker-compose.override.yml"),
}
MAX_FILE_BYTES = 2_000_000
MAX_FILES = 64
_ROOTS_SETTING = "MCP_DOCKER_ALLOWED_BIND_ROOTS or MCP_DOCKER_ALLOWED_BUILD_ROOTS"
# `.env` variables that would choose the engine, the files or the env files behind the server's back.
_ENV_REFUSED = re.compile(r"^(DOCKER_.*|COMPOSE_FILE|COMPOSE_ENV_FILES|COMPOSE_PATH_SEPARATOR)$")
_NAME_CHARS = re.compile(r"[^a-z0-9_-]")


@dataclass
class Project:
    directory: Path
    files: list[Path]
    dotenv: dict[str, str] = field(default_factory=dict)
    read: list[Path] = field(default_factory=list)  # every file checked (compose files, includes, env files)


def roots(settings: Settings) -> list[str]:
    return [*settings.allowed_bind_roots, *settings.allowed_build_roots]


def check_read(path: str | Path, settings: Settings, what: str) -> Path:
    """`path` (already absolute) must resolve under a root; returns the resolved path."""
    real = resolve(str(path))
    if not under(real, roots(settings)):
        shown = f" (resolves to {real})" if real != str(path) else ""
        raise UnsafeOperation(
            f"Refused: {what} {str(path)!r}{shown} is outside the allowed roots; Compose would read it. "
            "Nothing was read or created.",
            f"Keep the project and every file it names under a root of {_ROOTS_SETTING}.",
        )
    return Path(real)


def locate(project_dir: str | None, files: list[str] | None, settings: Settings) -> Project:
    """The project directory and its compose files, each under a root; the files Compose would pick by itself
    (compose.yaml and its override) are named explicitly, so COMPOSE_FILE in a `.env` plays no part."""
    if not project_dir and not files:
        raise ValidationError("Give project_dir (a directory with a compose file) and/or files (compose files).")
    directory: Path | None = None
    if project_dir:
        given = Path(project_dir).expanduser()
        if not given.is_absolute():
            raise ValidationError(f"project_dir '{project_dir}' must be an absolute path on the server's machine.")
        directory = check_read(given, settings, "project directory")
        if not directory.is_dir():
            raise ValidationError(f"project_dir '{project_dir}' is not a directory on the server's machine.")
    chosen: list[Path] = []
    for name in files or []:
        path = Path(name).expanduser()
        if not path.is_absolute():
            if directory is None:
                raise ValidationError(f"Compose file '{name}' is relative: give project_dir or an absolute path.")
            path = directory / path
        real = check_read(path, settings, "compose file")
        if not real.is_file():
            raise ValidationError(f"Compose file '{name}' does not exist on the server's machine ({path}).")
        chosen.append(real)
    if directory is None:
        directory = chosen[0].parent
    if not chosen:
        for base in COMPOSE_FILES:
            if (directory / base).is_file():
                chosen.append(check_read(directory / base, settings, "compose file"))
                chosen += [
                    check_read(directory / o, settings, "compose file")
                    for o in OVERRIDES[base][:1]
                    if (directory / o).is_file()
                ]
                break
        else:
            raise ValidationError(
                f"No compose file in '{directory}' (looked for {', '.join(COMPOSE_FILES)}); pass files=[...]."
            )
    project = Project(directory=directory, files=chosen)
    project.dotenv = _dotenv(directory, settings)
    for f in chosen:
        _walk(f, directory, settings, project)
    return project


def _dotenv(directory: Path, settings: Settings) -> dict[str, str]:
    path = directory / ".env"
    if not path.exists():
        return {}
    real = check_read(path, settings, "env file")
    values = parse_env_file(real)
    refused = sorted(k for k in values if _ENV_REFUSED.match(k))
    if refused:
        raise UnsafeOperation(
            f"Refused: the project's .env sets {', '.join(refused)}; the server chooses the engine and the files "
            "Compose reads. Nothing was read or created.",
            "Remove those variables from .env; pass compose files with the files argument.",
        )
    return values


def parse_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (optional `export `, quotes stripped); other lines are skipped, never quoted back."""
    values: dict[str, str] = {}
    text = _read(path)
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        key, sep, value = line.partition("=")
        if sep and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", key.strip()):
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            values[key.strip()] = value
    return values


def _read(path: Path) -> str:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValidationError(f"'{path}' is larger than {MAX_FILE_BYTES} bytes; Compose files are not that big.")
    return path.read_text(encoding="utf-8", errors="replace")


def _load(path: Path) -> Any:
    import yaml  # on the first Compose call, not at start-up (about 30 ms)

    try:
        return yaml.safe_load(_read(path))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise ValidationError(
            f"Compose file '{path}' is not valid YAML{where}.", "Fix the file; its content is not quoted here."
        ) from None


def _paths(value: Any, key: str = "path") -> list[str]:
    """A path, or a list of paths / {path: ...} mappings (env_file's long form)."""
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if isinstance(item, dict):
            item = item.get(key)
        if isinstance(item, list):
            out += [str(i) for i in item]
        elif item is not None:
            out.append(str(item))
    return out


def _named(raw: str, bases: list[Path], settings: Settings, what: str) -> list[Path]:
    if "$" in raw:
        raise UnsafeOperation(
            f"Refused: {what} {raw!r} uses a variable; the server checks file paths before Compose expands them. "
            "Nothing was read or created.",
            "Write the path out (relative to the project directory).",
        )
    path = Path(raw).expanduser()
    targets = [path] if path.is_absolute() else [base / path for base in bases]
    return [check_read(t, settings, what) for t in targets]


def _walk(path: Path, directory: Path, settings: Settings, project: Project) -> None:
    if path in project.read:
        return
    if len(project.read) >= MAX_FILES:
        raise ValidationError(f"The project reads more than {MAX_FILES} files (include/extends); refusing.")
    project.read.append(path)
    data = _load(path)
    if data is None:
        return
    if not isinstance(data, dict):
        raise ValidationError(f"Compose file '{path}' is not a mapping of top-level keys.")
    bases = list(dict.fromkeys([path.parent, directory]))
    for entry in data.get("include") or []:
        for raw in _paths(entry):
            for target in _named(raw, [path.parent], settings, "included file"):
                _walk(target, directory, settings, project)
        if isinstance(entry, dict):
            for raw in _paths(entry.get("env_file")):
                _named(raw, [path.parent], settings, "include env file")
            for raw in _paths(entry.get("project_directory")):
                _named(raw, [path.parent], settings, "include project directory")
    services = data.get("services")
    for name, service in services.items() if isinstance(services, dict) else []:
        if not isinstance(service, dict):
            continue
        extends = service.get("extends")
        if isinstance(extends, dict) and extends.get("file") is not None:
            for target in _named(str(extends["file"]), [path.parent], settings, f"service '{name}' extends file"):
                _walk(target, directory, settings, project)
        for key in ("env_file", "label_file"):
            for raw in _paths(service.get(key)):
                _named(raw, bases, settings, f"service '{name}' {key}")


def default_name(project: Project) -> str:
    """The name Compose v1 gives: COMPOSE_PROJECT_NAME from `.env`, else the directory's name (normalised)."""
    name = project.dotenv.get("COMPOSE_PROJECT_NAME") or project.directory.name
    return _NAME_CHARS.sub("", name.lower())
