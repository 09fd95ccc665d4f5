"""Swarm tools: services (list, inspect, create, update, scale, logs, remove), tasks and nodes.

The "swarm" toolset is not offered by default (MCP_DOCKER_TOOLSETS must name it). The engine must
be a swarm manager; any other engine answers every swarm call with 503, which becomes one clear
error. Service creation and update go through the same policy as containers (host bind mounts,
host network), and services carry the label mcp-docker.managed=true.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from pydantic import Field

from mcp_docker.safety.container_policy import ContainerRequest, check_container_request
from mcp_docker.safety.levels import Level
from mcp_docker.state import Ctx, engine, settings
from mcp_docker.tools.declare import docker_tool
from mcp_docker.tools.params import MANAGED_LABEL, Filters, Limit, command_argv, normalise_filters
from mcp_docker.tools.removal_questions import service_removal_question
from mcp_docker.tools.swarm_models import (
    NodeList,
    RemovedService,
    ServiceChange,
    ServiceDetails,
    ServiceList,
    ServiceLogs,
    TaskList,
    node_summary,
    service_change,
    service_details,
    service_summary,
    task_summary,
)
from mcp_docker.utils import validation
from mcp_docker.utils.errors import ValidationError, call_meanings
from mcp_docker.utils.output import clean_text, engine_text, line_count, parse_time

ServiceRef = Annotated[str, Field(description="Service name or id (a unique id prefix works).", min_length=1)]
Command = Annotated[
    list[str] | str | None,
    Field(description="Command (the image's CMD replaced): a list of arguments, or a string split like a shell would."),
]
Ports = Annotated[
    dict[str, int | None] | None,
    Field(
        description="Published ports, container port to published port: {'80/tcp': 8080}; null lets the engine "
        "pick one. Published through the swarm's routing mesh (publish_mode='ingress') or on each node "
        "running a task (publish_mode='host')."
    ),
]
PublishMode = Annotated[Literal["ingress", "host"], Field(description="How ports are published.")]


@contextmanager
def swarm_errors() -> Iterator[None]:
    """An engine that is not a swarm manager answers 503 to every swarm call: say so plainly."""
    with call_meanings("swarm"):
        yield


def _endpoint_spec(ports: dict[str, int | None] | None, mode: str) -> dict[str, Any] | None:
    if not ports:
        return None
    out: list[dict[str, Any]] = []
    for cport, published in ports.items():
        spec = validation.container_port(cport)
        number, _, proto = spec.partition("/")
        if "-" in number:
            raise ValidationError(f"Port ranges ({cport!r}) are not supported for services; list each port.")
        entry: dict[str, Any] = {"Protocol": proto or "tcp", "TargetPort": int(number), "PublishMode": mode}
        if published is not None:
            entry["PublishedPort"] = validation.port_number(published, "published port")
        out.append(entry)
    return {"Ports": out}


def _mounts(specs: list[str], ctx: Ctx) -> list[dict[str, Any]]:
    """'source:target[:ro]' into swarm mounts: a named volume, or a host path (policy-checked)."""
    out: list[dict[str, Any]] = []
    for spec in specs:
        parts = spec.split(":")
        if (
            len(parts) not in (2, 3)
            or not parts[0]
            or not parts[1]
            or (len(parts) == 3 and parts[2] not in ("ro", "rw"))
        ):
            raise ValidationError(f"Invalid mount {spec!r}: use 'source:target' or 'source:target:ro'.")
        source, target = parts[0], parts[1]
        if source.startswith(("/", ".", "~")) and not source.startswith("/"):
            raise ValidationError(f"Invalid mount {spec!r}: a host path must be absolute for a service.")
        kind = "bind" if source.startswith("/") else "volume"
        out.append({"Type": kind, "Source": source, "Target": target, "ReadOnly": parts[2:] == ["ro"]})
    check_container_request(ContainerRequest(volumes=specs), settings(ctx))
    return out


def _check_networks(networks: list[str], ctx: Ctx) -> None:
    for network in networks:
        check_container_request(ContainerRequest(network_mode=network), settings(ctx))


def _env_list(environment: dict[str, str]) -> list[str]:
    for key in environment:
        if not key or "=" in key:
            raise ValidationError(f"Invalid environment variable name {key!r}.")
    return [f"{k}={v}" for k, v in environment.items()]


@docker_tool(Level.SAFE, "swarm", title="List services")
def docker_list_services(ctx: Ctx, filters: Filters = None, limit: Limit = 50) -> ServiceList:
    """List swarm services as compact summaries: id, name, image, mode, replicas, running tasks, ports.
    Filters: {'name': 'web'}, {'label': ['app=web']}, {'mode': 'replicated'}."""
    from docker.utils import version_gte

    api = engine(ctx).api
    with swarm_errors():
        rows = api.services(
            filters=normalise_filters(filters), status=True if version_gte(api.api_version, "1.41") else None
        )
    items = [service_summary(row) for row in rows[:limit]]
    return ServiceList(services=items, total=len(rows), limit=limit, truncated=len(rows) > limit)


@docker_tool(Level.SAFE, "swarm", title="Inspect service", subject="service")
def docker_inspect_service(
    ctx: Ctx,
    service: ServiceRef,
    full: Annotated[bool, Field(description="Add the engine's raw document (env values still redacted).")] = False,
) -> ServiceDetails:
    """Show a service's configuration: image, mode and replicas, command, env (values redacted), labels,
    ports, mounts, networks and the state of its last update."""
    with swarm_errors():
        data = engine(ctx).api.inspect_service(service)
    return service_details(data, redact=settings(ctx).redact_env, full=full)


@docker_tool(Level.MODERATE, "swarm", title="Create service")
def docker_create_service(
    ctx: Ctx,
    image: Annotated[str, Field(description="Image reference; every node that runs a task must be able to get it.")],
    name: Annotated[str | None, Field(description="Service name.")] = None,
    replicas: Annotated[
        int | None, Field(description="Tasks to run (replicated mode; default 1).", ge=0, le=1000)
    ] = None,
    mode: Annotated[
        Literal["replicated", "global"], Field(description="replicated (N tasks) or global (one task per node).")
    ] = "replicated",
    command: Command = None,
    environment: Annotated[dict[str, str] | None, Field(description="Environment variables.")] = None,
    ports: Ports = None,
    publish_mode: PublishMode = "ingress",
    labels: Annotated[dict[str, str] | None, Field(description="Labels of the service.")] = None,
    mounts: Annotated[
        list[str] | None,
        Field(
            description="Mounts as 'source:target[:ro]': a named volume, or an absolute host path (refused unless "
            "the operator allows its root with MCP_DOCKER_ALLOWED_BIND_ROOTS)."
        ),
    ] = None,
    networks: Annotated[list[str] | None, Field(description="Networks (overlay) to attach the tasks to.")] = None,
    workdir: Annotated[str | None, Field(description="Working directory inside the containers.")] = None,
) -> ServiceChange:
    """Create a swarm service: the swarm keeps `replicas` tasks of `image` running (or one per node in global
    mode). Returns at once; follow the rollout with docker_list_tasks. Host bind mounts and the host network
    are refused unless the operator allows them. The service carries the label mcp-docker.managed=true."""
    image = validation.image_reference(image)
    if name is not None:
        name = validation.container_name(name)
    if mode == "global" and replicas is not None:
        raise ValidationError("A global service runs one task per node; leave 'replicas' out or use mode='replicated'.")
    mount_list = _mounts(mounts or [], ctx)
    _check_networks(networks or [], ctx)
    container_spec: dict[str, Any] = {"Image": image, "Labels": {MANAGED_LABEL: "true"}}
    if command is not None:
        container_spec["Args"] = command_argv(command, "command")
    if environment:
        container_spec["Env"] = _env_list(environment)
    if mount_list:
        container_spec["Mounts"] = mount_list
    if workdir:
        container_spec["Dir"] = workdir
    service_mode: dict[str, Any] = (
        {"Global": {}} if mode == "global" else {"Replicated": {"Replicas": 1 if replicas is None else replicas}}
    )
    api = engine(ctx).api
    with swarm_errors():
        created = api.create_service(
            {"ContainerSpec": container_spec},
            name=name,
            labels={**(labels or {}), MANAGED_LABEL: "true"},
            mode=service_mode,
            networks=networks or None,
            endpoint_spec=_endpoint_spec(ports, publish_mode),
        )
        data = api.inspect_service(created["ID"])
    return service_change(data, created.get("Warnings"), note="Follow the rollout with docker_list_tasks.")


def _update(ctx: Ctx, service: str, change: Any, note: str | None = None) -> ServiceChange:
    """Apply `change(spec)` to the service's current spec and send it with the current version."""
    api = engine(ctx).api
    with swarm_errors():
        current = api.inspect_service(service)
        spec = current["Spec"]
        change(spec)
        template = spec.get("TaskTemplate") or {}
        result = api.update_service(
            current["ID"],
            current["Version"]["Index"],
            task_template=template,
            name=spec.get("Name"),
            labels=spec.get("Labels") or {},
            mode=spec.get("Mode"),
            update_config=spec.get("UpdateConfig"),
            rollback_config=spec.get("RollbackConfig"),
            endpoint_spec=spec.get("EndpointSpec"),
        )
        data = api.inspect_service(current["ID"])
    return service_change(data, (result or {}).get("Warnings"), note=note)


