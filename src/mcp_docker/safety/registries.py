"""Where images may be pushed: only to registries the operator allows.

A push sends an image's layers (and whatever files were built or committed into them) off the
machine. `MCP_DOCKER_ALLOWED_REGISTRIES` lists the registries (host[:port]) a push may go to; `*`
allows any. Unset, the allowed registries are the ones the server user's Docker config file holds
credentials for (its `auths` and `credHelpers` keys): the registries the operator logged in to.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from mcp_docker.utils.errors import UnsafeOperation

if TYPE_CHECKING:
    from mcp_docker.config import Settings

SETTING = "MCP_DOCKER_ALLOWED_REGISTRIES"
DOCKER_HUB = "docker.io"
_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}


def normalise(registry: str) -> str:
    """`https://index.docker.io/v1/` → `docker.io`; `HTTPS://Reg.Example.com:5000/v2/` → `reg.example.com:5000`."""
    host = registry.strip().lower()
    if "://" in host:
        host = host.split("://", 1)[1]
    host = host.split("/", 1)[0]
    return DOCKER_HUB if host in _HUB_ALIASES else host


def registry_of(repository: str) -> str:
    """The registry an image name points at (Docker's rule: a first component with '.' or ':', or
    'localhost', is a registry; otherwise Docker Hub)."""
    first, sep, _ = repository.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return normalise(first)
    return DOCKER_HUB


def logged_in_registries() -> set[str]:
    """The registries the Docker config file (DOCKER_CONFIG or ~/.docker/config.json) has credentials for."""
    from docker.utils.config import find_config_file

    found = find_config_file()
    if not found:
        return set()
    try:
        data = json.loads(Path(found).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    if not isinstance(data, dict):
        return set()
    keys: list[str] = []
    for section in ("auths", "credHelpers"):
        value = data.get(section)
        if isinstance(value, dict):
            keys.extend(str(k) for k in value)
    return {normalise(k) for k in keys if k.strip()}


def allowed_registries(settings: Settings) -> set[str]:
    if settings.allowed_registries:
        return {"*" if r.strip() == "*" else normalise(r) for r in settings.allowed_registries}
    return logged_in_registries()


def check_push(repository: str, settings: Settings) -> str:
    """Refuse a push to a registry that is not allowed; return the registry."""
    registry = registry_of(repository)
    allowed = allowed_registries(settings)
    if "*" in allowed or registry in allowed:
        return registry
    where = ", ".join(sorted(allowed)) if allowed else "none"
    source = SETTING if settings.allowed_registries else f"the Docker config's logged-in registries ({SETTING} unset)"
    raise UnsafeOperation(
        f"Refused: pushing to the registry '{registry}', which is not allowed (allowed: {where}, from {source}). "
        f"Push to an allowed registry, or the operator adds '{registry}' to {SETTING} (or logs in to it with "
        "`docker login`); nothing was sent."
    )
