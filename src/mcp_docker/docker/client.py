"""The engine client: created lazily, negotiates the API version, never hangs on connect.

One `Engine` per server, kept in the lifespan state. The docker-py client is created on first
use and re-created after the engine became unreachable, so an engine restarted mid-session works
again on the next call without restarting the server.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.to_thread

from mcp_docker.docker.contexts import describe_endpoint, require_chosen_context, require_context
from mcp_docker.docker.gate_hook import install_gate
from mcp_docker.docker.library_internals import (
    call_of,
    connection_socket,
    engine_api_version,
    hook_pools,
    keep_session_ca,
    mark_call,
    use_api_version,
    watch_connect,
)
from mcp_docker.utils.errors import (
    DockerDaemonUnavailable,
    MCPDockerError,
    OperationTimeout,
    engine_errors,
)
from mcp_docker.utils.logger import logger

if TYPE_CHECKING:
    import docker

    from mcp_docker.config import Settings

T = TypeVar("T")


class CallCancelled(Exception):
    """Raised in a worker thread whose call was cancelled before it reached the engine."""


class CallHandle:
    """The engine connections one tool call is using, so that cancelling the call can close them.

    A cancelled call's worker thread is usually blocked reading a socket (exec, logs, stats, a
    stream): shutting the socket down makes that read end at once, so the thread finishes instead of
    lingering until the engine answers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conns: set[Any] = set()
        self.aborted = False
        self.started = False
        self.finished = threading.Event()

    def attach(self, conn: Any) -> None:
        """Track `conn` for this call. A pooled connection may not be connected yet (urllib3 connects
        on the first request): its connect is wrapped so that a call aborted before the socket existed
        shuts the socket as soon as it does, instead of letting the request go out unstoppable."""
        watch_connect(conn, _connected)
        with self._lock:
            self._conns.add(conn)
            aborted = self.aborted
        if aborted:
            _shutdown(conn)

    def connected(self, conn: Any) -> None:
        """`conn` has just opened its socket: shut it at once when this call was aborted meanwhile."""
        with self._lock:
            aborted = self.aborted and conn in self._conns
        if aborted:
            _shutdown(conn)

    def detach(self, conn: Any) -> None:
        with self._lock:
            self._conns.discard(conn)

    def abort(self) -> int:
        """Stop every engine request of this call; returns how many connections were shut down."""
        with self._lock:
            self.aborted = True
            conns = list(self._conns)
        return sum(_shutdown(conn) for conn in conns)


def _connected(conn: Any) -> None:
    """`conn` opened its socket: tell the call it is handed to (see `CallHandle.connected`)."""
    handle = call_of(conn)
    if handle is not None:
        handle.connected(conn)


def _shutdown(conn: Any) -> bool:
    sock = connection_socket(conn)
    if sock is None:
        return False
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        return False
    return True


_CURRENT_CALL: ContextVar[CallHandle | None] = ContextVar("mcp_docker_call", default=None)


def _handed_out(conn: Any) -> None:
    handle = _CURRENT_CALL.get()
    if handle is not None:
        mark_call(conn, handle)
        handle.attach(conn)


def _given_back(conn: Any) -> None:
    handle = call_of(conn)
    if handle is not None:
        mark_call(conn, None)
        handle.detach(conn)


def _track_adapters(api: Any) -> None:
    """Make every pool of a docker-py APIClient (unix, tcp, tls, ssh) tell the current call which
    connections it hands out, so the call can be aborted."""
    hook_pools(api, _handed_out, _given_back)


@dataclass(frozen=True)
class Health:
    """What `doctor` and `docker_healthcheck` report about the engine."""

    reachable: bool
    endpoint: str
    latency_ms: float | None = None
    server_version: str | None = None
    api_version: str | None = None
    os: str | None = None
    arch: str | None = None
    error: str | None = None


def api_at_least(version: str, floor: str) -> bool:
    """True when API `version` ('1.45') is `floor` or newer."""

    def parts(v: str) -> tuple[int, ...]:
        return tuple(int(p) for p in v.split(".") if p.isdigit())

    return parts(version) >= parts(floor)


_FIRST_API = "1.24"
"""The API version a client is created with (docker-py's oldest); `_negotiate` then asks the engine."""
MIN_API = "1.41"
"""The oldest engine API this server supports (Docker 20.10): the oldest its test suite runs against.
Newer ones are negotiated up to the engine's own version (Docker 26 speaks 1.45, 29 speaks 1.52 and
refuses clients below 1.44, which negotiation never sends)."""


def _negotiate(client: docker.DockerClient) -> None:
    """Negotiate the API version like docker-py's version="auto", after the TLS settings are fixed up
    (docker-py would negotiate inside its constructor, before `keep_session_ca` could apply)."""
    from docker.errors import InvalidVersion
    from docker.utils import version_lt

    # Verify a TLS engine against its own CA (DOCKER_CERT_PATH/ca.pem), whatever the environment
    # says (REQUESTS_CA_BUNDLE), like the docker CLI.
    keep_session_ca(client.api)
    try:
        version = engine_api_version(client.api)
        if version_lt(version, MIN_API):
            raise InvalidVersion(
                f"The engine speaks API {version}; this server supports API {MIN_API} (Docker 20.10) or newer. "
                "Upgrade the Docker engine."
            )
        use_api_version(client.api, version)
    except Exception:
        client.close()
        raise