def _set_replicas(spec: dict[str, Any], service: str, replicas: int) -> None:
    if "Replicated" not in (spec.get("Mode") or {}):
        raise ValidationError(f"Service {service!r} is global (one task per node); only replicated services scale.")
    spec["Mode"] = {"Replicated": {"Replicas": replicas}}


@docker_tool(Level.MODERATE, "swarm", title="Scale service", subject="service", idempotent=True)
def docker_scale_service(
    ctx: Ctx,
    service: ServiceRef,
    replicas: Annotated[int, Field(description="Number of tasks to run.", ge=0, le=1000)],
) -> ServiceChange:
    """Set how many tasks a replicated service runs. Returns at once; the swarm converges in the
    background; follow it with docker_list_tasks."""
    return _update(
        ctx,
        service,
        lambda spec: _set_replicas(spec, service, replicas),
        note="The swarm converges in the background; follow it with docker_list_tasks.",
    )


@docker_tool(Level.MODERATE, "swarm", title="Update service", subject="service")
def docker_update_service(
    ctx: Ctx,
    service: ServiceRef,
    image: Annotated[str | None, Field(description="New image reference (a rolling update).")] = None,
    command: Command = None,
    environment: Annotated[
        dict[str, str | None] | None,
        Field(description="Variables to set (merged into the current ones); a null value removes a variable."),
    ] = None,
    labels: Annotated[
        dict[str, str | None] | None,
        Field(description="Service labels to set (merged); a null value removes a label."),
    ] = None,
    replicas: Annotated[int | None, Field(description="New number of tasks (replicated mode).", ge=0, le=1000)] = None,
    force: Annotated[bool, Field(description="Replace the tasks even if nothing else changed.")] = False,
) -> ServiceChange:
    """Change a service; the swarm rolls its tasks over to the new spec. Only what is given changes.
    Returns at once; follow the rollout with docker_list_tasks (or update_state in docker_inspect_service)."""
    if image is None and command is None and environment is None and labels is None and replicas is None and not force:
        raise ValidationError("Nothing to change: give image, command, environment, labels, replicas or force=true.")
    new_image = validation.image_reference(image) if image is not None else None
    argv = command_argv(command, "command") if command is not None else None
    if environment:
        _env_list({k: v or "" for k, v in environment.items()})

    def change(spec: dict[str, Any]) -> None:
        template = spec.setdefault("TaskTemplate", {})
        cs = template.setdefault("ContainerSpec", {})
        if new_image is not None:
            cs["Image"] = new_image
        if argv is not None:
            cs["Args"] = argv
        if environment:
            env = dict(item.partition("=")[::2] for item in cs.get("Env") or [])
            for key, value in environment.items():
                if value is None:
                    env.pop(key, None)
                else:
                    env[key] = value
            cs["Env"] = [f"{k}={v}" for k, v in env.items()]
        if labels:
            merged = dict(spec.get("Labels") or {})
            for key, value in labels.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            spec["Labels"] = merged
        if replicas is not None:
            _set_replicas(spec, service, replicas)
        if force:
            template["ForceUpdate"] = int(template.get("ForceUpdate") or 0) + 1

    return _update(ctx, service, change, note="The swarm rolls the tasks over; follow it with docker_list_tasks.")


