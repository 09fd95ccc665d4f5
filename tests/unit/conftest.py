"""Fixtures the unit tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mcp_docker.utils.logger import logger


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """The messages the server logs (at any level) while the test runs."""
    lines: list[str] = []
    sink = logger.add(lambda message: lines.append(str(message)), level="DEBUG", format="{message}")
    yield lines
    logger.remove(sink)
