"""One stats sample of many containers at once: taken concurrently, so the whole takes about one sample."""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mcp_docker.tools.container_models import ContainerStats
from mcp_docker.utils.errors import map_engine_error
from mcp_docker.utils.output import clean_text

MAX_PARALLEL = 16


def sample_all(api: Any, rows: list[dict[str, Any]]) -> tuple[list[ContainerStats], list[str]]:
    """A sample of each container in `rows` (engine list rows); returns the samples and per-container errors.

    Each worker runs in a copy of the caller's context, so cancelling the call aborts their engine
    requests too (see docker/client.py)."""

    def one(row: dict[str, Any]) -> ContainerStats:
        name = clean_text((row.get("Names") or ["/" + row["Id"][:12]])[0].lstrip("/"))
        raw: dict[str, Any] = api.stats(row["Id"], stream=False)
        return ContainerStats.from_engine(name, raw)

    samples: list[ContainerStats] = []
    errors: list[str] = []
    if not rows:
        return samples, errors
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(rows))) as pool:
        futures = [(row, pool.submit(contextvars.copy_context().run, one, row)) for row in rows]
        for row, future in futures:
            try:
                samples.append(future.result())
            except Exception as exc:  # a container that went away meanwhile: said, not fatal
                errors.append(f"{row['Id'][:12]}: {map_engine_error(exc, 'container', row['Id'][:12]).message}")
    return samples, errors


def totals(samples: list[ContainerStats], total: int, limit: int, errors: list[str]) -> ContainerStats:
    """The sum over the samples, with each sample in `containers`."""
    return ContainerStats(
        container="*",
        name=f"{len(samples)} running containers",
        running=bool(samples),
        cpu_percent=round(sum(s.cpu_percent for s in samples), 2),
        online_cpus=max((s.online_cpus for s in samples), default=0),
        memory_usage=sum(s.memory_usage for s in samples),
        memory_limit=max((s.memory_limit for s in samples), default=0),
        memory_percent=round(sum(s.memory_percent for s in samples), 2),
        network_rx=sum(s.network_rx for s in samples),
        network_tx=sum(s.network_tx for s in samples),
        block_read=sum(s.block_read for s in samples),
        block_write=sum(s.block_write for s in samples),
        pids=sum(s.pids for s in samples),
        containers=samples,
        total=total,
        truncated=total > limit,
        errors=errors or None,
    )
