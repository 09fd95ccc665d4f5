"""Shared pieces of the Compose tests: the CLI choice, a canary outside the allowed roots, engine checks."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest

from tests.engine import PREFIX, TEST_LABEL, TEST_LABEL_VALUE

CLIS = [
    pytest.param("v1", marks=pytest.mark.engine_feature("compose-v1")),
    pytest.param("v2", marks=pytest.mark.engine_feature("compose-v2")),
]
"""Each Compose CLI where the engine under test uses it (old engine: v1; current engine: v2); CI runs both."""


@dataclass
class Canary:
    """A directory outside every allowed root (the tests' roots are under the temporary directory), with a
    secret file: its text must never reach a container, an image, the model's output or an error."""

    directory: Path
    secret: Path
    text: str

    def absent_from(self, *texts: str) -> bool:
        return all(self.text not in t and "SECOND-LINE" not in t for t in texts)


@pytest.fixture
def canary() -> Iterator[Canary]:
    directory = Path("/var/tmp") / f"{PREFIX}canary-{uuid.uuid4().hex[:8]}"
    directory.mkdir()
    text = f"CANARY-{uuid.uuid4().hex}"
    secret = directory / "secret"
    secret.write_text(f"{text}\nSECOND-LINE\n")
    try:
        yield Canary(directory, secret, text)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def service(image: str, extra: str = "", name: str = "app") -> str:
    """One service in v2 style (no `version:` key) labelled for the test session, with `extra` lines under it."""
    return (
        f'  {name}:\n    image: {image}\n    command: ["sleep", "300"]\n    stop_signal: SIGKILL\n'
        f'    labels:\n      {TEST_LABEL}: "{TEST_LABEL_VALUE}"\n{extra}'
    )


def project_containers(docker_client: docker.DockerClient, project: str) -> list[Any]:
    return docker_client.containers.list(all=True, filters={"label": f"com.docker.compose.project={project}"})


def nothing_created(docker_client: docker.DockerClient, project: str) -> bool:
    networks = [n for n in docker_client.networks.list() if n.name.startswith(project)]
    volumes = [v for v in docker_client.volumes.list() if v.name.startswith(project)]
    return project_containers(docker_client, project) == [] and networks == [] and volumes == []
