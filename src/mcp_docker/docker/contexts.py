"""docker CLI contexts, chosen as the CLI chooses them: `DOCKER_HOST` first, else `DOCKER_CONTEXT`, else
config.json's `currentContext`, else the default (the local socket).

docker-py falls back to the local socket, silently, for a context it cannot find; the CLI refuses
(`context "x": context not found`), and so does this server: talking to another engine than the one
named would be worse than not talking at all.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from mcp_docker.utils.errors import DockerDaemonUnavailable
from mcp_docker.utils.logger import logger

DEFAULT_SOCKET = "unix:///var/run/docker.sock"


def chosen_context(environ: Mapping[str, str]) -> tuple[str, str]:
    """The context the environment chooses (no `DOCKER_HOST`), and what chose it."""
    from docker.context.config import get_current_context_name

    if environ.get("DOCKER_CONTEXT"):
        return environ["DOCKER_CONTEXT"], "DOCKER_CONTEXT"
    return str(get_current_context_name() or "default"), "config.json's currentContext"


def _load(name: str) -> object | None:
    """docker-py's context `name` (None: there is none); a context it cannot read is a clear refusal."""
    from docker.context import ContextAPI

    try:
        context: object | None = ContextAPI.get_context(name)
    except Exception as exc:  # docker-py raises a bare Exception (or KeyError) for a corrupt meta.json
        refusal = DockerDaemonUnavailable(
            f"The docker context {name!r} cannot be read: {exc}.",
            f"Repair its meta.json, or remove it with `docker context rm {name}` and create it again.",
        )
        refusal.endpoint = f"context {name!r}"  # said already
        raise refusal from exc
    return context


def require_context(name: str, source: str) -> str:
    """`name`, once docker-py finds that context; otherwise a clear refusal saying where it looked."""
    from docker.utils.config import find_config_file

    if name == "default" or _load(name) is not None:
        return name
    config = find_config_file()
    folder = os.environ.get("DOCKER_CONFIG") or os.path.expanduser("~/.docker")
    where = (
        os.path.dirname(config)
        if config
        else f"{folder}, which has no config.json (docker-py reads contexts only beside one)"
    )
    refusal = DockerDaemonUnavailable(
        f"No docker context {name!r} ({source} names it) in {where}.",
        "Create it with `docker context create`, choose one `docker context ls` lists, or check DOCKER_CONFIG "
        "(the folder holding config.json and contexts/).",
    )
    refusal.endpoint = f"context {name!r}"  # said already
    raise refusal


def require_chosen_context(environ: Mapping[str, str] | None) -> None:
    """Refuse a `DOCKER_CONTEXT` or current context that does not exist (no `DOCKER_HOST` set)."""
    env = os.environ if environ is None else environ
    if not env.get("DOCKER_HOST"):
        require_context(*chosen_context(env))


def describe_endpoint(environ: Mapping[str, str] | None = None) -> str:
    """Where the engine will be looked for, as the docker CLI would decide."""
    env = os.environ if environ is None else environ
    if env.get("DOCKER_HOST"):
        return env["DOCKER_HOST"]
    name, _ = chosen_context(env)
    try:
        ctx: Any = _load(name)
    except DockerDaemonUnavailable as exc:  # a broken context file must not stop the server from starting
        logger.warning("could not read the docker context: {}", exc.message)
        return f"context {name!r} (unreadable)"
    if ctx is None:
        return f"context {name!r} (not found)"
    if ctx.Host:
        host: str = ctx.Host
        return host if ctx.Name == "default" else f"{host} (context {ctx.Name})"
    return DEFAULT_SOCKET
