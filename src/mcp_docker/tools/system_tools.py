"""System tools: info, version, disk usage, prune, health check and (bounded) events."""

import dataclasses
import math
import threading
import time
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import Field

from mcp_docker.safety.levels import Level
from mcp_docker.state import Ctx, engine
from mcp_docker.tools.declare import docker_tool
from mcp_docker.tools.params import Filters, normalise_filters
from mcp_docker.tools.prune_questions import system_prune_question
from mcp_docker.tools.system_models import (
    DiskUsage,
    Event,
    EventList,
    HealthReport,
    SystemInfo,
    SystemPruneResult,
    UnhealthyContainer,
    VersionInfo,
    compact_event,
    disk_usage,
    pruned,
    system_info,
    version_info,
)
from mcp_docker.tools.volume_tools import prune_volumes
from mcp_docker.utils.errors import ValidationError, call_meanings
from mcp_docker.utils.output import clean_text, parse_time

PRUNE_FILTER_KEYS = ("until", "label", "label!")
MAX_EVENT_WAIT = 30.0
PRUNE_ATTEMPTS = 20


def _prune(call: Callable[..., dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    """One prune call; the engine runs one prune of a kind at a time (409), so wait for the other one."""
    import docker.errors

    with call_meanings("prune"):  # a 409 left after the last attempt
        for attempt in range(PRUNE_ATTEMPTS):
            try:
                return call(**kwargs)
            except docker.errors.APIError as exc:
                if exc.status_code != 409 or attempt == PRUNE_ATTEMPTS - 1:
                    raise
                time.sleep(0.5)
    raise AssertionError("unreachable")  # pragma: no cover


@docker_tool(Level.SAFE, "system", title="Engine info", idempotent=True)
def docker_system_info(ctx: Ctx) -> SystemInfo:
    """Facts about the engine and its host."""
    return system_info(engine(ctx).api.info())


@docker_tool(Level.SAFE, "system", title="Engine version", idempotent=True)
def docker_version(ctx: Ctx) -> VersionInfo:
    """Engine versions and the API version negotiated with it."""
    import docker

    api = engine(ctx).api
    return version_info(api.version(), negotiated=api.api_version, library=docker.__version__)


@docker_tool(Level.SAFE, "system", title="Disk usage", idempotent=True)
def docker_system_df(ctx: Ctx) -> DiskUsage:
    """Disk use in bytes by kind, and what a prune would reclaim."""
    return disk_usage(engine(ctx).api.df())


@docker_tool(Level.DESTRUCTIVE, "system", title="System prune", confirm=system_prune_question)
def docker_system_prune(
    ctx: Ctx,
    all: Annotated[bool, Field(description="Every unused image, not only dangling.")] = False,
    volumes: Annotated[
        bool,
        Field(description="Also unused anonymous volumes (data lost)."),
    ] = False,
    filters: Annotated[
        dict[str, str | list[str]] | None,
        Field(description="e.g. {'label!': 'keep'}, {'until': '24h'}; build cache then kept."),
    ] = None,
) -> SystemPruneResult:
    """Remove stopped containers, unused networks, dangling images and build cache."""
    flt = normalise_filters(filters) or {}
    unknown = sorted(set(flt) - set(PRUNE_FILTER_KEYS))
    if unknown:
        raise ValidationError(f"Unknown prune filter(s) {unknown}: use {list(PRUNE_FILTER_KEYS)}.")
    api = engine(ctx).api
    c = _prune(api.prune_containers, filters=flt or None)
    n = _prune(api.prune_networks, filters=flt or None)
    i = _prune(api.prune_images, filters={**flt, "dangling": ["false" if all else "true"]})
    image_items = [
        f"untagged {entry['Untagged']}" if "Untagged" in entry else f"deleted {entry.get('Deleted', '')}"
        for entry in i.get("ImagesDeleted") or []
    ]
    result = SystemPruneResult(
        containers=pruned([cid[:12] for cid in c.get("ContainersDeleted") or []], c.get("SpaceReclaimed")),
        networks=pruned(n.get("NetworksDeleted"), 0),
        images=pruned(image_items, i.get("SpaceReclaimed")),
        space_reclaimed=0,
        filters=flt,
    )
    notes: list[str] = []
    if volumes:
        # `until` is not a volume prune filter; labels are.
        vflt = {k: v for k, v in flt.items() if k != "until"}
        if "until" in flt:
            notes.append("The 'until' filter does not apply to volumes.")
        v = _prune(lambda: prune_volumes(api, vflt, named_too=False))
        result.volumes = pruned(v.get("VolumesDeleted"), v.get("SpaceReclaimed"))
    if flt:
        notes.append("The build cache was not pruned because filters were given.")
    else:
        b = _prune(api.prune_builds, all=all)
        result.build_cache = pruned(b.get("CachesDeleted"), b.get("SpaceReclaimed"))
    kinds = (result.containers, result.networks, result.images, result.volumes, result.build_cache)
    result.space_reclaimed = sum(k.space_reclaimed for k in kinds if k is not None)
    result.note = " ".join(notes) or None
    return result


@docker_tool(Level.SAFE, "system", title="Health check", idempotent=True)
def docker_healthcheck(ctx: Ctx) -> HealthReport:
    """Engine reachable (or why not), latency, versions, unhealthy containers."""
    eng = engine(ctx)
    health = eng.health()
    report = HealthReport(**dataclasses.asdict(health))
    if not health.reachable:
        return report
    api = eng.api
    report.containers_running = len(api.containers(quiet=True))
    report.unhealthy = [
        UnhealthyContainer(
            id=row["Id"][:12],
            name=clean_text((row.get("Names") or ["/"])[0].lstrip("/")),
            image=clean_text(row.get("Image", "")),
            status=clean_text(row.get("Status", "")),
        )
        for row in api.containers(all=True, filters={"health": "unhealthy"})
    ]
    return report


@docker_tool(Level.SAFE, "system", title="Engine events")
def docker_events(
    ctx: Ctx,
    since: Annotated[
        str | None,
        Field(description="RFC 3339, Unix seconds or duration ago ('5m')."),
    ] = None,
    until: Annotated[
        str | None,
        Field(description="Like since; capped at now + max_wait."),
    ] = None,
    filters: Filters = None,
    limit: Annotated[int, Field(description="Max events.", ge=1, le=1000)] = 100,
    max_wait: Annotated[
        float,
        Field(description="Seconds to wait for new events.", ge=0, le=MAX_EVENT_WAIT),
    ] = 3.0,
) -> EventList:
    """Engine events, e.g. filters {'event': ['start', 'die']}; returns after max_wait or limit."""
    now = time.time()
    since_ts = parse_time(since, "since", now)
    until_ts = parse_time(until, "until", now)
    deadline = math.ceil(now + max_wait)
    if until_ts is None or until_ts > deadline:
        until_ts = deadline
    if since_ts is not None and since_ts > until_ts:
        raise ValidationError(f"'since' ({since}) is after 'until' ({until or 'now + max_wait'}).")
    stream = engine(ctx).api.events(since=since_ts, until=until_ts, filters=normalise_filters(filters), decode=True)
    # The engine ends the stream at `until`; the timer is a safety net should it not.
    timer = threading.Timer(max(until_ts - now, 0) + 5, stream.close)
    timer.daemon = True
    timer.start()
    events: list[Event] = []
    truncated = False
    try:
        for raw in stream:
            events.append(compact_event(raw))
            if len(events) >= limit:
                truncated = True
                break
    finally:
        timer.cancel()
        stream.close()
    return EventList(events=events, count=len(events), limit=limit, truncated=truncated, since=since_ts, until=until_ts)
