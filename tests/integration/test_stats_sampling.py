"""One stats sample of many containers against the real engine: no match is an empty total, not an error;
a container gone between the list and its sample is said per container, the others still sampled."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import docker
import pytest
from mcp import Client

from mcp_docker.tools.stats_sampling import sample_all, totals
from tests.conftest import structured
from tests.engine import TEST_LABEL, TEST_LABEL_VALUE

pytestmark = [pytest.mark.anyio, pytest.mark.engine]


async def test_no_running_container_matching_is_an_empty_total(client: Client) -> None:
    nobody = f"{TEST_LABEL}={TEST_LABEL_VALUE}none-{uuid.uuid4().hex[:8]}"
    data = structured(await client.call_tool("docker_container_stats", {"filters": {"label": [nobody]}}))
    assert data["name"] == "0 running containers" and data["running"] is False
    assert data["total"] == 0 and data["truncated"] is False
    assert data.get("containers") in ([], None) and data.get("errors") is None
    assert data["cpu_percent"] == 0 and data["memory_usage"] == 0


def test_a_container_gone_before_its_sample_is_said_and_the_others_sampled(
    docker_client: docker.DockerClient, run_container: Callable[..., Any]
) -> None:
    alive = run_container()
    gone = run_container()
    rows = docker_client.api.containers(filters={"id": [alive.id, gone.id]})
    assert len(rows) == 2
    gone.remove(force=True)  # between the list and the sample

    samples, errors = sample_all(docker_client.api, rows)
    assert [s.name for s in samples] == [alive.name]
    assert samples[0].running is True and samples[0].pids >= 1
    assert len(errors) == 1
    assert errors[0].startswith(f"{gone.id[:12]}: No such container '{gone.id[:12]}'"), errors

    total = totals(samples, total=2, limit=1, errors=errors)
    assert total.name == "1 running containers" and total.errors == errors
    assert total.truncated is True and total.pids == samples[0].pids
