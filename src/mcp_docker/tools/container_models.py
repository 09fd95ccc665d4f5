"""Output models of the container tools, and the functions that shape engine documents into them.

Compact on purpose: a model's context is a budget. Values that come from the engine and can carry
text (names, labels, commands) are cleaned of control characters.
"""

from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from mcp_docker.safety.container_policy import MountRequest
from mcp_docker.utils import validation
from mcp_docker.utils.errors import ValidationError
from mcp_docker.utils.output import Model, clean_text, redact_env

# ---------------------------------------------------------------- list / summary


class ContainerSummary(Model):
    id: str = Field(description="Short id (12 characters).")
    name: str
    image: str
    state: str = Field(description="created, running, paused, restarting, exited, dead.")
    status: str = Field(description="Human status, e.g. 'Up 3 minutes'.")
    ports: list[str] = Field(default_factory=list, description="Published ports, 'host:port->port/proto'.")


class ContainerList(Model):
    containers: list[ContainerSummary]
    total: int = Field(description="How many containers matched, before the limit.")
    limit: int
    truncated: bool = Field(description="True when more matched than were returned.")


def _port_list(ports: list[dict[str, Any]] | None) -> list[str]:
    out: list[str] = []
    for p in ports or []:
        proto = p.get("Type", "tcp")
        if p.get("PublicPort"):
            out.append(f"{p.get('IP', '')}:{p['PublicPort']}->{p['PrivatePort']}/{proto}".lstrip(":"))
        else:
            out.append(f"{p['PrivatePort']}/{proto}")
    return sorted(set(out))


def container_summary(row: dict[str, Any]) -> ContainerSummary:
    names = row.get("Names") or [""]
    return ContainerSummary(
        id=row["Id"][:12],
        name=clean_text(names[0].lstrip("/")),
        image=clean_text(row.get("Image", "")),
        state=row.get("State", ""),
        status=clean_text(row.get("Status", "")),
        ports=_port_list(row.get("Ports")),
    )


def format_ports(ports: dict[str, list[dict[str, str]] | None] | None) -> list[str]:
    """Inspect's NetworkSettings.Ports as 'host:port->port/proto' strings."""
    out: list[str] = []
    for cport, bindings in (ports or {}).items():
        if not bindings:
            out.append(cport)
            continue
        for b in bindings:
            out.append(f"{b.get('HostIp', '')}:{b.get('HostPort', '')}->{cport}".lstrip(":"))
    return sorted(set(out))


# ---------------------------------------------------------------- inspect


class Mount(Model):
    type: str
    source: str
    destination: str
    read_only: bool


class Health(Model):
    status: str
    failing_streak: int = 0
    last_output: str | None = None


class State(Model):
    status: str
    running: bool
    exit_code: int | None = None
    error: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    restart_count: int = 0
    oom_killed: bool = False
    health: Health | None = None


class ContainerDetails(Model):
    id: str
    name: str
    image: str
    image_id: str
    created: str
    state: State
    command: list[str]
    entrypoint: list[str]
    working_dir: str | None = None
    user: str | None = None
    env: list[str] = Field(description="KEY=value; values redacted as *** unless the operator disabled it.")
    labels: dict[str, str]
    ports: list[str]
    mounts: list[Mount]
    networks: dict[str, str] = Field(description="Network name to the container's IP address on it.")
    restart_policy: str
    memory_limit: int | None = None
    nano_cpus: int | None = None
    privileged: bool = False
    raw: dict[str, Any] | None = Field(None, description="The engine's whole document (full=true only).")


def _redact_raw(data: dict[str, Any], redact: bool) -> dict[str, Any]:
    if not redact:
        return data
    config = dict(data.get("Config") or {})
    config["Env"] = redact_env(config.get("Env"))
    return {**data, "Config": config}