@docker_tool(Level.SAFE, "swarm", title="Service logs", subject="service")
def docker_service_logs(
    ctx: Ctx,
    service: ServiceRef,
    tail: Annotated[
        int | None, Field(description="Last N lines per task (null: all, still size-bounded).", ge=0)
    ] = 100,
    since: Annotated[
        str | None, Field(description="Start: RFC 3339, Unix seconds, or a duration ago like '10m'.")
    ] = None,
    timestamps: Annotated[bool, Field(description="Prefix each line with its timestamp.")] = False,
) -> ServiceLogs:
    """Recent output of every task of a service (stdout and stderr), last 100 lines per task by default.
    Control characters are stripped and the text is bounded; when cut, the newest lines are kept."""
    since_ts = parse_time(since, "since")
    api = engine(ctx).api
    with swarm_errors():
        data = api.inspect_service(service)
        tty = bool(((data["Spec"].get("TaskTemplate") or {}).get("ContainerSpec") or {}).get("TTY"))
        chunks = api.service_logs(
            data["ID"],
            stdout=True,
            stderr=True,
            tail="all" if tail is None else tail,
            since=since_ts or 0,
            timestamps=timestamps,
            is_tty=tty,
        )
        raw = b"".join(chunk if isinstance(chunk, bytes) else chunk.encode() for chunk in chunks)
    limit = settings(ctx).max_output_bytes
    text, truncated = engine_text(raw, limit)
    return ServiceLogs(
        service=service,
        lines=line_count(text),
        text=text,
        truncated=truncated,
        note=f"Output cut to the newest {limit} bytes; use tail/since to see more." if truncated else None,
    )


