"""Output models of the network tools, and the functions that shape engine network documents."""

from typing import Any

from pydantic import Field

from mcp_docker.tools.params import clean_labels
from mcp_docker.utils.output import Model, clean_text


class NetworkSummary(Model):
    id: str = Field(description="Short id (12 characters).")
    name: str
    driver: str
    scope: str
    internal: bool
    created: str


class NetworkList(Model):
    networks: list[NetworkSummary]
    total: int = Field(description="How many networks matched, before the limit.")
    limit: int
    truncated: bool


def network_summary(row: dict[str, Any]) -> NetworkSummary:
    return NetworkSummary(
        id=row.get("Id", "")[:12],
        name=clean_text(row.get("Name", "")),
        driver=row.get("Driver", ""),
        scope=row.get("Scope", ""),
        internal=bool(row.get("Internal")),
        created=row.get("Created", ""),
    )


class Subnet(Model):
    subnet: str
    gateway: str | None = None


class Endpoint(Model):
    id: str = Field(description="Container short id.")
    ipv4_address: str
    ipv6_address: str | None = None
    mac_address: str | None = None


class NetworkDetails(Model):
    id: str
    name: str
    driver: str
    scope: str
    internal: bool
    attachable: bool
    ipv6: bool
    created: str
    subnets: list[Subnet]
    options: dict[str, str]
    labels: dict[str, str]
    containers: dict[str, Endpoint] = Field(description="Container name to its endpoint on this network.")
    raw: dict[str, Any] | None = Field(None, description="The engine's whole document (full=true only).")


def network_details(data: dict[str, Any], full: bool = False) -> NetworkDetails:
    ipam = (data.get("IPAM") or {}).get("Config") or []
    containers: dict[str, Endpoint] = {}
    for cid, ep in (data.get("Containers") or {}).items():
        containers[clean_text(ep.get("Name") or cid[:12])] = Endpoint(
            id=cid[:12],
            ipv4_address=ep.get("IPv4Address", ""),
            ipv6_address=ep.get("IPv6Address") or None,
            mac_address=ep.get("MacAddress") or None,
        )
    return NetworkDetails(
        id=data.get("Id", ""),
        name=clean_text(data.get("Name", "")),
        driver=data.get("Driver", ""),
        scope=data.get("Scope", ""),
        internal=bool(data.get("Internal")),
        attachable=bool(data.get("Attachable")),
        ipv6=bool(data.get("EnableIPv6")),
        created=data.get("Created", ""),
        subnets=[Subnet(subnet=c.get("Subnet", ""), gateway=c.get("Gateway") or None) for c in ipam],
        options=clean_labels(data.get("Options")),
        labels=clean_labels(data.get("Labels")),
        containers=containers,
        raw=data if full else None,
    )


class CreatedNetwork(Model):
    id: str
    name: str
    driver: str
    internal: bool
    subnets: list[Subnet]
    labels: dict[str, str]
    warning: str | None = None


class ConnectionResult(Model):
    network: str
    container: str
    connected: bool
    already_connected: bool = Field(False, description="True when the container was attached before the call.")
    ip_address: str | None = Field(None, description="The container's IPv4 address on the network, when connected.")
    aliases: list[str] = Field(default_factory=list)


class RemovedNetwork(Model):
    id: str
    name: str
    removed: bool
