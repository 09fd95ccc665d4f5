"""Output models of the Swarm tools, and the functions that shape engine documents into them.

Compact on purpose, like the container models: summaries for lists, a curated view for inspect
(`full=true` adds the raw document, environment values still redacted). Engine text is cleaned.
"""

import copy
from typing import Any

from pydantic import Field

from mcp_docker.utils.output import Model, clean_text, redact_env

# ---------------------------------------------------------------- services


class ServiceSummary(Model):
    id: str = Field(description="Short id (12 characters).")
    name: str
    image: str
    mode: str = Field(description="replicated or global.")
    replicas: int | None = Field(None, description="Desired replicas (replicated services).")
    running: int | None = Field(None, description="Running tasks, when the engine reports it (API 1.41+).")
    desired: int | None = Field(None, description="Desired tasks, when the engine reports it (API 1.41+).")
    ports: list[str] = Field(default_factory=list, description="'published->target/proto', '(host)' if host mode.")
    updated: str | None = None


class ServiceList(Model):
    services: list[ServiceSummary]
    total: int = Field(description="How many services matched, before the limit.")
    limit: int
    truncated: bool


class ServiceDetails(Model):
    id: str
    name: str
    image: str
    mode: str
    replicas: int | None = None
    command: list[str] = Field(description="Arguments (the image's CMD replaced).")
    entrypoint: list[str] = Field(description="The image's entrypoint replaced, when set.")
    env: list[str] = Field(description="KEY=value; values redacted as *** unless the operator disabled it.")
    labels: dict[str, str]
    container_labels: dict[str, str]
    ports: list[str]
    mounts: list[str] = Field(description="'type source:target[:ro]'.")
    networks: list[str] = Field(description="Network ids or names the tasks attach to.")
    update_state: str | None = Field(None, description="State of the last update (updating, completed...).")
    update_message: str | None = None
    created: str | None = None
    updated: str | None = None
    version: int = Field(description="The service object's version (changes on every update).")
    raw: dict[str, Any] | None = Field(None, description="The engine's whole document (full=true only).")


class ServiceChange(Model):
    """What a create, update or scale left: the service as the engine now describes it."""

    id: str
    name: str
    image: str
    mode: str
    replicas: int | None = None
    version: int
    warnings: list[str] = Field(default_factory=list)
    note: str | None = None


class RemovedService(Model):
    id: str
    name: str
    removed: bool


class ServiceLogs(Model):
    service: str
    lines: int = Field(description="Lines returned.")
    text: str
    truncated: bool = Field(description="True when older output was cut to fit the size bound.")
    note: str | None = None


def _mode(spec: dict[str, Any]) -> tuple[str, int | None]:
    mode = spec.get("Mode") or {}
    if "Global" in mode:
        return "global", None
    replicated = mode.get("Replicated") or {}
    return "replicated", int(replicated.get("Replicas", 1))


def _container_spec(spec: dict[str, Any]) -> dict[str, Any]:
    cs: dict[str, Any] = (spec.get("TaskTemplate") or {}).get("ContainerSpec") or {}
    return cs


def _image(spec: dict[str, Any]) -> str:
    return clean_text(str(_container_spec(spec).get("Image", "")))


def format_service_ports(endpoint: dict[str, Any] | None) -> list[str]:
    out: list[str] = []
    for p in (endpoint or {}).get("Ports") or []:
        text = f"{p.get('PublishedPort', '')}->{p.get('TargetPort', '')}/{p.get('Protocol', 'tcp')}".lstrip("-")
        if p.get("PublishMode") == "host":
            text += " (host)"
        out.append(text)
    return sorted(set(out))


def _labels(values: dict[str, str] | None) -> dict[str, str]:
    return {clean_text(k): clean_text(v) for k, v in (values or {}).items()}


def service_summary(row: dict[str, Any]) -> ServiceSummary:
    spec = row.get("Spec") or {}
    mode, replicas = _mode(spec)
    status = row.get("ServiceStatus") or {}
    endpoint = (row.get("Endpoint") or {}).get("Spec") or spec.get("EndpointSpec")
    return ServiceSummary(
        id=row["ID"][:12],
        name=clean_text(spec.get("Name", "")),
        image=_image(spec),
        mode=mode,
        replicas=replicas,
        running=status.get("RunningTasks"),
        desired=status.get("DesiredTasks"),
        ports=format_service_ports(endpoint),
        updated=row.get("UpdatedAt"),
    )


def _redact_raw(data: dict[str, Any], redact: bool) -> dict[str, Any]:
    if not redact:
        return data
    raw = copy.deepcopy(data)
    for key in ("Spec", "PreviousSpec"):
        cs = ((raw.get(key) or {}).get("TaskTemplate") or {}).get("ContainerSpec")
        if isinstance(cs, dict) and cs.get("Env"):
            cs["Env"] = redact_env(cs["Env"])
    return raw


