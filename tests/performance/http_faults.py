"""Engine faults during HTTP load: the engine stopped mid-run, and an engine that answers slowly.

- `engine_outage`: a PRIVATE engine (tests/private_engine.py, never a shared one) is stopped in the
  middle of a many-client run and started again. Calls made while it is down must end with the
  "engine unavailable" error within the connect timeout; none may hang; calls must succeed again
  within 2 s of the engine answering.
- `slow_engine`: the server talks to the engine through `DelayingProxy`, a unix-socket proxy that
  holds some requests briefly and some for a long time. Deadlines must end the calls, the
  cancelled calls must close their engine connections (the proxy sees them go), and the number of
  requests outstanding at the engine must never pass MCP_DOCKER_MAX_CONCURRENCY.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from tests.performance import http_load


def _peer_shut(sock: socket.socket) -> bool:
    """The other end shut this connection (the kernel has its EOF), whether or not the loop saw it yet."""
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


# --- a slow engine ---------------------------------------------------------------------------------------


@dataclass
class ProxyCounters:
    outstanding: int = 0  # requests received from the server and not yet answered, connection open
    max_outstanding: int = 0
    requests: int = 0
    held_long: int = 0
    closed_while_outstanding: int = 0  # the server shut a connection whose request was still unanswered
    # Outstanding requests whose connection the server had already shut when a new request began,
    # but whose end the proxy's loop had not handled yet (both were ready in one loop iteration).
    # They are not counted as outstanding: the kernel says the server was done with them.
    shut_not_yet_seen: int = 0
    max_outstanding_by_loop: int = 0  # the same maximum counting those too (reported, not bounded)


class DelayingProxy:
    """A unix-socket proxy to the engine that delays each request before forwarding it: most by up to
    `short` seconds, a `stuck_share` of them by `stuck` seconds (only a cancellation ends those early)."""

    def __init__(
        self, path: Path, upstream: str, short: float = 0.3, stuck: float = 30.0, stuck_share: float = 0.3
    ) -> None:
        self.path, self.upstream = path, upstream
        self.short, self.stuck, self.stuck_share = short, stuck, stuck_share
        self.counters = ProxyCounters()
        self.rng = random.Random(11)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="slow-engine", daemon=True)
        self.server: asyncio.AbstractServer | None = None
        self.waiting: set[socket.socket] = set()  # the server side of connections with an unanswered request

    def __enter__(self) -> DelayingProxy:
        self.thread.start()
        self.server = asyncio.run_coroutine_threadsafe(
            asyncio.start_unix_server(self._serve, path=str(self.path)), self.loop
        ).result(10)
        return self

    def __exit__(self, *_: Any) -> None:
        async def close() -> None:
            assert self.server is not None
            self.server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.path.unlink(missing_ok=True)

    def _begin(self, own: socket.socket) -> None:
        c = self.counters
        c.outstanding += 1
        c.requests += 1
        shut = sum(1 for sock in self.waiting if sock is not own and _peer_shut(sock))
        c.shut_not_yet_seen += shut
        c.max_outstanding = max(c.max_outstanding, c.outstanding - shut)
        c.max_outstanding_by_loop = max(c.max_outstanding_by_loop, c.outstanding)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_unix_connection(self.upstream)
        state = {"waiting": False}
        c = self.counters
        own = socket.socket(fileno=os.dup(writer.get_extra_info("socket").fileno()))

        async def hold(first: bytes, seconds: float) -> bytes | None:
            """Keep a new request for `seconds` (reading on, so a server that gives up and shuts the
            connection is seen at once); None when it did."""
            loop = asyncio.get_running_loop()
            deadline, held = loop.time() + seconds, [first]
            while (remaining := deadline - loop.time()) > 0:
                try:
                    more = await asyncio.wait_for(reader.read(65536), remaining)
                except TimeoutError:
                    break
                if not more:
                    return None
                held.append(more)
            return b"".join(held)

        async def to_engine() -> None:
            while chunk := await reader.read(65536):
                if not state["waiting"]:  # the first bytes of a new request
                    state["waiting"] = True
                    self.waiting.add(own)
                    self._begin(own)
                    stuck = self.rng.random() < self.stuck_share
                    c.held_long += stuck
                    held = await hold(chunk, self.stuck if stuck else self.rng.uniform(0, self.short))
                    if held is None:
                        return
                    chunk = held
                up_writer.write(chunk)
                await up_writer.drain()

        async def to_server() -> None:
            while chunk := await up_reader.read(65536):
                if state["waiting"]:
                    state["waiting"] = False
                    self.waiting.discard(own)
                    c.outstanding -= 1
                writer.write(chunk)
                await writer.drain()

        tasks = [asyncio.ensure_future(to_engine()), asyncio.ensure_future(to_server())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        except (ConnectionError, OSError):
            pass
        finally:
            for t in tasks:
                t.cancel()
            if state["waiting"]:
                c.outstanding -= 1
                c.closed_while_outstanding += 1
            self.waiting.discard(own)
            own.close()
            for w in (writer, up_writer):
                w.close()


async def slow_engine(
    socket_dir: Path,
    upstream: str,
    targets: list[str],
    image: str,
    era: str,
    clients: int = 50,
    seconds: float = 60.0,
    max_calls: int | None = None,
    max_concurrency: int = 8,
    deadline: float = 1.0,
) -> dict[str, Any]:
    """Read calls through the slow proxy with short per-tool deadlines."""
    tools = ("docker_list_containers", "docker_inspect_container", "docker_container_logs")
    with DelayingProxy(socket_dir / "slow.sock", upstream) as proxy:
        with http_load.http_server(
            docker_host=f"unix://{proxy.path}",
            max_concurrency=str(max_concurrency),
            tool_timeouts=",".join(f"{t}={deadline:g}" for t in tools),
            connect_timeout="5",
        ) as server:
            results = await http_load.mixed_load(
                server.url,
                era,
                targets,
                image,
                clients=clients,
                seconds=seconds,
                max_calls=max_calls,
                ops=("list", "inspect", "logs"),
                call_timeout=20,
            )
            # Cancelled calls shut their engine connections: the held requests go at once, long
            # before the proxy would have forwarded them.
            with anyio.move_on_after(5):
                while proxy.counters.outstanding > 0:
                    await anyio.sleep(0.1)
            up = server.alive()
            resources = http_load.resource_summary(server)
    summary = results.summary()
    return {
        **summary,
        "max_call_ms": summary["max_ms"],
        "deadline_s": deadline,
        "max_concurrency": max_concurrency,
        "proxy": proxy.counters.__dict__,
        "server_up": up,
        "resources": resources,
    }


# --- an engine that stops --------------------------------------------------------------------------------


@dataclass
class Outage:
    stopped: float = 0.0  # the engine process has exited
    restarting: float = 0.0  # start() called
    answering: float = 0.0  # the engine answers a ping again
    marks: list[str] = field(default_factory=list)


async def engine_outage(
    engine: Any,
    targets: list[str],
    image: str,
    era: str,
    clients: int = 50,
    seconds: float = 60.0,
    stop_after: float = 20.0,
    down_for: float = 10.0,
    connect_timeout: float = 5.0,
) -> dict[str, Any]:
    """Read calls against `engine` (a tests.private_engine.PrivateEngine) while it is stopped and started."""
    outage = Outage()
    with http_load.http_server(docker_host=engine.url, connect_timeout=f"{connect_timeout:g}") as server:

        async def fault() -> None:
            await anyio.sleep(stop_after)
            await anyio.to_thread.run_sync(engine.stop)
            outage.stopped = time.monotonic()
            await anyio.sleep(down_for)
            outage.restarting = time.monotonic()
            await anyio.to_thread.run_sync(engine.start)
            outage.answering = time.monotonic()

        results = http_load.Results()

        async def load() -> None:
            got = await http_load.mixed_load(
                server.url, era, targets, image, clients=clients, seconds=seconds, ops=("list", "inspect", "logs")
            )
            results.calls, results.wall_seconds = got.calls, got.wall_seconds

        async with anyio.create_task_group() as tg:
            tg.start_soon(fault)
            tg.start_soon(load)
        up = server.alive()
        resources = http_load.resource_summary(server)

    down = [c for c in results.calls if c.start >= outage.stopped and c.start + c.seconds <= outage.restarting]
    after = [c for c in results.calls if c.start + c.seconds > outage.answering]
    first_ok = min((c.start + c.seconds for c in after if c.error is None), default=float("inf"))
    settled = [c for c in results.calls if c.start >= outage.answering + 2.0]
    return {
        **results.summary(),
        "server_up": up,
        "down_calls": len(down),
        "down_errors": dict(Counter(c.error or "success" for c in down)),
        "down_max_ms": round(max((c.seconds for c in down), default=0.0) * 1000, 1),
        "connect_timeout_s": connect_timeout,
        "recovered_after_s": round(first_ok - outage.answering, 2),
        "errors_after_recovery": dict(Counter(c.error for c in settled if c.error)),
        "hangs": sum(1 for c in results.calls if c.error == "client timeout (hang)"),
        "resources": resources,
    }
