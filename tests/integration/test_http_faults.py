"""Engine faults during HTTP load, at a reduced size (tests/performance/http_faults.py has the
scenarios; the benchmark runs them at full size). Correctness only: the bounds checked are the
server's own settings (connect timeout, deadlines, concurrency), not performance figures.

The engine that is stopped is a private dockerd this module starts (tests/private_engine.py); the
slow engine is a delaying proxy in front of the engine the tests use, for read-only calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from tests import engine as test_engine
from tests.performance import http_faults, http_load
from tests.private_engine import PrivateEngine

pytestmark = [pytest.mark.anyio, pytest.mark.engine]


@pytest.fixture(scope="module")
def private_engine() -> Iterator[PrivateEngine]:
    eng = PrivateEngine(storage_driver="vfs")
    try:
        test_engine.ensure_test_image(eng.start())
        yield eng
    finally:
        eng.destroy()


@pytest.mark.parametrize("era", [http_load.LEGACY, http_load.MODERN])
async def test_engine_stopped_during_load_answers_fast_and_recovers(era: str, private_engine: PrivateEngine) -> None:
    client = private_engine.start()
    targets = http_load.load_targets(client, test_engine.TEST_IMAGE, count=2)
    try:
        report = await http_faults.engine_outage(
            private_engine,
            [t.name for t in targets],
            test_engine.TEST_IMAGE,
            era,
            clients=8,
            seconds=14,
            stop_after=3,
            down_for=4,
            connect_timeout=2,
        )
    finally:
        http_load.remove(private_engine.start(), targets)

    assert report["server_up"]
    assert report["hangs"] == 0, report
    assert report["down_calls"] > 0, report
    assert report["down_errors"] == {"engine unavailable": report["down_calls"]}, report
    assert report["down_max_ms"] <= 2000 + 1000, report  # the connect timeout, plus scheduling slack
    assert report["recovered_after_s"] <= 2.0, report
    assert report["errors_after_recovery"] == {}, report
    assert http_load.leftovers(private_engine.client) == []


@pytest.mark.parametrize("era", [http_load.LEGACY, http_load.MODERN])
async def test_slow_engine_calls_end_at_their_deadline_within_the_bound(
    era: str, tmp_path: Path, docker_client: docker.DockerClient, test_image: str
) -> None:
    targets: list[Any] = http_load.load_targets(docker_client, test_image, count=2)
    upstream = docker_client.api.base_url
    socket_path = "/var/run/docker.sock"
    if upstream.startswith("http+unix://"):
        from urllib.parse import unquote

        socket_path = unquote(upstream[len("http+unix://") :])
    import os

    host = os.environ.get("DOCKER_HOST", "")
    if host.startswith("unix://"):
        socket_path = host[len("unix://") :]
    try:
        report = await http_faults.slow_engine(
            tmp_path,
            socket_path,
            [t.name for t in targets],
            test_image,
            era,
            clients=8,
            seconds=20,
            max_calls=120,
            max_concurrency=3,
            deadline=1.0,
        )
    finally:
        http_load.remove(docker_client, targets)
    proxy = report["proxy"]

    assert report["server_up"]
    assert report["errors"].get("client timeout (hang)", 0) == 0, report
    assert set(report["errors"]) <= {"deadline", "engine unavailable"}, report
    assert report["errors"].get("deadline", 0) > 0, report  # some requests were held past the deadline
    # A call may first wait for a slot behind the calls ahead of it (8 clients, 3 slots: at most two
    # rounds, each held at most its 1 s deadline), then run to its own deadline; plus scheduling slack.
    assert report["max_call_ms"] < 1000 * (1.0 * 3 + 2.0), report
    assert proxy["max_outstanding"] <= 3, report  # never more engine requests than MAX_CONCURRENCY
    assert proxy["closed_while_outstanding"] > 0, report  # cancelled calls shut their engine requests
    assert proxy["outstanding"] == 0, report
