"""Settings: environment variables with the prefix `MCP_DOCKER_`, and matching CLI flags.

The engine itself is found the way the docker CLI finds it (`DOCKER_HOST`, the TLS variables,
`DOCKER_CONTEXT` or the current context, then the local socket); see `docker/client.py`.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TOOLSETS = ("containers", "images", "networks", "volumes", "system", "compose", "files", "swarm")
DEFAULT_TOOLSETS = ("containers", "images", "networks", "volumes", "system", "compose", "files")

CsvList = Annotated[list[str], NoDecode]

# Docker's default capability set: re-adding one of these with cap_add changes nothing.
DEFAULT_CAPABILITIES = (
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "NET_RAW",
    "SYS_CHROOT",
    "MKNOD",
    "AUDIT_WRITE",
    "SETFCAP",
)
LINUX_CAPABILITIES = (
    *DEFAULT_CAPABILITIES,
    "AUDIT_CONTROL",
    "AUDIT_READ",
    "BLOCK_SUSPEND",
    "BPF",
    "CHECKPOINT_RESTORE",
    "DAC_READ_SEARCH",
    "IPC_LOCK",
    "IPC_OWNER",
    "LEASE",
    "LINUX_IMMUTABLE",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "NET_ADMIN",
    "NET_BROADCAST",
    "PERFMON",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_MODULE",
    "SYS_NICE",
    "SYS_PACCT",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "SYSLOG",
    "WAKE_ALARM",
)


def normalise_capability(name: str) -> str:
    """`cap_sys_admin`, `CAP_SYS_ADMIN`, ` sys_admin ` → `SYS_ADMIN` (the engine accepts all of them)."""
    text = name.strip().upper()
    return text[4:] if text.startswith("CAP_") else text


def _split_csv(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


_HOST_ENTRY = re.compile(r"^(?P<name>[a-zA-Z0-9][a-zA-Z0-9_.-]*)=(?P<endpoint>[^()]+?)\s*(?:\((?P<mode>ro|nd)\))?$")
_SCHEMES = ("unix://", "tcp://", "ssh://", "npipe://", "context:")


@dataclass(frozen=True)
class HostSpec:
    """One named engine: an endpoint (or `context:NAME`), and whether writes are refused on it.

    mode: `rw` (default), `ro` (read-only: SAFE tools only), `nd` (no destructive tools)."""

    name: str
    endpoint: str
    mode: Literal["rw", "ro", "nd"] = "rw"


def parse_hosts(value: str) -> list[HostSpec]:
    """`local=unix:///var/run/docker.sock,prod=ssh://ops@prod(ro),ci=context:ci(nd)`."""
    hosts: list[HostSpec] = []
    for raw in value.split(","):
        entry = raw.strip()
        if not entry:
            continue
        match = _HOST_ENTRY.match(entry)
        if not match:
            raise ValueError(
                f"bad MCP_DOCKER_HOSTS entry {entry!r}: expected name=endpoint with an optional (ro) or (nd), "
                "e.g. prod=ssh://ops@prod(ro)"
            )
        endpoint = match["endpoint"].strip()
        if not endpoint.startswith(_SCHEMES):
            raise ValueError(
                f"bad endpoint {endpoint!r} for engine {match['name']!r}: use unix://, tcp://, ssh://, npipe:// "
                "or context:NAME"
            )
        mode = match["mode"] or "rw"
        hosts.append(HostSpec(match["name"], endpoint, mode))  # type: ignore[arg-type]
    names = [h.name for h in hosts]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"MCP_DOCKER_HOSTS names {duplicates} more than once")
    return hosts


class Settings(BaseSettings):
    """Every setting of the server. Safe defaults: nothing here must be set to get a safe server."""

    model_config = SettingsConfigDict(env_prefix="MCP_DOCKER_", extra="forbid", validate_default=True)

    # Transport
    transport: Literal["stdio", "http"] = Field("stdio", description="How clients connect: stdio or http.")
    http_host: str = Field("127.0.0.1", description="Address the HTTP transport binds.")
    http_port: int = Field(8000, ge=0, le=65535, description="Port of the HTTP transport.")
    http_token: str | None = Field(None, description="Bearer token HTTP clients must send.")
    http_allowed_hosts: CsvList = Field(
        default_factory=list,
        description="Host header values HTTP clients may use (host or host:port, 'name:*' for any port); "
        "default: loopback names and the bind address.",
    )
    http_allowed_origins: CsvList = Field(
        default_factory=list,
        description="Browser Origin values allowed (e.g. 'https://app.example:*'); default: the allowed hosts "
        "over http/https. Requests without an Origin (non-browser clients) are allowed.",
    )
    max_request_bytes: int = Field(
        1_048_576, ge=1024, description="Largest HTTP request body accepted (bytes); larger ones get 413."
    )
    http_max_sessions: int = Field(
        250,
        ge=1,
        description="Most open HTTP sessions (2025-11-25 clients; about 35 KB each); a request that would open "
        "one more gets 503.",
    )
    http_session_idle_timeout: float = Field(
        600.0,
        gt=0,
        description="Seconds an HTTP session may go without a request before it is closed (its id then gets 404).",
    )
    http_header_timeout: float = Field(
        10.0, gt=0, description="Seconds an HTTP client has to send a request's headers; slower ones are cut off."
    )
    http_body_timeout: float = Field(
        30.0, gt=0, description="Seconds an HTTP client has to send a request's body; slower ones get 408."
    )
    http_keep_alive_timeout: int = Field(
        5, ge=1, description="Seconds an idle HTTP keep-alive connection stays open between requests."
    )

    # Reliability
    max_concurrency: int = Field(
        32, ge=1, le=1024, description="Most tool calls that work on the engine at the same time (others wait)."
    )
    call_timeout: float = Field(
        300.0, gt=0, description="Seconds an ordinary tool call may take in all before it is stopped."
    )
    long_call_timeout: float = Field(
        1800.0, gt=0, description="Seconds a long job (pull, push, build, compose) may take before it is stopped."
    )
    tool_timeouts: CsvList = Field(
        default_factory=list,
        description="Per-tool maximum seconds, 'tool=seconds' comma-separated (overrides the two above).",
    )

    # Logging
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level (stderr).")
    log_json: bool = Field(False, description="Log JSON lines instead of text (stderr).")

    # Engine
    engine_timeout: float = Field(60.0, gt=0, description="Seconds an engine API call may take.")
    connect_timeout: float = Field(5.0, gt=0, description="Seconds to reach the engine before giving up.")
    builder: Literal["auto", "buildkit", "classic"] = Field(
        "auto",
        description="Image builds: BuildKit through `docker buildx build` (buildkit), the engine's classic "
        "builder (classic), or BuildKit when `docker buildx` and the engine's builder answer, else classic (auto).",
    )

    hosts: str | None = Field(
        None,
        description="Several engines: name=endpoint[(ro)|(nd)],... (endpoint: unix://, tcp://, ssh:// or "
        "context:NAME). Tools then take a `host` argument; writes must name it.",
    )

    # Output
    max_output_bytes: int = Field(
        7500, ge=256, description="Most bytes of engine text (logs, exec output) one tool returns."
    )
    max_copy_bytes: int = Field(
        256 * 1024 * 1024, ge=1024, description="Most bytes one copy into or out of a container may carry."
    )
    redact_env: bool = Field(True, description="Hide environment variable values (KEY=***) in outputs.")

    # Safety
    read_only: bool = Field(False, description="Register read-only (SAFE) tools only.")
    toolsets: CsvList = Field(
        default_factory=lambda: list(DEFAULT_TOOLSETS),
        description="Tool categories to offer: " + ", ".join(TOOLSETS) + ".",
    )
    disabled_tools: CsvList = Field(default_factory=list, description="Tool names never to offer.")
    destructive: Literal["confirm", "allow", "deny"] = Field(
        "confirm", description="Destructive tools: ask the user (confirm), run (allow) or refuse (deny)."
    )
    confirm_timeout: float = Field(
        60.0, gt=0, description="Seconds a confirmation question waits for the user's answer (then nothing is done)."
    )
    confirm_fallback: Literal["token", "refuse"] = Field(
        "token",
        description="Where the user cannot be asked (no elicitation, or no answer): a two-step confirmation "
        "with a confirm_token (token) or a refusal (refuse).",
    )
    confirm_ttl: float = Field(300.0, gt=0, description="Seconds a two-step confirmation token stays valid.")
    allowed_bind_roots: CsvList = Field(
        default_factory=list,
        description="Host directories under which bind mounts are allowed (default: none).",
    )
    allowed_build_roots: CsvList = Field(
        default_factory=list,
        description="Host directories that may be sent to the engine as build contexts (their files can be "
        "copied into an image); the bind roots count too (default: none).",
    )
    compose_cli: Literal["auto", "v2", "v1"] = Field(
        "auto",
        description="Compose CLI: auto (the v2 plugin `docker compose` when present, else docker-compose), "
        "v2 (`docker compose` only) or v1 (`docker-compose` only).",
    )
    audit_log: Path | None = Field(None, description="File for a JSON-lines audit of state-changing calls.")
    allow_privileged: bool = Field(False, description="Allow privileged containers (full access to the host).")
    allowed_capabilities: CsvList = Field(
        default_factory=lambda: list(DEFAULT_CAPABILITIES),
        description="Linux capabilities cap_add may name (default: Docker's own default set; 'ALL' allows any).",
    )
    allow_host_namespaces: bool = Field(
        False, description="Allow host and container: modes for network, pid, ipc, uts, userns and cgroupns."
    )
    allow_devices: bool = Field(False, description="Allow host devices in containers.")
    allow_unconfined: bool = Field(
        False, description="Allow security options other than no-new-privileges (seccomp, apparmor, label...)."
    )
    allow_build_network: bool = Field(
        False,
        description="Allow builds to reach the network beyond pulling base images: ADD of URLs or git "
        "repositories, RUN --network=host (and other networks), build network modes and extra hosts.",
    )
    allowed_registries: CsvList = Field(
        default_factory=list,
        description="Registries (host[:port]) docker_push_image may push to; '*' allows any (default: the "
        "registries the Docker config file holds credentials for).",
    )
    allowed_publish_addresses: CsvList = Field(
        default_factory=list,
        description="Host addresses containers may publish ports on besides loopback (127.0.0.1, ::1), e.g. "
        "'0.0.0.0' (every interface; also what a port without an address and swarm service ports need). "
        "Default: none.",
    )
    allow_exec_shell: bool = Field(True, description="Allow exec of an explicit shell with -c (['sh', '-c', '...']).")

    @field_validator(
        "toolsets",
        "disabled_tools",
        "allowed_bind_roots",
        "allowed_build_roots",
        "allowed_registries",
        "allowed_capabilities",
        "allowed_publish_addresses",
        "http_allowed_hosts",
        "http_allowed_origins",
        "tool_timeouts",
        mode="before",
    )
    @classmethod
    def _csv(cls, value: Any) -> Any:
        return _split_csv(value)

    @field_validator("toolsets")
    @classmethod
    def _known_toolsets(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(TOOLSETS))
        if unknown:
            raise ValueError(f"unknown toolset(s) {unknown}; choose from {list(TOOLSETS)}")
        return value

    @field_validator("hosts")
    @classmethod
    def _valid_hosts(cls, value: str | None) -> str | None:
        if value:
            parse_hosts(value)
        return value

    def engine_hosts(self) -> list[HostSpec]:
        """The configured engines; empty when the server manages one engine found like the docker CLI."""
        return parse_hosts(self.hosts) if self.hosts else []

    @field_validator("tool_timeouts")
    @classmethod
    def _tool_timeouts(cls, value: list[str]) -> list[str]:
        for item in value:
            name, sep, seconds = item.partition("=")
            try:
                ok = bool(sep and name.strip()) and float(seconds) > 0
            except ValueError:
                ok = False
            if not ok:
                raise ValueError(f"tool_timeouts entry {item!r} must look like 'docker_build_image=1800'")
        return value

    def timeout_for(self, tool: str, long_job: bool) -> float:
        """The most seconds one call of `tool` may take (per-tool setting, else by kind)."""
        for item in self.tool_timeouts:
            name, _, seconds = item.partition("=")
            if name.strip() == tool:
                return float(seconds)
        return self.long_call_timeout if long_job else self.call_timeout

    @field_validator("allowed_capabilities")
    @classmethod
    def _known_capabilities(cls, value: list[str]) -> list[str]:
        names = [normalise_capability(v) for v in value]
        unknown = sorted(set(names) - set(LINUX_CAPABILITIES) - {"ALL"})
        if unknown:
            raise ValueError(f"unknown capability name(s) {unknown}")
        return names

    @field_validator("allowed_publish_addresses")
    @classmethod
    def _ip_addresses(cls, value: list[str]) -> list[str]:
        import ipaddress

        for item in value:
            try:
                ipaddress.ip_address(item.strip("[]"))
            except ValueError:
                raise ValueError(f"allowed_publish_addresses entry {item!r} is not an IP address") from None
        return [v.strip("[]") for v in value]

    @field_validator("allowed_bind_roots", "allowed_build_roots")
    @classmethod
    def _absolute_roots(cls, value: list[str]) -> list[str]:
        relative = [v for v in value if not v.startswith("/")]
        if relative:
            raise ValueError(f"roots must be absolute paths, got {relative}")
        return value

    @field_validator("http_token")
    @classmethod
    def _real_token(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError(
                "MCP_DOCKER_HTTP_TOKEN is set but empty (or only whitespace): set a real token, e.g. "
                "`openssl rand -hex 32`, or unset it"
            )
        return value

    @model_validator(mode="after")
    def _http_needs_token_off_loopback(self) -> "Settings":
        if self.transport == "http" and not self.http_token and not _is_loopback(self.http_host):
            raise ValueError(
                f"refusing to serve HTTP on {self.http_host} without a token: set MCP_DOCKER_HTTP_TOKEN "
                "(or bind 127.0.0.1)"
            )
        return self


def is_loopback(host: str) -> bool:
    """True for 'localhost' and loopback addresses (127.0.0.0/8, ::1)."""
    return _is_loopback(host)


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
