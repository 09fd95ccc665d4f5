"""Volume tools: list, inspect, create, remove, prune."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from mcp_docker.safety.container_policy import check_volume_driver_opts
from mcp_docker.safety.levels import Level
from mcp_docker.state import Ctx, engine, settings
from mcp_docker.tools.declare import docker_tool
from mcp_docker.tools.image_models import PruneResult, prune_result
from mcp_docker.tools.params import MANAGED_LABEL, object_name
from mcp_docker.tools.prune_questions import volume_prune_question
from mcp_docker.tools.removal_questions import volume_removal_question
from mcp_docker.tools.volume_models import (
    RemovedVolume,
    VolumeDetails,
    VolumeList,
    volume_details,
    volume_summary,
)
from mcp_docker.utils.output import clean_text

VolumeRef = Annotated[str, Field(description="Volume name.", min_length=1)]


@docker_tool(Level.SAFE, "volumes", title="List volumes")
def docker_list_volumes(
    ctx: Ctx,
    filters: Annotated[
        dict[str, str | list[str]] | None,
        Field(description="Engine filters, e.g. {'dangling': 'true'}, {'label': ['env=dev']}, {'name': 'data'}."),
    ] = None,
    limit: Annotated[int, Field(description="Most volumes to return.", ge=1, le=1000)] = 50,
) -> VolumeList:
    """List volumes as compact summaries (name, driver, scope, created, labels)."""
    result = engine(ctx).api.volumes(filters=filters or None)
    rows = sorted(result.get("Volumes") or [], key=lambda r: r.get("Name", ""))
    items = [volume_summary(row) for row in rows[:limit]]
    return VolumeList(
        volumes=items,
        total=len(rows),
        limit=limit,
        truncated=len(rows) > limit,
        warnings=[clean_text(w) for w in result.get("Warnings") or []],
    )


@docker_tool(Level.SAFE, "volumes", title="Inspect volume", subject="volume")
def docker_inspect_volume(ctx: Ctx, volume: VolumeRef) -> VolumeDetails:
    """Show a volume: driver, mount point, labels, options, and the containers that use it."""
    api = engine(ctx).api
    data = api.inspect_volume(volume)
    users = api.containers(all=True, filters={"volume": data["Name"]})
    names = sorted(clean_text((c.get("Names") or [c["Id"][:12]])[0].lstrip("/")) for c in users)
    return volume_details(data, names)


@docker_tool(Level.MODERATE, "volumes", title="Create volume", idempotent=True)
def docker_create_volume(
    ctx: Ctx,
    name: Annotated[str | None, Field(description="Volume name (omit for a generated one).")] = None,
    driver: Annotated[str, Field(description="Volume driver (default 'local').")] = "local",
    labels: Annotated[dict[str, str] | None, Field(description="Labels to set.")] = None,
    driver_opts: Annotated[
        dict[str, str] | None,
        Field(description="Driver options, e.g. for 'local': {'type': 'tmpfs', 'device': 'tmpfs', 'o': 'size=64m'}."),
    ] = None,
) -> VolumeDetails:
    """Create a named volume (the local driver by default).
    Driver options that bind a host path are refused unless the path is under MCP_DOCKER_ALLOWED_BIND_ROOTS."""
    if name is not None:
        name = object_name(name, "volume")
    # A local volume with o=bind / a device path is a bind mount in disguise: same policy as binds.
    check_volume_driver_opts(driver, driver_opts, settings(ctx))
    data = engine(ctx).api.create_volume(
        name=name, driver=driver, driver_opts=driver_opts or None, labels={**(labels or {}), MANAGED_LABEL: "true"}
    )
    return volume_details(data, [])


@docker_tool(Level.DESTRUCTIVE, "volumes", title="Remove volume", subject="volume", confirm=volume_removal_question)
def docker_remove_volume(
    ctx: Ctx,
    volume: VolumeRef,
    force: Annotated[bool, Field(description="Remove even if the driver reports an error.")] = False,
) -> RemovedVolume:
    """Remove a volume and the data in it. A volume a container uses cannot be removed (remove the
    container first)."""
    api = engine(ctx).api
    data = api.inspect_volume(volume)
    api.remove_volume(data["Name"], force=force)
    return RemovedVolume(name=data["Name"], removed=True)


@docker_tool(Level.DESTRUCTIVE, "volumes", title="Prune volumes", confirm=volume_prune_question)
def docker_prune_volumes(
    ctx: Ctx,
    filters: Annotated[
        dict[str, str | list[str]] | None,
        Field(description="Prune filters: {'label': 'env=dev'}, {'label!': 'keep'}."),
    ] = None,
) -> PruneResult:
    """Remove the volumes no container uses (matching the filters); returns what was removed and the
    space reclaimed."""
    result = engine(ctx).api.prune_volumes(filters=filters or None)
    deleted = [clean_text(v) for v in result.get("VolumesDeleted") or []]
    return prune_result(deleted, result.get("SpaceReclaimed"))
