"""Shared fixtures: a real engine (started if needed), the test image, servers and MCP clients.

Every Docker object a test creates has a name starting with `mcpt-` or the label
`mcp-docker.test=<prefix>` (see tests/engine.py); the session removes them all at the end, whatever happened.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import docker
import pytest
from mcp import Client, StdioServerParameters

from mcp_docker.config import Settings
from mcp_docker.server import create_server
from tests import engine as test_engine
from tests import engine_features

MODES = ["legacy", "auto"]


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "engine_feature(*names): runs only where the engine under test has every named feature "
        "(tests/engine_features.py); elsewhere deselected and reported as not applicable",
    )
    test_engine.select_environment()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    engine_features.deselect_not_applicable(config, items)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    engine_features.summary(terminalreporter, config)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    test_engine.stop_session_engine()


@pytest.fixture(scope="session")
def engine_handle() -> Iterator[test_engine.EngineHandle]:
    handle = test_engine.session_engine()
    try:
        test_engine.claim_prefix()  # before any cleanup: never another live session's objects
    except RuntimeError as exc:
        pytest.exit(str(exc), returncode=3)
    test_engine.cleanup(handle.client)  # leftovers of an earlier, killed run
    try:
        yield handle
    finally:
        removed = test_engine.cleanup(handle.client)
        if removed:
            print(f"\nremoved {len(removed)} test objects", file=sys.stderr)


@pytest.fixture(scope="session")
def docker_client(engine_handle: test_engine.EngineHandle) -> docker.DockerClient:
    return engine_handle.client


@pytest.fixture(scope="session")
def test_image(docker_client: docker.DockerClient) -> str:
    return test_engine.ensure_test_image(docker_client)


@pytest.fixture
def unique() -> Callable[[str], str]:
    def make(kind: str) -> str:
        return f"{test_engine.PREFIX}{kind}-{uuid.uuid4().hex[:8]}"

    return make


TEST_LABELS = {test_engine.TEST_LABEL: test_engine.TEST_LABEL_VALUE}


@pytest.fixture
def run_container(
    docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str]
) -> Iterator[Callable[..., Any]]:
    """Start a labelled busybox container directly on the engine (not through the server). The test's
    containers are removed when it ends (a CPU-spinning one left until the session's cleanup slowed
    every later test on 2 cores); the session's cleanup still catches anything else."""
    started: list[Any] = []

    def run(command: list[str] | str = "sleep 300", **kwargs: Any) -> Any:
        labels = {**TEST_LABELS, **kwargs.pop("labels", {})}
        container = docker_client.containers.run(
            test_image, command, detach=True, name=kwargs.pop("name", unique("c")), labels=labels, **kwargs
        )
        started.append(container)
        return container

    yield run
    for container in started:
        with contextlib.suppress(docker.errors.DockerException):
            container.remove(force=True)


BUILD_ROOT = tempfile.gettempdir()


def allow_settings(**overrides: Any) -> Settings:
    """Settings for tests that exercise tools, not the confirmation flow: destructive tools run, and
    builds may use contexts under the temporary directory (where tests make them)."""
    return Settings(**{"destructive": "allow", "allowed_build_roots": [BUILD_ROOT], **overrides})


@pytest.fixture
def settings() -> Settings:
    return allow_settings()


@pytest.fixture(params=MODES)
async def client(request: pytest.FixtureRequest, settings: Settings, docker_client: Any) -> AsyncIterator[Client]:
    """An SDK client connected in-memory to a fresh server, in each protocol era."""
    async with Client(create_server(settings), mode=request.param) as c:
        yield c


def stdio_params(env: dict[str, str] | None = None) -> StdioServerParameters:
    import os

    base = {k: v for k, v in os.environ.items() if not k.startswith("MCP_DOCKER_")}
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_docker"],
        env={
            **base,
            "MCP_DOCKER_DESTRUCTIVE": "allow",
            "MCP_DOCKER_LOG_LEVEL": "WARNING",
            "MCP_DOCKER_ALLOWED_BUILD_ROOTS": BUILD_ROOT,
            **(env or {}),
        },
    )


def structured(result: Any) -> dict[str, Any]:
    """The structured content of a successful tool result (fails the test on an error result)."""
    assert not result.is_error, result.content[0].text if result.content else result
    assert result.structured_content is not None
    data: dict[str, Any] = result.structured_content
    return data


def error_text(result: Any) -> str:
    assert result.is_error, f"expected an error, got {result.structured_content}"
    text: str = result.content[0].text
    return text


@pytest.fixture(scope="session")
def registry() -> Iterator[str]:
    """A registry on 127.0.0.1 (port 5000 when free) for this session; yields its 'host:port'."""
    from tests.registry import start_registry

    running = start_registry()
    try:
        yield running.host
    finally:
        running.stop()


@pytest.fixture(scope="session")
def auth_registry() -> Iterator[str]:
    """A second registry, on a free port, that needs the credentials of tests/registry.py (HTTP basic)."""
    from tests.registry import start_registry

    running = start_registry(preferred_port=0, auth=True)
    try:
        yield running.host
    finally:
        running.stop()
