"""Container tools: list, inspect, create, start, stop, restart, remove, logs, exec, stats."""

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import ConfigDict, Field

from mcp_docker.docker.exec_stream import exec_note, run_bounded
from mcp_docker.safety.confirmation import quote
from mcp_docker.safety.container_policy import ContainerRequest, check_container_request
from mcp_docker.safety.exec_policy import check_exec_request
from mcp_docker.safety.levels import Level
from mcp_docker.state import Ctx, engine, settings
from mcp_docker.tools import log_stream, stats_sampling
from mcp_docker.tools.container_models import (
    ContainerDetails,
    ContainerList,
    ContainerState,
    ContainerStats,
    CreatedContainer,
    ExecResult,
    LogsResult,
    MountSpec,
    RemovedContainer,
    container_details,
    container_state,
    container_summary,
    format_ports,
)
from mcp_docker.tools.declare import docker_tool
from mcp_docker.tools.params import MANAGED_LABEL, ContainerRef, Filters, Limit, command_argv, normalise_filters
from mcp_docker.utils import validation
from mcp_docker.utils.errors import ValidationError, engine_errors
from mcp_docker.utils.output import Model, clean_text, engine_text, parse_time

if TYPE_CHECKING:
    from mcp_docker.docker.client import Engine

StopTimeout = Annotated[int, Field(description="Seconds before SIGKILL.", ge=0, le=3600)]


class VolumeBind(Model):
    """The mapping form of a mount: {source: {'bind': target, 'mode': 'ro'}}."""

    model_config = ConfigDict(extra="forbid")
    bind: str = Field(description="Path inside the container.")
    mode: str = Field("rw", description="rw or ro.")


def _network_driver(api: Any) -> Callable[[str], str | None]:
    import docker.errors

    def lookup(name: str) -> str | None:
        try:
            return str(api.inspect_network(name).get("Driver") or "")
        except docker.errors.NotFound:
            return None

    return lookup


def _volume_options(api: Any) -> Callable[[str], dict[str, str] | None]:
    import docker.errors

    def lookup(name: str) -> dict[str, str] | None:
        try:
            return dict(api.inspect_volume(name).get("Options") or {})
        except docker.errors.NotFound:
            return None

    return lookup


def _mount(spec: MountSpec) -> dict[str, Any]:
    from docker.types import DriverConfig, Mount

    driver = DriverConfig(spec.driver or "local", spec.driver_opts) if spec.driver or spec.driver_opts else None
    mount: dict[str, Any] = Mount(
        spec.target, spec.source, type=spec.type, read_only=spec.read_only, driver_config=driver
    )
    return mount


@docker_tool(Level.SAFE, "containers", title="List containers")
def docker_list_containers(
    ctx: Ctx,
    all: Annotated[bool, Field(description="Include stopped containers.")] = False,
    filters: Filters = None,
    limit: Limit = 50,
) -> ContainerList:
    """List containers (running unless all=true): id, name, image, state, ports."""
    rows = engine(ctx).api.containers(all=all, filters=normalise_filters(filters))
    items = [container_summary(row) for row in rows[:limit]]
    return ContainerList(containers=items, total=len(rows), limit=limit, truncated=len(rows) > limit)


@docker_tool(Level.SAFE, "containers", title="Inspect container", subject="container")
def docker_inspect_container(
    ctx: Ctx,
    container: ContainerRef,
    full: Annotated[bool, Field(description="Add the engine's raw document (env redacted).")] = False,
) -> ContainerDetails:
    """A container's configuration and state; env values redacted."""
    data = engine(ctx).api.inspect_container(container)
    return container_details(data, redact=settings(ctx).redact_env, full=full)


