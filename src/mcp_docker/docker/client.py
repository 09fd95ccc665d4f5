"""The engine client: created lazily, negotiates the API version, never hangs on connect.

One `Engine` per server, kept in the lifespan state. The docker-py client is created on first
use and re-created after the engine became unreachable, so an engine restarted mid-session works
again on the next call without restarting the server.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mcp_docker.utils.errors import DockerDaemonUnavailable, engine_errors, map_engine_error
from mcp_docker.utils.logger import logger

if TYPE_CHECKING:
    import docker


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


def describe_endpoint(environ: dict[str, str] | None = None) -> str:
    """Where the engine will be looked for, as the docker CLI would decide."""
    env = os.environ if environ is None else environ
    if env.get("DOCKER_HOST"):
        return env["DOCKER_HOST"]
    try:
        from docker.context import ContextAPI

        ctx = ContextAPI.get_current_context()
        if ctx is not None and ctx.Host:
            host: str = ctx.Host
            return host if ctx.Name == "default" else f"{host} (context {ctx.Name})"
    except Exception as exc:  # a broken context file must not stop the server from starting
        logger.warning("could not read the docker context: {}", exc)
    return "unix:///var/run/docker.sock"


def _keep_engine_ca(api: Any) -> None:
    """Verify a TLS engine against its own CA (DOCKER_CERT_PATH/ca.pem), whatever the environment says.

    requests replaces a session's CA file with $REQUESTS_CA_BUNDLE / $CURL_CA_BUNDLE (set on many
    machines) unless the CA is given per request, which docker-py does not do: the engine's
    certificate would then be checked against the public CAs and always fail. The docker CLI uses
    the engine's CA, and so does this client: the session's CA is passed on every request.
    """
    ca = getattr(api, "verify", None)
    if not isinstance(ca, str):
        return
    merge = api.merge_environment_settings

    def merge_keeping_ca(url: str, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
        return merge(url, proxies, stream, ca if verify is None or verify is True else verify, cert)

    api.merge_environment_settings = merge_keeping_ca


_FIRST_API = "1.24"
"""The API version a client is created with (docker-py's oldest); `_negotiate` then asks the engine."""


def _negotiate(client: docker.DockerClient) -> None:
    """Negotiate the API version like docker-py's version="auto", after the TLS settings are fixed up
    (docker-py would negotiate inside its constructor, before `_keep_engine_ca` could apply)."""
    from docker.errors import InvalidVersion
    from docker.utils import version_lt

    _keep_engine_ca(client.api)
    try:
        version = client.api._retrieve_server_version()
        if version_lt(version, _FIRST_API):
            raise InvalidVersion(f"The engine speaks API {version}; this server needs {_FIRST_API} or newer.")
        client.api._version = version
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
    ) -> None:
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.environment = environment
        self.base_url = base_url
        self._client: docker.DockerClient | None = None
        self._lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return self.base_url or describe_endpoint(self.environment)

    def _create(self) -> docker.DockerClient:
        import docker

        kwargs: dict[str, Any] = {"version": _FIRST_API, "timeout": self.connect_timeout, "max_pool_size": 32}
        with engine_errors():
            if self.base_url:
                client = docker.DockerClient(base_url=self.base_url, **kwargs)
            else:
                client = docker.from_env(environment=self.environment, **kwargs)
            _negotiate(client)
        # Negotiated under the short connect timeout; ordinary calls get the longer one.
        client.api.timeout = self.timeout
        logger.debug("engine client ready: {} (API {})", self.endpoint, client.api.api_version)
        return client

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
            client = self.client
            with engine_errors():
                client.api.ping()
                latency = (time.perf_counter() - start) * 1000
                version = client.api.version()
        except Exception as exc:
            self.reset()
            error = map_engine_error(exc)
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
        """True if `exc` means the engine is unreachable; then the client is reset for the next call."""
        if isinstance(exc, DockerDaemonUnavailable):
            self.reset()
            return True
        return False
