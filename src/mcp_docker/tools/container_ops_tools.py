"""Everyday container operations: processes (top), pause/unpause, kill with a signal, rename, update limits."""

from typing import Annotated, Any

from pydantic import Field

from mcp_docker.docker.library_internals import api_post_json, api_url, json_result
from mcp_docker.safety.levels import Level
from mcp_docker.state import Ctx, engine
from mcp_docker.tools.container_models import ContainerState, container_state
from mcp_docker.tools.container_ops_models import Process, ProcessList, RenamedContainer, UpdatedContainer, signal_name
from mcp_docker.tools.declare import docker_tool
from mcp_docker.tools.params import ContainerRef
from mcp_docker.utils import validation
from mcp_docker.utils.errors import ConflictError, ValidationError, call_meanings, engine_errors
from mcp_docker.utils.output import clean_text

MAX_PROCESSES = 500
_COLUMNS = {
    "pid": ("PID",),
    "user": ("USER", "UID"),
    "cpu": ("%CPU", "C"),
    "mem": ("%MEM",),
    "command": ("COMMAND", "CMD"),
}


def _processes(top: dict[str, Any]) -> list[Process]:
    titles: list[str] = top.get("Titles") or []
    where = {key: next((titles.index(t) for t in names if t in titles), None) for key, names in _COLUMNS.items()}
    out: list[Process] = []
    for row in top.get("Processes") or []:

        def col(key: str, row: list[str] = row) -> str | None:
            i = where[key]
            return clean_text(str(row[i])) if i is not None and i < len(row) else None

        out.append(
            Process(
                pid=col("pid") or "?", user=col("user"), cpu=col("cpu"), mem=col("mem"), command=col("command") or ""
            )
        )
    return out


@docker_tool(Level.SAFE, "containers", title="Container processes", subject="container")
def docker_container_top(ctx: Ctx, container: ContainerRef) -> ProcessList:
    """The processes running in a container: pid, user, %CPU, %MEM, command."""
    import docker.errors

    api = engine(ctx).api
    name = api.inspect_container(container)["Name"].lstrip("/")
    try:
        top = api.top(container, ps_args="aux")
    except docker.errors.APIError as exc:
        if exc.status_code != 500:
            raise
        top = api.top(container)  # an engine host whose ps takes no 'aux'
    procs = _processes(top)
    return ProcessList(
        container=name, processes=procs[:MAX_PROCESSES], total=len(procs), truncated=len(procs) > MAX_PROCESSES
    )


@docker_tool(Level.MODERATE, "containers", title="Pause container", subject="container", idempotent=True)
def docker_pause_container(ctx: Ctx, container: ContainerRef) -> ContainerState:
    """Freeze every process of a running container (cgroup freezer); returns its state afterwards."""
    api = engine(ctx).api
    api.pause(container)
    return container_state(api, container)


@docker_tool(Level.MODERATE, "containers", title="Unpause container", subject="container", idempotent=True)
def docker_unpause_container(ctx: Ctx, container: ContainerRef) -> ContainerState:
    """Thaw a paused container; returns its state afterwards."""
    import docker.errors

    api = engine(ctx).api
    try:
        api.unpause(container)
    except docker.errors.APIError as exc:
        if exc.status_code != 500:
            raise
        state = container_state(api, container)  # the engine answers 500 for "not paused": say which it is
        if state.state == "paused":
            raise
        raise ConflictError(
            f"Container {state.name!r} is not paused (it is {state.state}); nothing was changed.",
            "Only a paused container can be unpaused: see its state with docker_inspect_container.",
        ) from exc
    return container_state(api, container)


@docker_tool(Level.MODERATE, "containers", title="Kill container", subject="container")
def docker_kill_container(
    ctx: Ctx,
    container: ContainerRef,
    signal: Annotated[str | int, Field(description="Signal: a name (SIGHUP, HUP, TERM) or a number 1-64.")] = "KILL",
) -> ContainerState:
    """Send a signal to a running container's main process (default KILL); returns its state afterwards."""
    sig = signal_name(signal)
    api = engine(ctx).api
    api.kill(container, signal=sig)
    return container_state(api, container)


@docker_tool(Level.MODERATE, "containers", title="Rename container", subject="container")
def docker_rename_container(
    ctx: Ctx, container: ContainerRef, new_name: Annotated[str, Field(description="The new name.")]
) -> RenamedContainer:
    """Rename a container; a name already in use is refused."""

    new_name = validation.container_name(new_name)
    api = engine(ctx).api
    data = api.inspect_container(container)
    with call_meanings("rename", new_name):
        api.rename(container, new_name)
    return RenamedContainer(id=data["Id"][:12], old_name=data["Name"].lstrip("/"), name=new_name)


@docker_tool(Level.MODERATE, "containers", title="Update container", subject="container", idempotent=True)
def docker_update_container(
    ctx: Ctx,
    container: ContainerRef,
    mem_limit: Annotated[str | None, Field(description="Memory limit, e.g. '512m', '2g'.")] = None,
    cpus: Annotated[float | None, Field(description="CPU limit in cores, e.g. 1.5.", gt=0, le=1024)] = None,
    restart_policy: Annotated[
        str | None, Field(description="no, always, unless-stopped, on-failure or on-failure:N.")
    ] = None,
    pids_limit: Annotated[int | None, Field(description="Most processes; -1 for no limit.", ge=-1)] = None,
) -> UpdatedContainer:
    """Change the limits of a container, also while it runs: memory, CPUs, restart policy, process count."""
    body: dict[str, Any] = {}
    if mem_limit is not None:
        memory = validation.memory_bytes(mem_limit)
        body.update(Memory=memory, MemorySwap=2 * memory)  # the engine's default swap for a new limit
    if cpus is not None:
        body["NanoCpus"] = int(cpus * 1e9)
    if restart_policy is not None:
        body["RestartPolicy"] = validation.restart_policy(restart_policy)
    if pids_limit is not None:
        if pids_limit == 0:
            raise ValidationError("pids_limit must be at least 1, or -1 for no limit.")
        body["PidsLimit"] = pids_limit
    if not body:
        raise ValidationError("Nothing to update: give mem_limit, cpus, restart_policy or pids_limit.")
    api = engine(ctx).api
    data = api.inspect_container(container)
    with engine_errors("container", container):
        res = api_post_json(api, api_url(api, "/containers/{0}/update", data["Id"]), body)
        result: dict[str, Any] = json_result(api, res) or {}
    host = api.inspect_container(data["Id"])["HostConfig"]
    policy = host.get("RestartPolicy") or {}
    pids = host.get("PidsLimit")
    return UpdatedContainer(
        id=data["Id"][:12],
        name=data["Name"].lstrip("/"),
        mem_limit=int(host.get("Memory") or 0),
        cpus=(host.get("NanoCpus") or 0) / 1e9,
        restart_policy=policy.get("Name") or "no"
        if not policy.get("MaximumRetryCount")
        else f"{policy['Name']}:{policy['MaximumRetryCount']}",
        pids_limit=pids if pids and pids > 0 else None,
        warnings=[clean_text(w) for w in result.get("Warnings") or []],
    )