@docker_tool(Level.MODERATE, "containers", title="Create container")
def docker_create_container(
    ctx: Ctx,
    image: Annotated[str, Field(description="Local image, e.g. 'nginx:1.27'.")],
    name: Annotated[str | None, Field(description="Container name.")] = None,
    command: Annotated[
        list[str] | str | None,
        Field(description="Argument list, or a string split shell-style (no shell)."),
    ] = None,
    entrypoint: Annotated[list[str] | str | None, Field(description="Override the image's entrypoint.")] = None,
    environment: Annotated[dict[str, str] | None, Field(description="Environment variables.")] = None,
    ports: Annotated[
        dict[str, int | str | None] | None,
        Field(description="{'80/tcp': 8080}: bare host ports bind 127.0.0.1; '0.0.0.0:8080' for all; null: any free."),
    ] = None,
    volumes: Annotated[
        list[str] | dict[str, str | VolumeBind] | None,
        Field(description="'src:target[:ro]' (volume name, or host path under an allowed root) or {src: target}."),
    ] = None,
    mounts: Annotated[
        list[MountSpec] | None,
        Field(description="API-form mounts: bind, volume or tmpfs."),
    ] = None,
    network: Annotated[str | None, Field(description="Network to join.")] = None,
    labels: Annotated[dict[str, str] | None, Field(description="Labels to set.")] = None,
    restart_policy: Annotated[
        str | None, Field(description="no, always, unless-stopped, on-failure or on-failure:N.")
    ] = None,
    mem_limit: Annotated[str | None, Field(description="e.g. '512m', '2g'.")] = None,
    cpus: Annotated[float | None, Field(description="Cores, e.g. 1.5.", gt=0, le=1024)] = None,
    working_dir: Annotated[str | None, Field(description="Working directory.")] = None,
    user: Annotated[str | None, Field(description="Name or uid[:gid] to run as.")] = None,
    start: Annotated[bool, Field(description="Start it after creating.")] = False,
    privileged: Annotated[bool, Field(description="Refused unless allowed.")] = False,
    cap_add: Annotated[list[str] | None, Field(description="Capabilities; policy-checked.")] = None,
    network_mode: Annotated[
        str | None,
        Field(description="bridge, none, a network; host/container:* refused unless allowed."),
    ] = None,
    pid_mode: Annotated[str | None, Field(description="'host' refused unless allowed.")] = None,
    ipc_mode: Annotated[str | None, Field(description="'host' refused unless allowed.")] = None,
    uts_mode: Annotated[str | None, Field(description="'host' refused unless allowed.")] = None,
    userns_mode: Annotated[str | None, Field(description="'host' refused unless allowed.")] = None,
    cgroupns: Annotated[str | None, Field(description="'host' refused unless allowed.")] = None,
    devices: Annotated[list[str] | None, Field(description="Refused unless allowed.")] = None,
    security_opt: Annotated[list[str] | None, Field(description="Unconfining ones refused unless allowed.")] = None,
) -> CreatedContainer:
    """Create a container from a local image; policy refuses privileged, host namespaces, devices,
    unconfined security options and host binds unless allowed."""
    image = validation.image_reference(image)
    if name is not None:
        name = validation.container_name(name)
    api = engine(ctx).api
    binds: list[str] | dict[str, Any] | None = (
        {k: v.model_dump() if isinstance(v, VolumeBind) else v for k, v in volumes.items()}
        if isinstance(volumes, dict)
        else volumes
    )
    request = ContainerRequest(
        volumes=binds or [],
        mounts=[m.request() for m in mounts or []],
        privileged=privileged,
        cap_add=cap_add or [],
        network=network,
        network_mode=network_mode,
        pid_mode=pid_mode,
        ipc_mode=ipc_mode,
        uts_mode=uts_mode,
        userns_mode=userns_mode,
        cgroupns=cgroupns,
        devices=devices or [],
        security_opt=security_opt or [],
    )
    check_container_request(
        request, settings(ctx), network_driver=_network_driver(api), volume_options=_volume_options(api)
    )
    argv = command_argv(command, "command") if command is not None else None
    entry = command_argv(entrypoint, "entrypoint") if entrypoint is not None else None

    port_bindings: dict[str, tuple[str, int | None] | tuple[str]] = {}
    for cport, host in (ports or {}).items():
        address, hport = validation.host_binding(host)
        port_bindings[validation.container_port(cport)] = (address, hport) if hport else (address,)
    # Checked first so that a 404 names the right thing (image or network).
    with engine_errors("image", image):
        api.inspect_image(image)
    if network:
        with engine_errors("network", network):
            api.inspect_network(network)
    host_config = api.create_host_config(
        binds=binds or None,
        mounts=[_mount(m) for m in mounts] if mounts else None,
        port_bindings=port_bindings or None,
        network_mode=network_mode or network,
        restart_policy=validation.restart_policy(restart_policy) if restart_policy else None,
        mem_limit=validation.memory_bytes(mem_limit) if mem_limit else None,
        nano_cpus=int(cpus * 1e9) if cpus else None,
        privileged=privileged,
        cap_add=cap_add or None,
        pid_mode=pid_mode,
        ipc_mode=ipc_mode,
        uts_mode=uts_mode,
        userns_mode=userns_mode,
        cgroupns=cgroupns,
        devices=devices or None,
        security_opt=security_opt or None,
    )
    created = api.create_container(
        image,
        command=argv,
        entrypoint=entry,
        name=name,
        environment=environment or None,
        ports=list(port_bindings) or None,
        labels={**(labels or {}), MANAGED_LABEL: "true"},
        host_config=host_config,
        working_dir=working_dir,
        user=user,
    )
    container_id: str = created["Id"]
    with engine_errors("container", container_id):
        if start:
            api.start(container_id)
        data = api.inspect_container(container_id)
    return CreatedContainer(
        id=container_id[:12],
        name=data["Name"].lstrip("/"),
        image=image,
        state=data["State"]["Status"],
        ports=format_ports(data["NetworkSettings"].get("Ports")),
        warnings=[clean_text(w) for w in created.get("Warnings") or []],
    )


