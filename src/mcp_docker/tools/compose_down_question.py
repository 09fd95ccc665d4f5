"""The question put to the user before `compose down`: the project's containers, networks and volumes.

Compose itself resolves the project (`ps`, run like the tool runs the CLI: an argument list, the
server's engine, a timeout); the networks and volumes are the engine's objects labelled with the
project's name. Only the `down` action of docker_compose_operations asks (its other actions are not
destructive), so this question is written for `down` alone.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp_docker.safety.confirmation import bounded_list, quote
from mcp_docker.utils.errors import EngineError

if TYPE_CHECKING:
    from mcp_docker.docker.client import Engine

PROJECT_LABEL = "com.docker.compose.project"
_ANONYMOUS = re.compile(r"[0-9a-f]{64}")


def _default_name(project_name: str | None, directory: Path | None, files: list[Path]) -> str:
    """The project name Compose uses when no container tells it: the argument, else the directory's name."""
    if project_name:
        return project_name
    base = directory if directory is not None else (files[0].parent if files else Path.cwd())
    return re.sub(r"[^a-z0-9_-]", "", base.name.lower())


def compose_down_question(eng: Engine, arguments: dict[str, Any]) -> str:
    from mcp_docker.tools.compose_tools import _paths, build_command, compose_cli, compose_env

    directory, files = _paths(arguments.get("project_dir"), arguments.get("files"))
    cli = compose_cli()
    argv = build_command(cli, "ps", directory, files, arguments.get("project_name"), [])
    try:
        done = subprocess.run(argv, capture_output=True, env=compose_env(eng), cwd=directory, timeout=60, check=False)
    except subprocess.TimeoutExpired:
        raise EngineError("Compose did not list the project's containers within 60 s.") from None
    if done.returncode != 0:
        shown = done.stderr.decode("utf-8", "replace").strip()[-1500:]
        raise EngineError(f"Compose could not read the project (exit {done.returncode}):\n{shown}")
    ids = [x for x in done.stdout.decode().split() if re.fullmatch(r"[0-9a-f]{12,64}", x)]
    rows = sorted(eng.api.containers(all=True, filters={"id": ids}) if ids else [], key=lambda r: r["Names"][0])
    labels = [(r.get("Labels") or {}).get(PROJECT_LABEL) for r in rows]
    name = next((x for x in labels if x), None) or _default_name(arguments.get("project_name"), directory, files)
    networks = sorted(quote(n["Name"]) for n in eng.api.networks(filters={"label": f"{PROJECT_LABEL}={name}"}))
    found = eng.api.volumes(filters={"label": f"{PROJECT_LABEL}={name}"})["Volumes"] or []
    volumes = sorted(quote(v["Name"]) for v in found)
    anonymous = sorted(
        {
            m["Name"][:12]
            for r in rows
            for m in r.get("Mounts") or []
            if m.get("Type") == "volume" and _ANONYMOUS.fullmatch(m.get("Name") or "")
        }
    )
    where = f" in {quote(str(directory))}" if directory is not None else ""
    lines = [
        f"Compose down: stop and remove the project {quote(name)}{where}?",
        f"Containers ({len(rows)}): "
        + (bounded_list([f"{quote(r['Names'][0].lstrip('/'))} ({r['State']})" for r in rows]) or "none now")
        + (" - their writable layers are lost." if rows else "."),
        f"Networks ({len(networks)}): {bounded_list(networks) or 'none now'}.",
    ]
    if arguments.get("remove_volumes"):
        gone = volumes + [f"anonymous {a}" for a in anonymous]
        lines.append(f"Volumes deleted with every file in them (remove_volumes=true): {bounded_list(gone) or 'none'}.")
    else:
        lines.append(f"Volumes are kept ({bounded_list(volumes) or 'none'}); images are kept.")
    return "\n".join(lines)
