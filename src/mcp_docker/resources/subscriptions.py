"""Resource subscriptions: `notifications/resources/updated` for a container's logs and stats resources.

Both protocol eras: the handshake era's `resources/subscribe` / `resources/unsubscribe` (per session),
and the 2026-07-28 era's `subscriptions/listen` with `resource_subscriptions` (the SDK's listen
stream; its URIs are watched for as long as the stream is open).

A container with subscribers has one watcher: a thread reading the engine's event stream for that
container (every event: start, die, pause, update... means the stats changed) and, when its logs are
subscribed, a thread following its log stream (new lines mean the logs changed). Notifications for
a URI are sent at most every `MIN_INTERVAL` seconds. The watcher stops when its last subscriber
leaves (unsubscribe, a closed session or stream) or the container is destroyed, by closing its
engine streams; with no subscribers nothing runs.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Coroutine, Hashable
from typing import TYPE_CHECKING, Any

import anyio.from_thread
import anyio.lowlevel
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import ResourceUpdated
from mcp.types import INVALID_PARAMS, EmptyResult, SubscribeRequestParams, UnsubscribeRequestParams

from mcp_docker.sdk_internals import connection_key, request_handler, set_request_handler
from mcp_docker.utils.errors import MCPDockerError, engine_errors
from mcp_docker.utils.logger import logger

if TYPE_CHECKING:
    from mcp.server import MCPServer
    from mcp.server.context import ServerRequestContext
    from mcp.server.subscriptions import SubscriptionBus

    from mcp_docker.docker.client import Engine
    from mcp_docker.state import AppState

URI = re.compile(r"^docker://containers/(?P<container>[^/]+)/(?P<kind>logs|stats)$")
MIN_INTERVAL = 0.5
Notify = Callable[[str], Coroutine[Any, Any, None]]


class _Watcher:
    """The engine streams of one container, while it has subscribers."""

    def __init__(self, owner: Watchers, engine: Engine, container: str) -> None:
        self.owner, self.engine, self.container = owner, engine, container
        self.streams: list[Any] = []
        self.stopped = threading.Event()
        self.logs_thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def start(self, logs: bool) -> None:
        threading.Thread(target=self._events, name=f"watch-events-{self.container}", daemon=True).start()
        if logs:
            self.follow_logs()

    def follow_logs(self) -> None:
        with self.lock:
            if self.stopped.is_set() or (self.logs_thread is not None and self.logs_thread.is_alive()):
                return
            self.logs_thread = threading.Thread(target=self._logs, name=f"watch-logs-{self.container}", daemon=True)
            self.logs_thread.start()

    def _open(self, stream: Any) -> Any:
        with self.lock:
            self.streams.append(stream)
            if self.stopped.is_set():
                stream.close()
        return stream

    def _events(self) -> None:
        try:
            api = self.engine.api
            stream = self._open(api.events(filters={"type": "container", "container": self.container}, decode=True))
            for event in stream:
                action = str(event.get("Action") or event.get("status") or "")
                self.owner.changed(self.container, ("stats", "logs"))
                if action == "start" and self.owner.wants(self.container, "logs"):
                    self.follow_logs()
                if action == "destroy":
                    self.owner.gone(self.container)
                    return
        except Exception as exc:
            if not self.stopped.is_set():
                logger.warning("watching events of {} stopped: {}", self.container, exc)

    def _logs(self) -> None:
        try:
            stream = self._open(self.engine.api.logs(self.container, stream=True, follow=True, tail=0))
            for _ in stream:
                self.owner.changed(self.container, ("logs",))
        except Exception as exc:
            if not self.stopped.is_set():
                logger.debug("following logs of {} stopped: {}", self.container, exc)

    def stop(self) -> None:
        with self.lock:
            self.stopped.set()
            streams, self.streams = self.streams, []
        for stream in streams:
            try:
                stream.close()
            except Exception as exc:  # pragma: no cover - closing a broken stream
                logger.debug("closing a watch stream failed: {}", exc)


class Watchers:
    """Subscribers per URI, and a watcher per container that has any."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, dict[Hashable, Notify]] = {}
        self._watchers: dict[str, _Watcher] = {}
        self._last: dict[str, float] = {}
        self._token: Any = None

    @property
    def active(self) -> int:
        """Containers being watched (0 when nobody is subscribed)."""
        return len(self._watchers)

    def add(self, engine: Engine, uri: str, key: Hashable, notify: Notify) -> None:
        match = URI.match(uri)
        if match is None:
            return
        self._token = anyio.lowlevel.current_token()
        container, kind = match["container"], match["kind"]
        with self._lock:
            self._subs.setdefault(uri, {})[key] = notify
            watcher = self._watchers.get(container)
            new = watcher is None
            if watcher is None:
                watcher = self._watchers[container] = _Watcher(self, engine, container)
        if new:
            watcher.start(logs=kind == "logs")
        elif kind == "logs":
            watcher.follow_logs()

    def remove(self, uri: str, key: Hashable) -> None:
        match = URI.match(uri)
        if match is None:
            return
        with self._lock:
            subs = self._subs.get(uri, {})
            subs.pop(key, None)
            if not subs:
                self._subs.pop(uri, None)
            watcher = self._stop_if_idle(match["container"])
        if watcher is not None:
            watcher.stop()

    def _stop_if_idle(self, container: str) -> _Watcher | None:
        uris = (f"docker://containers/{container}/logs", f"docker://containers/{container}/stats")
        if any(self._subs.get(u) for u in uris):
            return None
        return self._watchers.pop(container, None)

    def wants(self, container: str, kind: str) -> bool:
        return bool(self._subs.get(f"docker://containers/{container}/{kind}"))

    def changed(self, container: str, kinds: tuple[str, ...]) -> None:
        """Called from a watcher thread: notify each subscriber of the container's changed URIs."""
        now = time.monotonic()
        for kind in kinds:
            uri = f"docker://containers/{container}/{kind}"
            with self._lock:
                subs = list(self._subs.get(uri, {}).items())
                if not subs or now - self._last.get(uri, 0.0) < MIN_INTERVAL:
                    continue
                self._last[uri] = now
            for key, notify in subs:
                try:
                    anyio.from_thread.run(notify, uri, token=self._token)
                except Exception as exc:  # a closed session or stream: it is no longer subscribed
                    logger.debug("dropping subscriber of {}: {}", uri, exc)
                    self.remove(uri, key)

    def gone(self, container: str) -> None:
        """The container was destroyed: its subscriptions end."""
        with self._lock:
            for kind in ("logs", "stats"):
                self._subs.pop(f"docker://containers/{container}/{kind}", None)
            watcher = self._watchers.pop(container, None)
        if watcher is not None:
            watcher.stop()

    def close(self) -> None:
        with self._lock:
            watchers, self._watchers = list(self._watchers.values()), {}
            self._subs.clear()
        for watcher in watchers:
            watcher.stop()


