"""Output models of the system tools, and the functions that shape engine documents into them."""

from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from mcp_docker.utils.output import Model, clean_text

# ---------------------------------------------------------------- info / version


class SystemInfo(Model):
    name: str = Field(description="The engine host's name.")
    server_version: str
    operating_system: str
    os_type: str
    kernel_version: str
    architecture: str
    cpus: int
    memory_bytes: int
    storage_driver: str
    logging_driver: str
    cgroup_driver: str | None = None
    cgroup_version: str | None = None
    docker_root_dir: str
    containers: int
    containers_running: int
    containers_paused: int
    containers_stopped: int
    images: int
    swarm: str = Field(description="Swarm state of this node: inactive, active, pending...")
    default_runtime: str | None = None
    security_options: list[str] = Field(default_factory=list)
    registry_mirrors: list[str] = Field(default_factory=list)
    insecure_registries: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


def system_info(data: dict[str, Any]) -> SystemInfo:
    registry = data.get("RegistryConfig") or {}
    return SystemInfo(
        name=clean_text(data.get("Name", "")),
        server_version=data.get("ServerVersion", ""),
        operating_system=clean_text(data.get("OperatingSystem", "")),
        os_type=data.get("OSType", ""),
        kernel_version=clean_text(data.get("KernelVersion", "")),
        architecture=data.get("Architecture", ""),
        cpus=data.get("NCPU", 0),
        memory_bytes=data.get("MemTotal", 0),
        storage_driver=data.get("Driver", ""),
        logging_driver=data.get("LoggingDriver", ""),
        cgroup_driver=data.get("CgroupDriver"),
        cgroup_version=data.get("CgroupVersion"),
        docker_root_dir=data.get("DockerRootDir", ""),
        containers=data.get("Containers", 0),
        containers_running=data.get("ContainersRunning", 0),
        containers_paused=data.get("ContainersPaused", 0),
        containers_stopped=data.get("ContainersStopped", 0),
        images=data.get("Images", 0),
        swarm=(data.get("Swarm") or {}).get("LocalNodeState", "") or "inactive",
        default_runtime=data.get("DefaultRuntime"),
        security_options=[clean_text(s) for s in data.get("SecurityOptions") or []],
        registry_mirrors=[clean_text(s) for s in registry.get("Mirrors") or []],
        insecure_registries=[clean_text(s) for s in registry.get("InsecureRegistryCIDRs") or []],
        warnings=[clean_text(w, max_bytes=300) for w in data.get("Warnings") or []],
    )


class Component(Model):
    name: str
    version: str


class VersionInfo(Model):
    server_version: str
    api_version: str = Field(description="Highest API version the engine speaks.")
    min_api_version: str | None = None
    negotiated_api_version: str = Field(description="API version this server uses with the engine.")
    client_library: str = Field(description="docker-py version used by this server.")
    go_version: str | None = None
    git_commit: str | None = None
    os: str
    arch: str
    kernel_version: str | None = None
    build_time: str | None = None
    experimental: bool = False
    components: list[Component] = Field(default_factory=list)


def version_info(data: dict[str, Any], negotiated: str, library: str) -> VersionInfo:
    return VersionInfo(
        server_version=data.get("Version", ""),
        api_version=data.get("ApiVersion", ""),
        min_api_version=data.get("MinAPIVersion"),
        negotiated_api_version=negotiated,
        client_library=library,
        go_version=data.get("GoVersion"),
        git_commit=data.get("GitCommit"),
        os=data.get("Os", ""),
        arch=data.get("Arch", ""),
        kernel_version=data.get("KernelVersion"),
        build_time=data.get("BuildTime"),
        experimental=bool(data.get("Experimental")),
        components=[
            Component(name=clean_text(c.get("Name", "")), version=clean_text(c.get("Version", "")))
            for c in data.get("Components") or []
        ],
    )


# ---------------------------------------------------------------- df


class UsageKind(Model):
    count: int
    active: int = Field(description="In use (images used by a container, running containers, referenced volumes).")
    size: int = Field(description="Bytes.")
    reclaimable: int = Field(description="Bytes a prune could free.")


class DiskUsage(Model):
    images: UsageKind
    containers: UsageKind
    volumes: UsageKind
    build_cache: UsageKind
    total_size: int
    total_reclaimable: int


