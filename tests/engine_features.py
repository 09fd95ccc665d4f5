"""Tests that only mean something on some engines: `@pytest.mark.engine_feature("buildkit")`.

A marked test runs only where the engine under test (MCPT_ENGINE, tests/engine.py) has every feature
it names; elsewhere it is deselected before the run and listed at the end as "not applicable on this
engine" (never a skip counted with the passes). Features:
- `buildkit` / `classic-builder`: which builder docker_build_image uses here by default (BuildKit
  when `docker buildx` answers for this session's CLI configuration, else the classic builder);
- `compose-v2` / `compose-v1`: which Compose CLI the compose tool uses here;
- `api>=1.42`, `api<1.42` (any version): the engine's negotiated API version.
"""

from __future__ import annotations

import os
import re
from typing import Any

import pytest

from tests import engine as test_engine

_NOT_APPLICABLE = pytest.StashKey[list[tuple[str, list[str]]]]()
_ENGINE = pytest.StashKey[str]()
_API = re.compile(r"^api(>=|<)(\d+\.\d+)$")


def _builder() -> str:
    from mcp_docker.docker import buildx

    return "buildkit" if buildx.buildx_available(dict(os.environ)) else "classic-builder"


def has_builder() -> str:
    """'buildkit' or 'classic': what docker_build_image takes by default in this session."""
    return "buildkit" if _builder() == "buildkit" else "classic"


def _compose() -> str:
    choice = os.environ.get("MCP_DOCKER_COMPOSE_CLI")
    if choice in ("v1", "v2"):
        return f"compose-{choice}"
    from mcp_docker.tools import compose_tools

    try:
        cli = compose_tools.compose_cli()
    except Exception:
        return "no-compose"
    return "compose-v2" if len(cli) == 2 else "compose-v1"


def has(feature: str, api_version: str) -> bool:
    match = _API.match(feature)
    if match:
        before = test_engine.api_before(api_version, match.group(2))
        return before if match.group(1) == "<" else not before
    if feature in ("buildkit", "classic-builder"):
        return _builder() == feature
    if feature in ("compose-v1", "compose-v2"):
        return _compose() == feature
    raise pytest.UsageError(f"unknown engine feature {feature!r} (see tests/engine_features.py)")


def deselect_not_applicable(config: pytest.Config, items: list[pytest.Item]) -> None:
    marked = [item for item in items if item.get_closest_marker("engine_feature")]
    if not marked:
        return
    api_version = test_engine.session_engine().api_version
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    reasons: list[tuple[str, list[str]]] = []
    for item in items:
        marker = item.get_closest_marker("engine_feature")
        missing = [f for f in (marker.args if marker else ()) if not has(f, api_version)]
        if missing:
            dropped.append(item)
            reasons.append((item.nodeid, missing))
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
    config.stash[_NOT_APPLICABLE] = reasons
    handle = test_engine.session_engine()
    config.stash[_ENGINE] = f"{handle.kind}, API {handle.api_version}"


def summary(reporter: Any, config: pytest.Config) -> None:
    reasons = config.stash.get(_NOT_APPLICABLE, [])
    if not reasons:
        return
    engine = config.stash.get(_ENGINE, "")
    reporter.write_sep("=", f"{len(reasons)} not applicable on this engine ({engine}; not run)")
    for nodeid, missing in reasons:
        reporter.write_line(f"{nodeid}: needs {', '.join(missing)}")