def register_subscriptions(server: MCPServer[AppState], bus: SubscriptionBus, watchers: Watchers) -> None:
    """Serve resources/subscribe and resources/unsubscribe (handshake era), and watch the URIs of every
    subscriptions/listen stream (2026-07-28 era); `bus` is the one the server was built with."""

    async def subscribe(ctx: ServerRequestContext[AppState, Any], params: SubscribeRequestParams) -> EmptyResult:
        uri = str(params.uri)
        match = URI.match(uri)
        if match is None:
            raise MCPError(INVALID_PARAMS, f"Only docker://containers/NAME/logs and /stats can be subscribed to: {uri}")
        state = ctx.lifespan_context
        try:
            with engine_errors("container", match["container"]):
                await anyio.to_thread.run_sync(state.engine.api.inspect_container, match["container"])
        except MCPDockerError as exc:
            raise MCPError(INVALID_PARAMS, str(exc)) from exc
        session = ctx.session
        watchers.add(state.engine, uri, (connection_key(ctx), uri), session.send_resource_updated)
        return EmptyResult()

    async def unsubscribe(ctx: ServerRequestContext[AppState, Any], params: UnsubscribeRequestParams) -> EmptyResult:
        uri = str(params.uri)
        watchers.remove(uri, (connection_key(ctx), uri))
        return EmptyResult()

    set_request_handler(server, "resources/subscribe", SubscribeRequestParams, subscribe)
    set_request_handler(server, "resources/unsubscribe", UnsubscribeRequestParams, unsubscribe)

    entry = request_handler(server, "subscriptions/listen")
    if entry is None:  # pragma: no cover - the SDK serves it unless told not to
        return
    listen_handler, listen_params = entry

    async def publish(uri: str) -> None:
        await bus.publish(ResourceUpdated(uri=uri))

    async def listen(ctx: ServerRequestContext[AppState, Any], params: Any) -> Any:
        uris = [str(u) for u in params.notifications.resource_subscriptions or []]
        key = object()
        for uri in uris:
            watchers.add(ctx.lifespan_context.engine, uri, key, publish)
        try:
            return await listen_handler(ctx, params)
        finally:
            for uri in uris:
                watchers.remove(uri, key)

    set_request_handler(server, "subscriptions/listen", listen_params, listen)
