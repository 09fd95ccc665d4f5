"""Output models of the image tools, and the functions that shape engine documents into them.

Also the reading of the engine's progress streams (pull, push, build): pure functions over the
decoded JSON events, so they are easy to follow and to test.
"""

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field

from mcp_docker.utils.errors import REGISTRY_HINT, EngineError
from mcp_docker.utils.output import Model, clean_text, human_size, redact_env

# ---------------------------------------------------------------- list / inspect


class ImageSummary(Model):
    id: str = Field(description="Short id (12 hex characters, without 'sha256:').")
    tags: list[str] = Field(description="repo:tag references; empty for an untagged (dangling) image.")
    size: int = Field(description="Bytes.")
    created: str = Field(description="Creation time, RFC 3339 (UTC).")


class ImageList(Model):
    images: list[ImageSummary]
    total: int = Field(description="How many images matched, before the limit.")
    limit: int
    truncated: bool = Field(description="True when more matched than were returned.")


def short_id(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]


def _rfc3339(seconds: int | float | None) -> str:
    if not seconds:
        return ""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _tags(tags: list[str] | None) -> list[str]:
    return [clean_text(t) for t in tags or [] if t != "<none>:<none>"]


def image_summary(row: dict[str, Any]) -> ImageSummary:
    return ImageSummary(
        id=short_id(row.get("Id", "")),
        tags=_tags(row.get("RepoTags")),
        size=int(row.get("Size") or 0),
        created=_rfc3339(row.get("Created")),
    )


class ImageDetails(Model):
    id: str = Field(description="Full id (sha256:...).")
    tags: list[str]
    digests: list[str] = Field(description="repo@sha256:... references from registries.")
    created: str
    architecture: str
    os: str
    size: int = Field(description="Bytes.")
    layers: int
    entrypoint: list[str]
    command: list[str]
    working_dir: str | None = None
    user: str | None = None
    env: list[str] = Field(description="KEY=value; values redacted as *** unless the operator disabled it.")
    exposed_ports: list[str]
    volumes: list[str]
    labels: dict[str, str]
    raw: dict[str, Any] | None = Field(None, description="The engine's whole document (full=true only).")


def image_details(data: dict[str, Any], redact: bool = True, full: bool = False) -> ImageDetails:
    config = data.get("Config") or {}
    raw = None
    if full:
        raw = {**data, "Config": {**config, "Env": redact_env(config.get("Env"), redact)}}
        if data.get("ContainerConfig"):
            container_config = data["ContainerConfig"]
            raw["ContainerConfig"] = {**container_config, "Env": redact_env(container_config.get("Env"), redact)}
    return ImageDetails(
        id=data.get("Id", ""),
        tags=_tags(data.get("RepoTags")),
        digests=[clean_text(d) for d in data.get("RepoDigests") or []],
        created=data.get("Created", ""),
        architecture=data.get("Architecture", ""),
        os=data.get("Os", ""),
        size=int(data.get("Size") or 0),
        layers=len((data.get("RootFS") or {}).get("Layers") or []),
        entrypoint=[clean_text(c) for c in config.get("Entrypoint") or []],
        command=[clean_text(c) for c in config.get("Cmd") or []],
        working_dir=config.get("WorkingDir") or None,
        user=config.get("User") or None,
        env=redact_env(config.get("Env"), redact),
        exposed_ports=sorted(config.get("ExposedPorts") or {}),
        volumes=sorted(config.get("Volumes") or {}),
        labels={clean_text(k): clean_text(v) for k, v in (config.get("Labels") or {}).items()},
        raw=raw,
    )


class Layer(Model):
    created: str
    created_by: str = Field(description="The instruction that made the layer (cut to 200 characters).")
    size: int = Field(description="Bytes.")
    id: str | None = Field(None, description="Short image id when the layer is an image of its own.")
    tags: list[str] = Field(default_factory=list)


class ImageHistory(Model):
    image: str
    layers: list[Layer] = Field(description="Newest first, like `docker history`.")
    total_size: int


def history_layer(row: dict[str, Any]) -> Layer:
    created_by = clean_text(row.get("CreatedBy") or "").replace("/bin/sh -c #(nop) ", "").strip()
    if len(created_by) > 200:
        created_by = created_by[:199] + "…"
    image_id = row.get("Id") or ""
    return Layer(
        created=_rfc3339(row.get("Created")),
        created_by=created_by,
        size=int(row.get("Size") or 0),
        id=short_id(image_id) if image_id.startswith("sha256:") else None,
        tags=_tags(row.get("Tags")),
    )


# ---------------------------------------------------------------- changes


class PulledImage(Model):
    image: str = Field(description="The reference pulled (repo:tag).")
    id: str
    digest: str | None = Field(None, description="The registry's manifest digest (sha256:...).")
    size: int = Field(description="Bytes of the local image.")
    status: str = Field(description="The engine's last word, e.g. 'Downloaded newer image for ...'.")
    layers: int = Field(description="Layers the registry reported for this image.")


class PushedImage(Model):
    image: str = Field(description="The reference pushed (repo:tag).")
    digest: str | None
    size: int | None = Field(None, description="Bytes of the manifest, as the registry reported.")
    layers: int
    layers_pushed: int = Field(description="Layers uploaded now (the others already existed in the registry).")


