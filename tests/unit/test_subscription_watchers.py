"""The subscription watchers' bookkeeping against a fake engine whose event and log streams the test drives:
one watcher per container, one log stream however many subscribe, subscribers that fail dropped, streams
closed when the last subscriber leaves, engine stream failures logged and ended (the real engine's side is
tests/e2e/test_subscriptions.py)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import anyio
import pytest

from mcp_docker.resources import subscriptions
from mcp_docker.resources.subscriptions import Watchers

pytestmark = pytest.mark.anyio

_END = object()


class Stream:
    """An engine stream: yields what the test pushes until closed (then ends, or raises like a cut socket)."""

    def __init__(self, items: list[Any] | None = None, *, finite: bool = False, fail: Exception | None = None) -> None:
        self.items: queue.Queue[Any] = queue.Queue()
        for item in items or []:
            self.items.put(item)
        if finite:
            self.items.put(_END)
        self.fail = fail
        self.closed = threading.Event()
        self.ended = threading.Event()

    def push(self, item: Any) -> None:
        self.items.put(item)

    def close(self) -> None:
        self.closed.set()
        self.items.put(_END)

    def __iter__(self) -> Iterator[Any]:
        try:
            while (item := self.items.get()) is not _END:
                yield item
            if self.fail is not None:
                raise self.fail
        finally:
            self.ended.set()


class FakeAPI:
    """events() and logs() hand out the streams the test prepared, in order (a fresh open stream after those)."""

    def __init__(self, events: list[Stream] | None = None, logs: list[Stream] | None = None) -> None:
        self.event_streams, self.log_streams = list(events or []), list(logs or [])
        self.opened: dict[str, list[Stream]] = {"events": [], "logs": []}
        self.release = threading.Event()
        self.release.set()

    def _next(self, kind: str, prepared: list[Stream]) -> Stream:
        stream = prepared.pop(0) if prepared else Stream()
        self.opened[kind].append(stream)
        return stream

    def events(self, filters: dict[str, str], decode: bool) -> Stream:
        assert filters["type"] == "container" and decode
        self.release.wait()
        return self._next("events", self.event_streams)

    def logs(self, container: str, stream: bool, follow: bool, tail: int) -> Stream:
        assert stream and follow and tail == 0  # only new lines
        return self._next("logs", self.log_streams)


def fake_engine(api: FakeAPI) -> Any:
    return SimpleNamespace(api=api)


def uri(container: str, kind: str) -> str:
    return f"docker://containers/{container}/{kind}"


async def until(condition: Callable[[], bool], seconds: float = 10) -> None:
    with anyio.fail_after(seconds):
        while not condition():
            await anyio.sleep(0.01)


def threads_of(container: str) -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.endswith(f"-{container}") and t.is_alive()]


@pytest.fixture(autouse=True)
def no_throttle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subscriptions, "MIN_INTERVAL", 0.0)


def recorder() -> tuple[list[str], Any]:
    seen: list[str] = []

    async def notify(u: str) -> None:
        seen.append(u)

    return seen, notify


def test_uris_other_than_container_logs_and_stats_are_ignored() -> None:
    api = FakeAPI()
    watchers = Watchers()
    _, notify = recorder()
    for other in ("docker://containers/web/top", "docker://images/web/logs", "file:///etc/passwd", ""):
        watchers.add(fake_engine(api), other, "k", notify)
        watchers.remove(other, "k")
    assert watchers.active == 0
    assert api.opened == {"events": [], "logs": []}  # nothing was watched
    assert not watchers.wants("web", "top")


async def test_many_log_subscribers_share_one_log_stream_until_the_last_leaves() -> None:
    api = FakeAPI()
    watchers = Watchers()
    _, notify = recorder()
    eng = fake_engine(api)
    watchers.add(eng, uri("c1", "stats"), "a", notify)
    await until(lambda: len(api.opened["events"]) == 1)
    assert watchers.active == 1 and api.opened["logs"] == []  # stats alone reads no logs
    watchers.add(eng, uri("c1", "logs"), "b", notify)  # the same watcher starts following the logs
    watchers.add(eng, uri("c1", "logs"), "c", notify)  # already followed: no second stream
    await until(lambda: len(api.opened["logs"]) == 1)
    assert watchers.active == 1 and len(api.opened["events"]) == 1
    assert watchers.wants("c1", "logs") and watchers.wants("c1", "stats")

    watchers.remove(uri("c1", "logs"), "b")
    assert watchers.wants("c1", "logs")  # "c" still listens
    watchers.remove(uri("c1", "logs"), "c")
    assert not watchers.wants("c1", "logs") and watchers.active == 1  # stats still subscribed
    assert not api.opened["logs"][0].closed.is_set()
    watchers.remove(uri("c1", "stats"), "a")
    assert watchers.active == 0
    # closed by the unsubscribe, or at once by the watcher if it was still opening it
    await until(lambda: all(s.closed.is_set() for s in api.opened["events"] + api.opened["logs"]))
    await until(lambda: not threads_of("c1"))


async def test_events_and_log_lines_notify_and_a_failing_subscriber_is_dropped(log_lines: list[str]) -> None:
    events, logs = Stream(), Stream()
    api = FakeAPI(events=[events], logs=[logs])
    watchers = Watchers()
    good, notify = recorder()

    async def broken(u: str) -> None:
        raise RuntimeError("session closed")

    eng = fake_engine(api)
    watchers.add(eng, uri("c2", "logs"), "good", notify)
    watchers.add(eng, uri("c2", "stats"), "good", notify)
    watchers.add(eng, uri("c2", "stats"), "gone", broken)
    await until(lambda: len(api.opened["logs"]) == 1 and len(api.opened["events"]) == 1)

    logs.push(b"a new line\n")
    await until(lambda: good == [uri("c2", "logs")])
    events.push({"Action": "pause"})  # an event changes both resources
    await until(lambda: len(good) == 3)
    assert sorted(good[1:]) == [uri("c2", "logs"), uri("c2", "stats")]
    assert any("dropping subscriber of docker://containers/c2/stats: session closed" in line for line in log_lines)
    events.push({"status": "unpause"})  # the old engines' spelling
    await until(lambda: len(good) == 5)
    assert good.count(uri("c2", "stats")) == 2  # still notified; the broken one is no longer called
    watchers.remove(uri("c2", "stats"), "good")
    watchers.remove(uri("c2", "logs"), "good")
    assert watchers.active == 0  # "gone" was dropped, so nobody is left


async def test_a_start_event_reopens_the_log_stream_that_ended_when_the_container_stopped() -> None:
    events, first, second = Stream(), Stream([b"last line\n"], finite=True), Stream()
    api = FakeAPI(events=[events], logs=[first, second])
    watchers = Watchers()
    seen, notify = recorder()
    watchers.add(fake_engine(api), uri("c3", "logs"), "k", notify)
    await until(lambda: first.ended.is_set() and "watch-logs-c3" not in threads_of("c3"))
    assert seen == [uri("c3", "logs")]
    events.push({"Action": "start"})
    await until(lambda: len(api.opened["logs"]) == 2)
    second.push(b"after the restart\n")
    await until(lambda: seen.count(uri("c3", "logs")) == 3)  # the start event, then the new line
    watchers.close()
    assert watchers.active == 0 and second.closed.is_set() and events.closed.is_set()


async def test_a_start_event_opens_no_logs_for_a_stats_only_subscriber() -> None:
    events = Stream()
    api = FakeAPI(events=[events])
    watchers = Watchers()
    seen, notify = recorder()
    watchers.add(fake_engine(api), uri("c4", "stats"), "k", notify)
    await until(lambda: len(api.opened["events"]) == 1)
    events.push({"Action": "start"})
    await until(lambda: seen == [uri("c4", "stats")])
    assert api.opened["logs"] == []
    watchers.remove(uri("c4", "stats"), "k")
    await until(lambda: not threads_of("c4"))


async def test_engine_stream_failures_end_the_watch_with_a_log_line(log_lines: list[str]) -> None:
    events = Stream([{"Action": "die"}], finite=True, fail=ConnectionError("engine went away"))
    logs = Stream(finite=True, fail=ConnectionError("log stream cut"))
    api = FakeAPI(events=[events], logs=[logs])
    watchers = Watchers()
    seen, notify = recorder()
    watchers.add(fake_engine(api), uri("c5", "logs"), "k", notify)
    await until(lambda: not threads_of("c5"))
    assert seen == [uri("c5", "logs")]  # the die event was delivered before the failure
    assert any("watching events of c5 stopped: engine went away" in line for line in log_lines)
    assert any("following logs of c5 stopped: log stream cut" in line for line in log_lines)
    watchers.remove(uri("c5", "logs"), "k")
    assert watchers.active == 0


async def test_streams_cut_by_unsubscribing_end_quietly(log_lines: list[str]) -> None:
    events = Stream(fail=ConnectionError("closed by us"))
    logs = Stream(fail=ConnectionError("closed by us"))
    api = FakeAPI(events=[events], logs=[logs])
    watchers = Watchers()
    _, notify = recorder()
    watchers.add(fake_engine(api), uri("c6", "logs"), "k", notify)
    await until(lambda: len(api.opened["logs"]) == 1 and len(api.opened["events"]) == 1)
    watchers.remove(uri("c6", "logs"), "k")
    await until(lambda: events.ended.is_set() and logs.ended.is_set() and not threads_of("c6"))
    assert not [line for line in log_lines if "c6 stopped" in line]  # our own closing is no failure


async def test_a_stream_opened_after_the_last_subscriber_left_is_closed_at_once() -> None:
    api = FakeAPI()
    api.release.clear()  # the engine is slow to answer the events request
    watchers = Watchers()
    _, notify = recorder()
    watchers.add(fake_engine(api), uri("c7", "stats"), "k", notify)
    watchers.remove(uri("c7", "stats"), "k")
    assert watchers.active == 0
    api.release.set()
    await until(lambda: len(api.opened["events"]) == 1)
    await until(lambda: api.opened["events"][0].closed.is_set() and not threads_of("c7"))


async def test_destroy_ends_the_subscriptions_and_gone_of_an_unwatched_container_is_harmless() -> None:
    events = Stream()
    api, other = FakeAPI(events=[events]), FakeAPI()
    watchers = Watchers()
    _, notify = recorder()
    watchers.add(fake_engine(api), uri("c8", "logs"), "k", notify)
    watchers.add(fake_engine(other), uri("c9", "stats"), "k", notify)
    await until(lambda: len(api.opened["events"]) == 1 and len(other.opened["events"]) == 1)
    watchers.gone("never-watched")
    assert watchers.active == 2
    events.push({"Action": "destroy"})
    await until(lambda: watchers.active == 1)
    assert not watchers.wants("c8", "logs") and watchers.wants("c9", "stats")
    await until(lambda: all(s.closed.is_set() for s in api.opened["logs"]))
    assert not other.opened["events"][0].closed.is_set()
    watchers.close()
    assert watchers.active == 0 and not watchers.wants("c9", "stats")
    await until(lambda: other.opened["events"][0].closed.is_set())
    await until(lambda: not threads_of("c8") and not threads_of("c9"))
