"""Output models of the volume tools, and the functions that shape engine volume documents."""

from typing import Any

from pydantic import Field

from mcp_docker.tools.params import clean_labels
from mcp_docker.utils.output import Model, clean_text


class VolumeSummary(Model):
    name: str
    driver: str
    scope: str
    created: str | None = None
    labels: dict[str, str]


class VolumeList(Model):
    volumes: list[VolumeSummary]
    total: int = Field(description="How many volumes matched, before the limit.")
    limit: int
    truncated: bool
    warnings: list[str] = Field(default_factory=list)


def volume_summary(row: dict[str, Any]) -> VolumeSummary:
    return VolumeSummary(
        name=clean_text(row.get("Name", "")),
        driver=row.get("Driver", ""),
        scope=row.get("Scope", ""),
        created=row.get("CreatedAt") or None,
        labels=clean_labels(row.get("Labels")),
    )


class VolumeDetails(Model):
    name: str
    driver: str
    scope: str
    mountpoint: str
    created: str | None = None
    labels: dict[str, str]
    options: dict[str, str]
    used_by: list[str] = Field(description="Names of the containers (running or not) that mount this volume.")
    already_existed: bool | None = Field(
        None,
        description="From docker_create_volume: true when the name was in use, and that volume is returned as "
        "it was (its data kept; the driver, options and labels asked for not applied).",
    )


def volume_details(data: dict[str, Any], used_by: list[str], already_existed: bool | None = None) -> VolumeDetails:
    return VolumeDetails(
        name=clean_text(data.get("Name", "")),
        driver=data.get("Driver", ""),
        scope=data.get("Scope", ""),
        mountpoint=data.get("Mountpoint", ""),
        created=data.get("CreatedAt") or None,
        labels=clean_labels(data.get("Labels")),
        options=clean_labels(data.get("Options")),
        used_by=used_by,
        already_existed=already_existed,
    )


class RemovedVolume(Model):
    name: str
    removed: bool