def _state(ctx: Ctx, container: str) -> ContainerState:
    return container_state(engine(ctx).api, container)


@docker_tool(Level.MODERATE, "containers", title="Start container", subject="container", idempotent=True)
def docker_start_container(ctx: Ctx, container: ContainerRef) -> ContainerState:
    """Start a stopped or created container; returns its state."""
    engine(ctx).api.start(container)
    return _state(ctx, container)


@docker_tool(Level.MODERATE, "containers", title="Stop container", subject="container", idempotent=True)
def docker_stop_container(ctx: Ctx, container: ContainerRef, timeout: StopTimeout = 10) -> ContainerState:
    """Stop a container (SIGTERM, SIGKILL after `timeout`); returns its state."""
    engine(ctx).api.stop(container, timeout=timeout)
    return _state(ctx, container)


@docker_tool(Level.MODERATE, "containers", title="Restart container", subject="container")
def docker_restart_container(ctx: Ctx, container: ContainerRef, timeout: StopTimeout = 10) -> ContainerState:
    """Restart a container (stop with `timeout`, start); returns its state."""
    engine(ctx).api.restart(container, timeout=timeout)
    return _state(ctx, container)


def _removal_question(eng: "Engine", arguments: dict[str, Any]) -> str:
    """What removing this container loses, from the engine's own view of it."""
    data = eng.api.inspect_container(arguments["container"])
    name, state = data["Name"].lstrip("/"), data["State"]["Status"]
    lines = [
        f"Remove container {quote(name)} (id {data['Id'][:12]}, image {quote(data['Config'].get('Image'))}, {state})?",
        "Lost for good: its writable layer, every file created or changed inside it.",
    ]
    if state in ("running", "restarting", "paused") and arguments.get("force"):
        lines.append("It is running: it will be killed first (force=true).")
    anonymous = [
        m["Name"][:12]
        for m in data.get("Mounts") or []
        if m.get("Type") == "volume" and re.fullmatch(r"[0-9a-f]{64}", m.get("Name") or "")
    ]
    if arguments.get("volumes") and anonymous:
        lines.append(f"Also deleted (volumes=true): its anonymous volumes {', '.join(anonymous)} and their data.")
    lines.append("Named volumes and host files it mounts are kept.")
    return "\n".join(lines)


@docker_tool(Level.DESTRUCTIVE, "containers", title="Remove container", subject="container", confirm=_removal_question)
def docker_remove_container(
    ctx: Ctx,
    container: ContainerRef,
    force: Annotated[bool, Field(description="Kill it if running.")] = False,
    volumes: Annotated[bool, Field(description="Also its anonymous volumes.")] = False,
) -> RemovedContainer:
    """Remove a container; its writable layer is lost. A running one needs force=true."""
    api = engine(ctx).api
    data = api.inspect_container(container)
    api.remove_container(container, v=volumes, force=force)
    return RemovedContainer(id=data["Id"][:12], name=data["Name"].lstrip("/"), removed=True, volumes_removed=volumes)