class BuiltImage(Model):
    id: str
    tags: list[str]
    builder: Literal["buildkit", "classic"]
    steps: int = Field(description="Build steps run.")
    log_tail: str = Field(description="The end of the build log (bounded).")
    truncated: bool = Field(description="True when the start of the build log was cut.")


class TaggedImage(Model):
    id: str
    tag: str = Field(description="The new reference (repository:tag).")
    tags: list[str] = Field(description="All of the image's references now.")


class RemovedImage(Model):
    image: str
    untagged: list[str]
    deleted: list[str] = Field(description="Short ids of the images (layers) deleted.")


class PruneResult(Model):
    removed: list[str] = Field(description="What was removed (short ids, names or untagged references).")
    count: int
    space_reclaimed: int = Field(description="Bytes.")
    space_reclaimed_human: str


def prune_result(removed: list[str], reclaimed: int | None) -> PruneResult:
    return PruneResult(
        removed=removed,
        count=len(removed),
        space_reclaimed=int(reclaimed or 0),
        space_reclaimed_human=human_size(reclaimed or 0),
    )


# ---------------------------------------------------------------- progress streams


def stream_error(event: dict[str, Any]) -> str | None:
    """The error an engine stream event carries, cleaned; None when it carries none."""
    if "error" not in event and "errorDetail" not in event:
        return None
    detail = event.get("errorDetail") or {}
    text = event.get("error") or detail.get("message") or "unknown error"
    return clean_text(str(text), max_bytes=2000).strip()


@dataclass
class TransferProgress:
    """Per-layer state of a pull or push, read from the engine's JSON events."""

    action: str  # "pull" or "push"
    layers: dict[str, str] = field(default_factory=dict)
    current: dict[str, int] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    status: str = ""
    digest: str | None = None
    size: int | None = None
    pushed: set[str] = field(default_factory=set)
    step: int = 0
    _last_sent: float = 0.0

    _DONE = frozenset({"Pull complete", "Already exists", "Pushed", "Layer already exists", "Mounted from"})

    def feed(self, event: dict[str, Any]) -> str | None:
        """Take one event; return a progress message worth sending, or None (throttled byte ticks)."""
        error = stream_error(event)
        if error is not None:
            raise EngineError(f"{self.action.title()} failed: {error}.", REGISTRY_HINT)
        aux = event.get("aux")
        if isinstance(aux, dict):
            self.digest = aux.get("Digest") or self.digest
            self.size = aux.get("Size") or self.size
            return None
        status = clean_text(str(event.get("status") or ""))
        layer = event.get("id")
        if status.startswith("Digest: "):
            self.digest = status.removeprefix("Digest: ").strip()
        if not layer or status.startswith(("Pulling from", "The push refers to")):
            if status:
                self.status = status
            return None
        layer = str(layer)
        detail = event.get("progressDetail") or {}
        if detail.get("total"):
            self.totals[layer] = int(detail["total"])
        if "current" in detail and status in ("Downloading", "Pushing"):
            self.current[layer] = int(detail["current"])
        if status in self._DONE or status.startswith("Mounted from"):
            if layer in self.totals:
                self.current[layer] = self.totals[layer]
            if status == "Pushed":
                self.pushed.add(layer)
        changed = self.layers.get(layer) != status
        self.layers[layer] = status
        now = time.monotonic()
        if not changed and now - self._last_sent < 0.25:
            return None
        self._last_sent = now
        return self.message(layer, status)

    def done_layers(self) -> int:
        return sum(1 for s in self.layers.values() if s in self._DONE or s.startswith("Mounted from"))

    def message(self, layer: str, status: str) -> str:
        self.step += 1
        moved = sum(self.current.values())
        total = sum(self.totals.values())
        size = f"{human_size(moved)} of {human_size(total)}" if total else human_size(moved)
        verb = "downloaded" if self.action == "pull" else "uploaded"
        return f"{self.done_layers()}/{len(self.layers)} layers done, {size} {verb}; {layer[:12]}: {status}"


@dataclass
class BuildLog:
    """The build's output, read step by step from the engine's JSON events."""

    lines: list[str] = field(default_factory=list)
    step: str | None = None  # "Step 2/3 : RUN false"
    step_start: int = 0  # index in `lines` where the current step's output begins
    steps: int = 0
    image_id: str | None = None
    error: str | None = None  # the first error the engine reported

    def feed(self, event: dict[str, Any]) -> str | None:
        """Take one event; return the step line when a new step starts (worth a progress message)."""
        aux = event.get("aux")
        if isinstance(aux, dict) and aux.get("ID"):
            self.image_id = str(aux["ID"])
        error = stream_error(event)
        if error is not None:
            self.error = self.error or error
            return None
        text = event.get("stream")
        if not isinstance(text, str):
            return None
        new_step = None
        for line in clean_text(text).splitlines():
            if not line.strip():
                continue
            if line.startswith("Step ") and " : " in line:
                self.steps += 1
                self.step = line.strip()
                self.step_start = len(self.lines) + 1
                new_step = self.step
            self.lines.append(line)
        return new_step

    def step_output(self) -> str:
        return "\n".join(self.lines[self.step_start :])

    def text(self) -> str:
        return "\n".join(self.lines) + ("\n" if self.lines else "")
