"""Network tools: list, inspect, create, connect, disconnect, remove."""

from typing import Annotated, Any

from pydantic import Field

from mcp_docker.safety.levels import Level
from mcp_docker.state import Ctx, engine
from mcp_docker.tools.declare import docker_tool
from mcp_docker.tools.network_models import (
    ConnectionResult,
    CreatedNetwork,
    NetworkDetails,
    NetworkList,
    RemovedNetwork,
    Subnet,
    network_details,
    network_summary,
)
from mcp_docker.tools.params import MANAGED_LABEL, ContainerRef, object_name
from mcp_docker.tools.removal_questions import network_removal_question
from mcp_docker.utils.errors import ConflictError, engine_errors
from mcp_docker.utils.output import clean_text

NetworkRef = Annotated[str, Field(description="Name or id.", min_length=1)]


@docker_tool(Level.SAFE, "networks", title="List networks")
def docker_list_networks(
    ctx: Ctx,
    filters: Annotated[
        dict[str, str | list[str]] | None,
        Field(description="Engine filters: driver, name, label, type ('custom'), dangling; e.g. {'driver': 'bridge'}."),
    ] = None,
    limit: Annotated[int, Field(description="Max networks.", ge=1, le=1000)] = 50,
) -> NetworkList:
    """List networks (id, name, driver, scope, internal)."""
    rows = engine(ctx).api.networks(filters=filters or None)
    rows.sort(key=lambda r: r.get("Name", ""))
    items = [network_summary(row) for row in rows[:limit]]
    return NetworkList(networks=items, total=len(rows), limit=limit, truncated=len(rows) > limit)


@docker_tool(Level.SAFE, "networks", title="Inspect network", subject="network")
def docker_inspect_network(
    ctx: Ctx,
    network: NetworkRef,
    full: Annotated[bool, Field(description="Add the engine's raw document.")] = False,
) -> NetworkDetails:
    """A network's configuration and the containers attached, with their addresses."""
    return network_details(engine(ctx).api.inspect_network(network), full=full)


@docker_tool(Level.MODERATE, "networks", title="Create network")
def docker_create_network(
    ctx: Ctx,
    name: Annotated[str, Field(description="Network name.")],
    driver: Annotated[str, Field(description="bridge, overlay, macvlan, ipvlan...")] = "bridge",
    internal: Annotated[bool, Field(description="No outside access.")] = False,
    labels: Annotated[dict[str, str] | None, Field(description="Labels to set.")] = None,
    attachable: Annotated[bool, Field(description="Overlay: standalone containers may join.")] = False,
) -> CreatedNetwork:
    """Create a network, labelled mcp-docker.managed=true."""
    name = object_name(name, "network")
    api = engine(ctx).api
    created = api.create_network(
        name,
        driver=driver,
        internal=internal,
        labels={**(labels or {}), MANAGED_LABEL: "true"},
        attachable=attachable or None,
        check_duplicate=True,
    )
    with engine_errors("network", created["Id"]):
        data = network_details(api.inspect_network(created["Id"]))
    return CreatedNetwork(
        id=data.id[:12],
        name=data.name,
        driver=data.driver,
        internal=data.internal,
        subnets=[Subnet(subnet=s.subnet, gateway=s.gateway) for s in data.subnets],
        labels=data.labels,
        warning=created.get("Warning") or None,
    )


def _endpoint(ctx: Ctx, container: str, network_id: str) -> dict[str, Any] | None:
    """The container's endpoint on the network, or None when it is not attached."""
    with engine_errors("container", container):
        data = engine(ctx).api.inspect_container(container)
    for endpoint in ((data.get("NetworkSettings") or {}).get("Networks") or {}).values():
        if endpoint.get("NetworkID") == network_id:
            found: dict[str, Any] = endpoint
            return found
    return None


def _network_id(ctx: Ctx, network: str) -> tuple[str, str]:
    with engine_errors("network", network):
        data = engine(ctx).api.inspect_network(network)
    return data["Id"], data["Name"]


@docker_tool(Level.MODERATE, "networks", title="Connect to network", idempotent=True)
def docker_connect_container(
    ctx: Ctx,
    network: NetworkRef,
    container: ContainerRef,
    aliases: Annotated[list[str] | None, Field(description="DNS names on this network.")] = None,
    ipv4_address: Annotated[str | None, Field(description="Fixed IPv4 (network needs a subnet).")] = None,
) -> ConnectionResult:
    """Attach a container to a network; returns its address there (already attached: left as it is,
    already_connected=true)."""
    network_id, network_name = _network_id(ctx, network)
    endpoint = _endpoint(ctx, container, network_id)
    if endpoint is None:
        with engine_errors("container", container):
            engine(ctx).api.connect_container_to_network(
                container, network_id, aliases=aliases or None, ipv4_address=ipv4_address
            )
        endpoint = _endpoint(ctx, container, network_id) or {}
        already = False
    else:
        already = True
    return ConnectionResult(
        network=network_name,
        container=container,
        connected=True,
        already_connected=already,
        ip_address=endpoint.get("IPAddress") or None,
        aliases=list(endpoint.get("Aliases") or []),
    )


@docker_tool(Level.MODERATE, "networks", title="Disconnect from network", idempotent=True)
def docker_disconnect_container(
    ctx: Ctx,
    network: NetworkRef,
    container: ContainerRef,
    force: Annotated[bool, Field(description="Even if the container is unwell.")] = False,
) -> ConnectionResult:
    """Detach a container from a network (no-op if not attached)."""
    network_id, network_name = _network_id(ctx, network)
    if _endpoint(ctx, container, network_id) is not None:
        with engine_errors("container", container):
            engine(ctx).api.disconnect_container_from_network(container, network_id, force=force)
    connected = _endpoint(ctx, container, network_id) is not None
    return ConnectionResult(network=network_name, container=container, connected=connected)


@docker_tool(Level.DESTRUCTIVE, "networks", title="Remove network", subject="network", confirm=network_removal_question)
def docker_remove_network(ctx: Ctx, network: NetworkRef) -> RemovedNetwork:
    """Remove a network; disconnect its containers first."""
    api = engine(ctx).api
    data = api.inspect_network(network)
    attached = sorted(clean_text(ep.get("Name") or cid[:12]) for cid, ep in (data.get("Containers") or {}).items())
    if attached:
        raise ConflictError(
            f"Network '{data['Name']}' still has containers attached: {', '.join(attached)}.",
            "Disconnect them with docker_disconnect_container (or remove them), then remove the network.",
        )
    api.remove_network(data["Id"])
    return RemovedNetwork(id=data["Id"][:12], name=data["Name"], removed=True)