def container_details(data: dict[str, Any], redact: bool = True, full: bool = False) -> ContainerDetails:
    config = data.get("Config") or {}
    host = data.get("HostConfig") or {}
    state = data.get("State") or {}
    health = state.get("Health")
    logs = (health or {}).get("Log") or []
    restart = host.get("RestartPolicy") or {}
    restart_name = restart.get("Name") or "no"
    if restart.get("MaximumRetryCount"):
        restart_name = f"{restart_name}:{restart['MaximumRetryCount']}"
    networks = (data.get("NetworkSettings") or {}).get("Networks") or {}
    return ContainerDetails(
        id=data["Id"][:12],
        name=clean_text(data.get("Name", "").lstrip("/")),
        image=clean_text(config.get("Image", "")),
        image_id=data.get("Image", ""),
        created=data.get("Created", ""),
        state=State(
            status=state.get("Status", ""),
            running=bool(state.get("Running")),
            exit_code=state.get("ExitCode"),
            error=clean_text(state["Error"]) if state.get("Error") else None,
            started_at=state.get("StartedAt"),
            finished_at=state.get("FinishedAt"),
            restart_count=data.get("RestartCount", 0),
            oom_killed=bool(state.get("OOMKilled")),
            health=Health(
                status=health.get("Status", ""),
                failing_streak=health.get("FailingStreak", 0),
                last_output=clean_text(logs[-1].get("Output", ""), max_bytes=500) if logs else None,
            )
            if health
            else None,
        ),
        command=[clean_text(c) for c in config.get("Cmd") or []],
        entrypoint=[clean_text(c) for c in config.get("Entrypoint") or []],
        working_dir=config.get("WorkingDir") or None,
        user=config.get("User") or None,
        env=redact_env(config.get("Env"), redact),
        labels={clean_text(k): clean_text(v) for k, v in (config.get("Labels") or {}).items()},
        ports=format_ports((data.get("NetworkSettings") or {}).get("Ports")),
        mounts=[
            Mount(
                type=m.get("Type", ""),
                source=m.get("Name") or m.get("Source", ""),
                destination=m.get("Destination", ""),
                read_only=not m.get("RW", True),
            )
            for m in data.get("Mounts") or []
        ],
        networks={name: (net or {}).get("IPAddress", "") for name, net in networks.items()},
        restart_policy=restart_name,
        memory_limit=host.get("Memory") or None,
        nano_cpus=host.get("NanoCpus") or None,
        privileged=bool(host.get("Privileged")),
        raw=_redact_raw(data, redact) if full else None,
    )


# ---------------------------------------------------------------- changes


class CreatedContainer(Model):
    id: str
    name: str
    image: str
    state: str
    ports: list[str]
    warnings: list[str] = Field(default_factory=list)


class ContainerState(Model):
    id: str
    name: str
    state: str
    exit_code: int | None = None
    started_at: str | None = None
    health: str | None = None


class RemovedContainer(Model):
    id: str
    name: str
    removed: bool
    volumes_removed: bool


# ---------------------------------------------------------------- logs / exec


class LogsResult(Model):
    container: str
    lines: int = Field(description="Lines returned.")
    text: str
    truncated: bool = Field(description="True when older output was cut to fit the size bound.")
    matches: int | None = Field(None, description="With grep: how many lines matched (also those cut).")
    note: str | None = None


class ExecResult(Model):
    container: str
    command: list[str]
    exit_code: int | None
    stdout: str
    stderr: str
    truncated: bool
    stopped: bool = Field(False, description="The output bound was reached while it ran, and it was killed.")
    note: str | None = None


# ---------------------------------------------------------------- stats