@docker_tool(Level.DESTRUCTIVE, "swarm", title="Remove service", subject="service", confirm=service_removal_question)
def docker_remove_service(ctx: Ctx, service: ServiceRef) -> RemovedService:
    """Remove a service: the swarm stops and removes all its tasks (their containers' data is lost)."""
    api = engine(ctx).api
    with swarm_errors():
        data = api.inspect_service(service)
        api.remove_service(data["ID"])
    return RemovedService(id=data["ID"][:12], name=clean_text(data["Spec"].get("Name", "")), removed=True)


@docker_tool(Level.SAFE, "swarm", title="List tasks", subject="service")
def docker_list_tasks(
    ctx: Ctx,
    service: Annotated[str | None, Field(description="Only the tasks of this service (name or id).")] = None,
    desired_state: Annotated[
        Literal["running", "shutdown", "accepted"] | None,
        Field(description="Only tasks the swarm wants in this state ('running' hides replaced ones)."),
    ] = None,
    filters: Filters = None,
    limit: Limit = 50,
) -> TaskList:
    """List swarm tasks (the containers the swarm schedules for services): service, slot, node, state and
    error, newest first. Filters: {'node': 'id'}, {'name': 'web.1'}, {'label': ['k=v']}."""
    merged = dict(normalise_filters(filters) or {})
    if service:
        merged["service"] = [service]
    if desired_state:
        merged["desired-state"] = [desired_state]
    api = engine(ctx).api
    with swarm_errors():
        rows = api.tasks(filters=merged or None)
        services = {s["ID"]: clean_text(s["Spec"].get("Name", "")) for s in api.services()} if rows else {}
        nodes = (
            {n["ID"]: clean_text((n.get("Description") or {}).get("Hostname", "")) for n in api.nodes()} if rows else {}
        )
    rows.sort(key=lambda r: (r.get("UpdatedAt") or "", r.get("ID", "")), reverse=True)
    items = [task_summary(row, services, nodes) for row in rows[:limit]]
    return TaskList(tasks=items, total=len(rows), limit=limit, truncated=len(rows) > limit)


@docker_tool(Level.SAFE, "swarm", title="List nodes")
def docker_list_nodes(ctx: Ctx, filters: Filters = None, limit: Limit = 50) -> NodeList:
    """List the swarm's nodes: hostname, role, availability, state, address, leader, engine version.
    Filters: {'role': 'manager'}, {'name': 'host1'}, {'label': ['k=v']}."""
    with swarm_errors():
        rows = engine(ctx).api.nodes(filters=normalise_filters(filters))
    items = [node_summary(row) for row in rows[:limit]]
    return NodeList(nodes=items, total=len(rows), limit=limit, truncated=len(rows) > limit)