class Engine:
    """Lazy, thread-safe holder of a docker-py client for one endpoint."""

    def __init__(
        self,
        timeout: float = 60.0,
        connect_timeout: float = 5.0,
        environment: dict[str, str] | None = None,
        base_url: str | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.timeout = timeout
        self.settings = settings
        """The settings the engine gate decides by (docker/gate_hook.py); the server's own when it
        runs, otherwise `Settings()` (from the environment) on first use."""
        self.connect_timeout = connect_timeout
        self.environment = environment
        self.base_url = base_url
        self._client: docker.DockerClient | None = None
        self._lock = threading.Lock()
        self._inflight = 0
        self._inflight_lock = threading.Lock()
        self.aborted_connections = 0
        """Engine connections shut down because their call was cancelled (for tests and diagnostics)."""

    async def run_async(self, call: Callable[[], Any]) -> Any:
        """Await an async tool body so that, if it is cancelled, the engine requests its worker threads
        started (anyio.to_thread inherits the call's context) are shut down too."""
        handle = CallHandle()
        token = _CURRENT_CALL.set(handle)
        try:
            return await call()
        except anyio.get_cancelled_exc_class():
            self.aborted_connections += handle.abort()
            raise
        finally:
            _CURRENT_CALL.reset(token)

    @property
    def inflight(self) -> int:
        """Worker threads currently running a call on this engine (0 once every call has ended)."""
        return self._inflight

    async def run_sync(self, call: Callable[[], T]) -> T:
        """Run blocking docker-py work on a worker thread; cancelling stops its engine requests.

        On cancellation (client cancel, timeout, shutdown) the call's connections are shut down, which
        ends the thread's blocking read, and the thread is awaited (a little while) before the
        cancellation goes on: nothing keeps running behind the caller's back."""
        handle = CallHandle()

        def work() -> T:
            with self._inflight_lock:
                self._inflight += 1
            handle.started = True
            try:
                if handle.aborted:
                    raise CallCancelled("cancelled before it started")
                return call()
            finally:
                with self._inflight_lock:
                    self._inflight -= 1
                handle.finished.set()

        token = _CURRENT_CALL.set(handle)
        try:
            return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):
                closed = handle.abort()
                self.aborted_connections += closed
                logger.debug("call cancelled; shut down {} engine connection(s)", closed)
                with anyio.move_on_after(self.connect_timeout):
                    while handle.started and not handle.finished.is_set():
                        await anyio.sleep(0.01)
            raise
        finally:
            _CURRENT_CALL.reset(token)

    @property
    def endpoint(self) -> str:
        return self.base_url or describe_endpoint(self.environment)

    def _create(self) -> docker.DockerClient:
        import docker

        kwargs: dict[str, Any] = {"version": _FIRST_API, "timeout": self.connect_timeout, "max_pool_size": 32}
        try:
            with engine_errors():
                if self.base_url and self.base_url.startswith("context:"):
                    # A docker CLI context carries its own endpoint and TLS material.
                    name = require_context(self.base_url.removeprefix("context:"), "MCP_DOCKER_HOSTS")
                    client = docker.DockerClient.from_context(name, **kwargs)
                elif self.base_url:
                    # ssh:// goes through the system ssh client, like the docker CLI (keys, agent, config).
                    ssh = self.base_url.startswith("ssh://")
                    client = docker.DockerClient(base_url=self.base_url, use_ssh_client=ssh, **kwargs)
                else:
                    require_chosen_context(self.environment)
                    client = docker.from_env(environment=self.environment, **kwargs)
                _negotiate(client)
        except OperationTimeout as exc:
            # Nothing was asked of the engine yet: a silent engine is an unavailable one.
            raise DockerDaemonUnavailable(
                f"The Docker engine at {self.endpoint} did not answer within {self.connect_timeout:g} s "
                "(MCP_DOCKER_CONNECT_TIMEOUT)."
            ) from exc
        # Negotiated under the short connect timeout; ordinary calls get the longer one.
        client.api.timeout = self.timeout
        _track_adapters(client.api)
        install_gate(client.api, self.gate_settings)
        logger.debug("engine client ready: {} (API {})", self.endpoint, client.api.api_version)
        return client

    def gate_settings(self) -> Settings:
        """The settings the engine gate decides by (made from the environment if none were given)."""
        if self.settings is None:
            from mcp_docker.config import Settings

            self.settings = Settings()
        return self.settings

    @property
    def client(self) -> docker.DockerClient:
        """The docker-py client, created on first use; raises `DockerDaemonUnavailable` if unreachable."""
        client = self._client
        if client is not None:
            return client
        with self._lock:
            if self._client is None:
                self._client = self._create()
            return self._client

    @property
    def api(self) -> docker.APIClient:
        return self.client.api

    def reset(self) -> None:
        """Forget the client so the next call reconnects (after the engine went away)."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception as exc:  # pragma: no cover - closing a broken pool
                logger.debug("closing engine client failed: {}", exc)

    def close(self) -> None:
        self.reset()

    def health(self) -> Health:
        """Ping the engine and read its versions, within the connect timeout."""
        endpoint = self.endpoint
        start = time.perf_counter()
        try:
            with engine_errors():
                client = self.client
                client.api.ping()
                latency = (time.perf_counter() - start) * 1000
                version = client.api.version()
        except MCPDockerError as error:  # engine_errors mapped what the engine (or the way to it) raised
            self.reset()
            return Health(reachable=False, endpoint=endpoint, error=str(error))
        return Health(
            reachable=True,
            endpoint=endpoint,
            latency_ms=round(latency, 2),
            server_version=version.get("Version"),
            api_version=client.api.api_version,
            os=version.get("Os"),
            arch=version.get("Arch"),
        )

    def unavailable(self, exc: BaseException) -> bool:
        """True if `exc` means the engine is unreachable; then it is told this engine's endpoint, and the
        client is reset for the next call."""
        if isinstance(exc, DockerDaemonUnavailable):
            if exc.endpoint is None:
                exc.endpoint = self.endpoint
            self.reset()
            return True
        return False