def disk_usage(data: dict[str, Any]) -> DiskUsage:
    images = data.get("Images") or []
    layers = int(data.get("LayersSize") or 0)
    used = 0
    for img in images:
        if img.get("Containers", 0) > 0:
            size = img.get("VirtualSize", img.get("Size", -1))
            shared = img.get("SharedSize", -1)
            if size >= 0 and shared >= 0:
                used += size - shared
    image_kind = UsageKind(
        count=len(images),
        active=sum(1 for i in images if i.get("Containers", 0) > 0),
        size=layers,
        reclaimable=max(layers - used, 0),
    )

    containers = data.get("Containers") or []
    c_size = sum(int(c.get("SizeRw") or 0) for c in containers)
    container_kind = UsageKind(
        count=len(containers),
        active=sum(1 for c in containers if c.get("State") == "running"),
        size=c_size,
        reclaimable=sum(int(c.get("SizeRw") or 0) for c in containers if c.get("State") != "running"),
    )

    volumes = data.get("Volumes") or []

    def vsize(v: dict[str, Any]) -> int:
        return max(int((v.get("UsageData") or {}).get("Size", 0) or 0), 0)

    def refs(v: dict[str, Any]) -> int:
        return int((v.get("UsageData") or {}).get("RefCount", 0) or 0)

    volume_kind = UsageKind(
        count=len(volumes),
        active=sum(1 for v in volumes if refs(v) > 0),
        size=sum(vsize(v) for v in volumes),
        reclaimable=sum(vsize(v) for v in volumes if refs(v) == 0),
    )

    caches = data.get("BuildCache") or []
    cache_kind = UsageKind(
        count=len(caches),
        active=sum(1 for b in caches if b.get("InUse")),
        size=sum(int(b.get("Size") or 0) for b in caches if not b.get("Shared")),
        reclaimable=sum(int(b.get("Size") or 0) for b in caches if not b.get("InUse") and not b.get("Shared")),
    )
    kinds = (image_kind, container_kind, volume_kind, cache_kind)
    return DiskUsage(
        images=image_kind,
        containers=container_kind,
        volumes=volume_kind,
        build_cache=cache_kind,
        total_size=sum(k.size for k in kinds),
        total_reclaimable=sum(k.reclaimable for k in kinds),
    )


# ---------------------------------------------------------------- prune


class PrunedKind(Model):
    removed: list[str] = Field(description="What went (ids or names; at most 50 listed).")
    count: int
    space_reclaimed: int = Field(0, description="Bytes.")


class SystemPruneResult(Model):
    containers: PrunedKind
    networks: PrunedKind
    images: PrunedKind
    volumes: PrunedKind | None = Field(None, description="Only when volumes=true was asked.")
    build_cache: PrunedKind | None = Field(None, description="Only when no filters were given.")
    space_reclaimed: int = Field(description="Bytes, all kinds together.")
    filters: dict[str, list[str]] = Field(default_factory=dict)
    note: str | None = None


def pruned(items: list[str] | None, space: int | None) -> PrunedKind:
    names = [clean_text(i, max_bytes=200) for i in items or []]
    return PrunedKind(removed=names[:50], count=len(names), space_reclaimed=int(space or 0))


# ---------------------------------------------------------------- health / events


class UnhealthyContainer(Model):
    id: str
    name: str
    image: str
    status: str


class HealthReport(Model):
    reachable: bool
    endpoint: str
    latency_ms: float | None = None
    server_version: str | None = None
    api_version: str | None = None
    os: str | None = None
    arch: str | None = None
    containers_running: int | None = None
    unhealthy: list[UnhealthyContainer] = Field(
        default_factory=list, description="Containers whose health check fails."
    )
    error: str | None = None


class Event(Model):
    time: str = Field(description="RFC 3339, UTC.")
    type: str = Field(description="container, image, network, volume, daemon, plugin...")
    action: str
    id: str
    name: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict, description="A few useful actor attributes.")


class EventList(Model):
    events: list[Event]
    count: int
    limit: int
    truncated: bool = Field(description="True when the limit stopped the collection early.")
    since: int | None = Field(None, description="Unix seconds.")
    until: int = Field(description="Unix seconds the collection ran up to.")


_KEEP_ATTRIBUTES = ("image", "exitCode", "signal", "container", "type", "driver", "health_status")


def compact_event(raw: dict[str, Any]) -> Event:
    actor = raw.get("Actor") or {}
    attributes = actor.get("Attributes") or {}
    nanos = raw.get("timeNano")
    seconds = nanos / 1e9 if nanos else float(raw.get("time", 0))
    kind = raw.get("Type") or raw.get("type") or ""
    ident = str(actor.get("ID") or raw.get("id") or "")
    if kind in ("container", "image") and len(ident) == 64:
        ident = ident[:12]
    elif ident.startswith("sha256:") and len(ident) == 71:
        ident = ident[7:19]
    return Event(
        time=datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        type=kind,
        action=clean_text(str(raw.get("Action") or raw.get("status") or "")),
        id=clean_text(ident),
        name=clean_text(attributes["name"]) if attributes.get("name") else None,
        attributes={k: clean_text(str(attributes[k]), max_bytes=200) for k in _KEEP_ATTRIBUTES if k in attributes},
    )