def _mount_text(m: dict[str, Any]) -> str:
    text = f"{m.get('Type', '')} {m.get('Source', '')}:{m.get('Target', '')}"
    return clean_text(text + (":ro" if m.get("ReadOnly") else ""))


def service_details(data: dict[str, Any], redact: bool = True, full: bool = False) -> ServiceDetails:
    spec = data.get("Spec") or {}
    cs = _container_spec(spec)
    mode, replicas = _mode(spec)
    update = data.get("UpdateStatus") or {}
    networks = (spec.get("TaskTemplate") or {}).get("Networks") or spec.get("Networks") or []
    return ServiceDetails(
        id=data["ID"][:12],
        name=clean_text(spec.get("Name", "")),
        image=_image(spec),
        mode=mode,
        replicas=replicas,
        command=[clean_text(a) for a in cs.get("Args") or []],
        entrypoint=[clean_text(a) for a in cs.get("Command") or []],
        env=redact_env(cs.get("Env"), redact),
        labels=_labels(spec.get("Labels")),
        container_labels=_labels(cs.get("Labels")),
        ports=format_service_ports((data.get("Endpoint") or {}).get("Spec") or spec.get("EndpointSpec")),
        mounts=[_mount_text(m) for m in cs.get("Mounts") or []],
        networks=[clean_text(str(n.get("Target", ""))) for n in networks],
        update_state=update.get("State"),
        update_message=clean_text(update["Message"]) if update.get("Message") else None,
        created=data.get("CreatedAt"),
        updated=data.get("UpdatedAt"),
        version=int((data.get("Version") or {}).get("Index", 0)),
        raw=_redact_raw(data, redact) if full else None,
    )


def service_change(data: dict[str, Any], warnings: list[str] | None = None, note: str | None = None) -> ServiceChange:
    spec = data.get("Spec") or {}
    mode, replicas = _mode(spec)
    return ServiceChange(
        id=data["ID"][:12],
        name=clean_text(spec.get("Name", "")),
        image=_image(spec),
        mode=mode,
        replicas=replicas,
        version=int((data.get("Version") or {}).get("Index", 0)),
        warnings=[clean_text(w) for w in warnings or []],
        note=note,
    )


# ---------------------------------------------------------------- tasks


class TaskSummary(Model):
    id: str
    service: str = Field(description="Service name (or id when the service is gone).")
    slot: int | None = Field(None, description="Replica slot (replicated services).")
    node: str = Field(description="Node hostname (or id).")
    image: str
    desired_state: str
    state: str = Field(description="Current state: new, pending, assigned, preparing, starting, running, failed...")
    message: str | None = None
    error: str | None = None
    container_id: str | None = None
    updated: str | None = None


class TaskList(Model):
    tasks: list[TaskSummary]
    total: int
    limit: int
    truncated: bool


def task_summary(row: dict[str, Any], services: dict[str, str], nodes: dict[str, str]) -> TaskSummary:
    status = row.get("Status") or {}
    container = (status.get("ContainerStatus") or {}).get("ContainerID")
    service_id = row.get("ServiceID", "")
    node_id = row.get("NodeID", "")
    return TaskSummary(
        id=row["ID"][:12],
        service=services.get(service_id, service_id[:12]),
        slot=row.get("Slot"),
        node=nodes.get(node_id, node_id[:12]),
        image=_image({"TaskTemplate": row.get("Spec") or {}}),
        desired_state=row.get("DesiredState", ""),
        state=status.get("State", ""),
        message=clean_text(status["Message"], max_bytes=300) if status.get("Message") else None,
        error=clean_text(status["Err"], max_bytes=500) if status.get("Err") else None,
        container_id=container[:12] if container else None,
        updated=row.get("UpdatedAt"),
    )


# ---------------------------------------------------------------- nodes


class NodeSummary(Model):
    id: str
    hostname: str
    role: str = Field(description="manager or worker.")
    availability: str = Field(description="active, pause or drain.")
    state: str = Field(description="ready, down, unknown, disconnected.")
    address: str | None = None
    leader: bool = False
    manager_reachability: str | None = None
    engine_version: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)


class NodeList(Model):
    nodes: list[NodeSummary]
    total: int
    limit: int
    truncated: bool


def node_summary(row: dict[str, Any]) -> NodeSummary:
    spec = row.get("Spec") or {}
    desc = row.get("Description") or {}
    status = row.get("Status") or {}
    manager = row.get("ManagerStatus") or {}
    return NodeSummary(
        id=row["ID"][:12],
        hostname=clean_text(desc.get("Hostname", "")),
        role=spec.get("Role", ""),
        availability=spec.get("Availability", ""),
        state=status.get("State", ""),
        address=status.get("Addr") or None,
        leader=bool(manager.get("Leader")),
        manager_reachability=manager.get("Reachability"),
        engine_version=(desc.get("Engine") or {}).get("EngineVersion"),
        labels=_labels(spec.get("Labels")),
    )