class ContainerStats(Model):
    container: str
    name: str
    running: bool = Field(description="False when the container was not running (figures are then zero).")
    cpu_percent: float = Field(description="Percent of one CPU (200 = two full cores), like `docker stats`.")
    online_cpus: int
    memory_usage: int = Field(description="Bytes, page cache excluded, like `docker stats`.")
    memory_limit: int
    memory_percent: float
    network_rx: int
    network_tx: int
    block_read: int
    block_write: int
    pids: int
    containers: "list[ContainerStats] | None" = Field(
        None, description="Without `container`: one sample per running container (the fields above are sums)."
    )
    total: int | None = Field(None, description="Without `container`: how many containers matched.")
    truncated: bool | None = None
    errors: list[str] | None = Field(None, description="Containers that could not be sampled, and why.")

    @classmethod
    def from_engine(cls, container: str, raw: dict[str, Any]) -> "ContainerStats":
        cpu = raw.get("cpu_stats") or {}
        pre = raw.get("precpu_stats") or {}
        usage = (cpu.get("cpu_usage") or {}).get("total_usage", 0)
        pre_usage = (pre.get("cpu_usage") or {}).get("total_usage", 0)
        system = cpu.get("system_cpu_usage") or 0
        pre_system = pre.get("system_cpu_usage") or 0
        online = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or []) or 1
        cpu_delta = usage - pre_usage
        system_delta = system - pre_system
        cpu_percent = (cpu_delta / system_delta) * online * 100 if cpu_delta > 0 and system_delta > 0 else 0.0

        mem = raw.get("memory_stats") or {}
        mem_stats = mem.get("stats") or {}
        cache = mem_stats.get("inactive_file", mem_stats.get("total_inactive_file", mem_stats.get("cache", 0)))
        used = max(int(mem.get("usage", 0)) - int(cache or 0), 0)
        limit = int(mem.get("limit", 0))

        rx = tx = 0
        for net in (raw.get("networks") or {}).values():
            rx += net.get("rx_bytes", 0)
            tx += net.get("tx_bytes", 0)
        read = write = 0
        for entry in (raw.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []:
            op = str(entry.get("op", "")).lower()
            if op == "read":
                read += entry.get("value", 0)
            elif op == "write":
                write += entry.get("value", 0)
        return cls(
            container=container,
            name=clean_text(str(raw.get("name", "")).lstrip("/")),
            running=bool(system) and bool(raw.get("pids_stats")),
            cpu_percent=round(cpu_percent, 2),
            online_cpus=online,
            memory_usage=used,
            memory_limit=limit,
            memory_percent=round(used / limit * 100, 2) if limit else 0.0,
            network_rx=rx,
            network_tx=tx,
            block_read=read,
            block_write=write,
            pids=(raw.get("pids_stats") or {}).get("current", 0),
        )


_MOUNT_KEYS = {
    "type": "type",
    "source": "source",
    "src": "source",
    "target": "target",
    "destination": "target",
    "dst": "target",
    "read_only": "read_only",
    "readonly": "read_only",
    "ro": "read_only",
    "driver": "driver",
    "driver_opts": "driver_opts",
    "driveropts": "driver_opts",
}


class MountSpec(Model):
    """A mount as `mounts` takes it. Keys are matched whatever their case, in the API's spelling too
    (`Type`, `Source`/`src`, `Target`/`destination`, `ReadOnly`, `VolumeOptions.DriverConfig`)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["bind", "volume", "tmpfs"] = Field("volume", description="bind: host path under an allowed root.")
    source: str | None = Field(None, description="Host path or volume name.")
    target: str = Field(description="Absolute container path.", min_length=1)
    read_only: bool = Field(False, description="Mount read-only.")
    driver: str | None = Field(None, description="Volume driver.")
    driver_opts: dict[str, str] | None = Field(None, description="Policy-checked.")

    @model_validator(mode="before")
    @classmethod
    def _normalise_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out: dict[str, Any] = {}
        for key, value in data.items():
            low = str(key).strip().lower().replace("-", "_")
            if low == "volumeoptions" and isinstance(value, dict):
                config = {str(k).lower(): v for k, v in value.items()}.get("driverconfig") or {}
                config = {str(k).lower(): v for k, v in config.items()} if isinstance(config, dict) else {}
                out["driver"] = config.get("name")
                out["driver_opts"] = config.get("options")
                continue
            name = _MOUNT_KEYS.get(low, str(key))
            out[name] = value.strip().lower() if name == "type" and isinstance(value, str) else value
        return out

    @model_validator(mode="after")
    def _valid(self) -> "MountSpec":
        try:
            validation.container_path(self.target, "mount target")
            if self.type == "volume" and self.source:
                validation.volume_name(self.source)
        except ValidationError as exc:
            raise ValueError(exc.message) from None
        return self

    def request(self) -> MountRequest:
        return MountRequest(
            type=self.type,
            target=self.target,
            source=self.source,
            driver=self.driver,
            driver_opts=dict(self.driver_opts or {}),
        )


def container_state(api: Any, container: str) -> ContainerState:
    """A container's state now, as the lifecycle tools return it."""
    data = api.inspect_container(container)
    state = data["State"]
    return ContainerState(
        id=data["Id"][:12],
        name=data["Name"].lstrip("/"),
        state=state["Status"],
        exit_code=state.get("ExitCode"),
        started_at=state.get("StartedAt"),
        health=(state.get("Health") or {}).get("Status"),
    )