@docker_tool(Level.SAFE, "containers", title="Container logs", subject="container")
def docker_container_logs(
    ctx: Ctx,
    container: ContainerRef,
    tail: Annotated[int | None, Field(description="Last N lines; null: all.", ge=0)] = 100,
    since: Annotated[str | None, Field(description="RFC 3339, Unix seconds or duration ago ('10m').")] = None,
    until: Annotated[str | None, Field(description="Like since.")] = None,
    timestamps: Annotated[bool, Field(description="Timestamp each line.")] = False,
    grep: Annotated[
        str | None, Field(description="Only lines matching this regex (RE2: no backreferences or lookaround).")
    ] = None,
    ignore_case: Annotated[bool, Field(description="grep ignores case.")] = False,
    follow_seconds: Annotated[float, Field(description="Seconds to wait for new lines.", ge=0, le=60)] = 0,
) -> LogsResult:
    """A container's stdout and stderr, cleaned and size-bounded (newest kept)."""
    since_ts = parse_time(since, "since")
    until_ts = parse_time(until, "until")
    if since_ts is not None and until_ts is not None and since_ts > until_ts:
        raise ValidationError(f"'since' ({since}) is after 'until' ({until}).")
    pattern = log_stream.compile_grep(grep, ignore_case)
    limit = settings(ctx).max_output_bytes
    only = log_stream.ONLY_STREAM.get()
    stream = engine(ctx).api.logs(
        container,
        stdout=only != "stderr",
        stderr=only != "stdout",
        stream=True,
        follow=follow_seconds > 0,
        tail="all" if tail is None else tail,
        since=since_ts,
        until=until_ts,
        timestamps=timestamps,
    )
    out = log_stream.Collected(max_bytes=limit, grep=pattern)
    log_stream.read(stream, out, follow_seconds, ctx)
    return log_stream.result(container, out, limit)


@docker_tool(Level.MODERATE, "containers", title="Exec in container", subject="container", destructive_hint=True)
def docker_exec_command(
    ctx: Ctx,
    container: ContainerRef,
    command: Annotated[
        list[str] | str,
        Field(
            description="A list (['ls', '-l', '/']) or a string split shell-style; never run by a shell: "
            "use ['sh', '-c', '...'] if the image has one."
        ),
    ],
    workdir: Annotated[str | None, Field(description="Working directory.")] = None,
    user: Annotated[str | None, Field(description="Name or uid[:gid] to run as.")] = None,
    environment: Annotated[dict[str, str] | None, Field(description="Extra environment variables.")] = None,
) -> ExecResult:
    """Run a command in a running container: exit code, bounded stdout/stderr."""
    argv = command_argv(command, "command")
    check_exec_request(argv, settings(ctx))
    api = engine(ctx).api
    exec_id = api.exec_create(
        container, argv, stdout=True, stderr=True, workdir=workdir, user=user or "", environment=environment
    )["Id"]
    limit = settings(ctx).max_output_bytes
    # Streamed and bounded (docker/exec_stream.py): reading stops at the bound and the process is killed.
    run = run_bounded(api, exec_id, container, limit, max(limit // 4, 256))
    stdout, cut_out = engine_text(run.stdout, limit)
    stderr, cut_err = engine_text(run.stderr, max(limit // 4, 256))
    return ExecResult(
        container=container,
        command=argv,
        exit_code=run.exit_code,
        stdout=stdout,
        stderr=stderr,
        truncated=run.cut or cut_out or cut_err,
        stopped=run.stopped,
        note=exec_note(run, limit),
    )


@docker_tool(Level.SAFE, "containers", title="Container stats", subject="container")
def docker_container_stats(
    ctx: Ctx,
    container: Annotated[str | None, Field(description="Container; omit for all running.", min_length=1)] = None,
    filters: Filters = None,
    limit: Limit = 50,
) -> ContainerStats:
    """One sample of CPU, memory, network and block I/O, PIDs."""
    api = engine(ctx).api
    if container is not None:
        if filters:
            raise ValidationError("Give either container or filters, not both.")
        raw: dict[str, Any] = api.stats(container, stream=False)
        return ContainerStats.from_engine(container, raw)
    rows = api.containers(filters=normalise_filters(filters))
    samples, errors = stats_sampling.sample_all(api, rows[:limit])
    return stats_sampling.totals(samples, len(rows), limit, errors)
