"""Volume tools: list, inspect, create, remove, prune."""

import re
from typing import Annotated, Any

from pydantic import Field

from mcp_docker.docker.client import api_at_least
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
from mcp_docker.utils.errors import ValidationError
from mcp_docker.utils.output import clean_text

VolumeRef = Annotated[str, Field(description="Volume name.", min_length=1)]


@docker_tool(Level.SAFE, "volumes", title="List volumes")
def docker_list_volumes(
    ctx: Ctx,
    filters: Annotated[
        dict[str, str | list[str]] | None,
        Field(description="Engine filters, e.g. {'dangling': 'true'}."),
    ] = None,
    limit: Annotated[int, Field(description="Max volumes.", ge=1, le=1000)] = 50,
) -> VolumeList:
    """List volumes (name, driver, scope, created, labels)."""
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
    """A volume's configuration and the containers that use it."""
    api = engine(ctx).api
    data = api.inspect_volume(volume)
    return volume_details(data, _users(api, data["Name"]))


def _exists(api: Any, name: str) -> bool:
    import docker.errors

    try:
        api.inspect_volume(name)
    except docker.errors.NotFound:
        return False
    return True


def _users(api: Any, name: str) -> list[str]:
    users = api.containers(all=True, filters={"volume": name})
    return sorted(clean_text((c.get("Names") or [c["Id"][:12]])[0].lstrip("/")) for c in users)


@docker_tool(Level.MODERATE, "volumes", title="Create volume", idempotent=True)
def docker_create_volume(
    ctx: Ctx,
    name: Annotated[str | None, Field(description="Omit for a generated one.")] = None,
    driver: Annotated[str, Field(description="Volume driver.")] = "local",
    labels: Annotated[dict[str, str] | None, Field(description="Labels to set.")] = None,
    driver_opts: Annotated[
        dict[str, str] | None,
        Field(description="e.g. {'type': 'tmpfs', 'device': 'tmpfs', 'o': 'size=64m'}."),
    ] = None,
) -> VolumeDetails:
    """Create a named volume; driver options that bind a host path need it under MCP_DOCKER_ALLOWED_BIND_ROOTS.
    A name in use returns that volume as it is (already_existed=true): its data, driver, options, labels."""
    if name is not None:
        name = object_name(name, "volume")
    # A local volume with o=bind / a device path is a bind mount in disguise: same policy as binds.
    check_volume_driver_opts(driver, driver_opts, settings(ctx))
    api = engine(ctx).api
    # The engine answers a name in use with that volume, as it is: the driver, options and labels asked
    # for are not applied and its data stays. Said, rather than passed off as a new volume.
    existed = name is not None and _exists(api, name)
    data = api.create_volume(
        name=name, driver=driver, driver_opts=driver_opts or None, labels={**(labels or {}), MANAGED_LABEL: "true"}
    )
    return volume_details(data, _users(api, data["Name"]) if existed else [], already_existed=existed)


@docker_tool(Level.DESTRUCTIVE, "volumes", title="Remove volume", subject="volume", confirm=volume_removal_question)
def docker_remove_volume(
    ctx: Ctx,
    volume: VolumeRef,
    force: Annotated[bool, Field(description="Even if the driver errs.")] = False,
) -> RemovedVolume:
    """Remove a volume and its data; remove the containers that use it first."""
    api = engine(ctx).api
    data = api.inspect_volume(volume)
    api.remove_volume(data["Name"], force=force)
    return RemovedVolume(name=data["Name"], removed=True)


ANONYMOUS = re.compile(r"[0-9a-f]{64}")
NAMED_PRUNE_API = "1.42"
"""Since API 1.42 the engine's prune removes only anonymous volumes unless the filter all=true is given."""


def _label_match(labels: dict[str, str], wanted: str | list[str]) -> bool:
    def one(spec: str) -> bool:
        key, sep, value = spec.partition("=")
        return key in labels and (not sep or labels[key] == value)

    return all(one(spec) for spec in ([wanted] if isinstance(wanted, str) else wanted))


def prune_candidates(api: Any, filters: dict[str, Any], named_too: bool) -> list[str]:
    """The volumes a prune would remove: unused, local driver, matching the label filters, anonymous
    (a 64-hex name) unless `named_too`."""
    rows = api.volumes(filters={"dangling": "true"}).get("Volumes") or []
    names = []
    for row in rows:
        labels = row.get("Labels") or {}
        if row.get("Driver") != "local" or not (named_too or ANONYMOUS.fullmatch(row.get("Name", ""))):
            continue
        if "label" in filters and not _label_match(labels, filters["label"]):
            continue
        if "label!" in filters and _label_match(labels, filters["label!"]):
            continue
        names.append(str(row["Name"]))
    return sorted(names)


@docker_tool(Level.DESTRUCTIVE, "volumes", title="Prune volumes", confirm=volume_prune_question)
def docker_prune_volumes(
    ctx: Ctx,
    filters: Annotated[
        dict[str, str | list[str]] | None,
        Field(description="e.g. {'label!': 'keep'}."),
    ] = None,
    all: Annotated[
        bool,
        Field(description="Also unused named volumes."),
    ] = False,
) -> PruneResult:
    """Remove unused volumes (anonymous only unless all=true); returns them and the space reclaimed."""
    prune_filters: dict[str, Any] = dict(filters or {})
    result = prune_volumes(engine(ctx).api, prune_filters, named_too=all)
    deleted = [clean_text(v) for v in result.get("VolumesDeleted") or []]
    return prune_result(deleted, result.get("SpaceReclaimed"))


def prune_volumes(api: Any, filters: dict[str, Any], named_too: bool) -> dict[str, Any]:
    """The same prune on every engine: unused anonymous volumes, named ones too with `named_too`.
    Since API 1.42 that is the engine's filter all=true; before, the engine's prune took named ones
    too, so anonymous-only is done volume by volume."""
    if "all" in filters:
        raise ValidationError("Pass all=true as the tool's argument, not as a filter.")
    if api_at_least(api.api_version, NAMED_PRUNE_API) or named_too:
        wanted = {**filters, "all": "true"} if named_too and api_at_least(api.api_version, NAMED_PRUNE_API) else filters
        result: dict[str, Any] = api.prune_volumes(filters=wanted or None)
        return result
    return _prune_anonymous(api, filters)


def _prune_anonymous(api: Any, filters: dict[str, Any]) -> dict[str, Any]:
    """An engine before API 1.42 prunes named volumes too: remove its unused anonymous ones one by one."""
    import docker.errors

    unknown = sorted(set(filters) - {"label", "label!"})
    if unknown:
        raise ValidationError(f"Unknown prune filter(s) {unknown}: use 'label' or 'label!'.")
    deleted = []
    for name in prune_candidates(api, filters, named_too=False):
        try:
            api.remove_volume(name)
        except docker.errors.APIError as exc:
            if exc.status_code in (404, 409):  # gone meanwhile, or a container took it since the listing
                continue
            raise
        deleted.append(name)
    return {"VolumesDeleted": deleted, "SpaceReclaimed": None}
