"""The Compose tool's own logic (tools/compose_tools.py) around the CLI: reading the resolved model (a CLI that
fails or prints something that is not a mapping), the effective project name, container ids from each CLI's
`ps`, the objects a project would adopt, the question before `down`, and arguments refused before anything
is read. Stand-in CLIs and a recording stand-in for the engine API; the real engine runs are in
tests/integration/test_compose*.py."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from mcp_docker.server import create_server
from mcp_docker.tools.compose_project import Project
from mcp_docker.tools.compose_tools import (
    _down_question,
    _ids,
    check_owned_objects,
    effective_name,
    model_profiles,
    resolved_model,
)
from mcp_docker.utils.errors import EngineError, UnsafeOperation, ValidationError
from tests.conftest import allow_settings, error_text

V1 = ("docker-compose",)


def _cli(tmp_path: Path, body: str, v2: bool) -> tuple[str, ...]:
    """A stand-in Compose CLI that ignores its arguments and runs `body` (sh)."""
    program = tmp_path / "fake-compose"
    program.write_text(f"#!/bin/sh\n{body}\n")
    program.chmod(0o755)
    return (str(program), "compose") if v2 else (str(program),)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(directory=tmp_path, files=[tmp_path / "compose.yaml"])


@pytest.mark.anyio
async def test_a_config_that_fails_is_an_engine_error_with_its_output_fenced(tmp_path: Path, project: Project) -> None:
    cli = _cli(tmp_path, "echo 'services.web.image must be a string' >&2; exit 14", v2=True)
    with pytest.raises(EngineError) as caught:
        await resolved_model(cli, project, None, dict(os.environ), 30)
    message = caught.value.message
    assert "could not read the project: 'config'" in message and "(exit 14)" in message
    assert "services.web.image must be a string" in message and "untrusted data" in message
    assert "action 'config' shows how Compose reads the project" in caught.value.hint


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "v2", "message"),
    [
        ("echo 'name: x'", True, "could not be parsed"),  # v2 is asked for JSON
        ("printf 'services: [unclosed\\n'", False, "could not be parsed"),  # v1 prints YAML
        ("echo '[1, 2]'", True, "is not a mapping"),
        ("echo '- a'", False, "is not a mapping"),
    ],
)
async def test_a_resolved_model_that_is_not_a_mapping_is_refused(
    tmp_path: Path, project: Project, body: str, v2: bool, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        await resolved_model(_cli(tmp_path, body, v2), project, None, dict(os.environ), 30)


@pytest.mark.anyio
async def test_the_resolved_model_of_each_cli(tmp_path: Path, project: Project) -> None:
    v2 = _cli(tmp_path, 'echo \'{"name": "p", "services": {"a": {}}}\'', v2=True)
    assert await resolved_model(v2, project, None, dict(os.environ), 30) == {"name": "p", "services": {"a": {}}}
    v1 = _cli(tmp_path, "printf 'services:\\n  a:\\n    image: x\\n'", v2=False)
    assert await resolved_model(v1, project, None, dict(os.environ), 30) == {"services": {"a": {"image": "x"}}}


def test_the_effective_name_and_a_bad_one(tmp_path: Path) -> None:
    project = Project(directory=tmp_path / "Dir.Name", files=[])
    assert effective_name("given", {"name": "model"}, project) == "given"
    assert effective_name(None, {"name": "model"}, project) == "model"
    assert effective_name(None, {}, project) == "dirname"
    with pytest.raises(ValidationError) as caught:
        effective_name(None, {"name": "Not Valid!"}, project)
    assert "'Not Valid!' is not valid; pass project_name" in caught.value.message


def test_profiles_are_read_only_from_service_lists() -> None:
    model = {"services": {"a": {"profiles": ["debug", "x"]}, "b": {"profiles": "debug"}, "c": None, "d": {}}}
    assert model_profiles(model) == ("debug", "x")
    assert model_profiles({}) == ()


def test_container_ids_from_each_clis_ps() -> None:
    one, two = "a" * 64, "b" * 12
    assert _ids(V1, f"{one}\nWARNING: something\n{two}\n\nxyz\n") == [one, two]
    v2 = ("docker", "compose")
    array = json.dumps([{"ID": one, "Name": "p-a-1"}, {"Name": "no-id"}, "not-a-row"])
    assert _ids(v2, f"  {array}\n") == [one]  # Compose 2.20 and before: one JSON array
    lines = f"{json.dumps({'ID': one})}\nnot json at all\n{json.dumps({'ID': two})}\n"
    assert _ids(v2, lines) == [one, two]  # later: one JSON object a line
    assert _ids(v2, "") == []


class _Api:
    """The engine API calls the Compose tool makes, answering from fixed rows and recording the filters."""

    def __init__(
        self, containers: list[dict[str, Any]], networks: list[dict[str, Any]], volumes: list[dict[str, Any]]
    ) -> None:
        self._containers, self._networks, self._volumes = containers, networks, volumes
        self.asked: list[tuple[str, dict[str, Any]]] = []

    def containers(self, all: bool, filters: dict[str, Any]) -> list[dict[str, Any]]:
        self.asked.append(("containers", filters))
        return self._containers

    def networks(self, filters: dict[str, Any]) -> list[dict[str, Any]]:
        self.asked.append(("networks", filters))
        return self._networks

    def volumes(self, filters: dict[str, Any]) -> dict[str, Any]:
        self.asked.append(("volumes", filters))
        return {"Volumes": self._volumes}


class _Eng:
    def __init__(self, api: _Api) -> None:
        self.api = api


def test_objects_the_project_would_adopt() -> None:
    own = {"Name": "proj_data", "Labels": {"com.docker.compose.project": "proj"}}
    api = _Api([], [{"Name": "shared", "Labels": {}}], [own])
    model = {"volumes": {"data": None, "odd": "not-a-mapping"}, "networks": {"front": {"name": "shared"}}}
    with pytest.raises(UnsafeOperation) as caught:
        check_owned_objects(_Eng(api), model, "proj")  # type: ignore[arg-type]
    assert "network 'front' would use the existing network 'shared'" in caught.value.message
    assert "does not belong to project 'proj'" in caught.value.message and "name of its own" in caught.value.hint
    # the volume of its own passes; a volume entry that is not a mapping names nothing to look up
    assert api.asked == [("volumes", {"name": "proj_data"}), ("networks", {"name": "shared"})]


def test_the_down_question_names_containers_networks_and_volumes_to_lose() -> None:
    label = "com.docker.compose.project"
    rows = [{"Names": [f"/proj-web-{i}"], "Labels": {label: "proj"}} for i in range(22)]
    api = _Api(rows, [{"Name": "proj_default"}], [{"Name": "proj_data"}])
    question = _down_question(_Eng(api), {"project_name": "proj", "remove_volumes": True})  # type: ignore[arg-type]
    lines = question.splitlines()
    assert lines[0].startswith("Compose down of project 'proj' (directory ''")
    assert lines[1].startswith("Containers (22): ") and lines[1].endswith(" ....")  # 20 shown of 22, then "."
    assert lines[1].count("proj-web-") == 20
    assert lines[2] == "Networks (1): 'proj_default'."
    assert lines[3] == "Volumes, with their data (lost) (1): 'proj_data'." and lines[-1] == "Proceed?"
    kept = _down_question(_Eng(api), {"project_name": "proj"})  # type: ignore[arg-type]
    assert "Volumes kept (remove_volumes=false) (1): 'proj_data'." in kept and "lost" not in kept


def test_the_down_question_by_directory_when_nothing_runs(tmp_path: Path) -> None:
    api = _Api([], [], [])
    question = _down_question(_Eng(api), {"files": [str(tmp_path / "compose.yaml")]})  # type: ignore[arg-type]
    assert question.splitlines()[:3] == [
        f"Compose down of project (none running) (directory '{tmp_path.resolve()}') removes:",
        "Containers (0).",
        "Networks (0).",
    ]
    assert "Volumes" not in question
    assert api.asked == [("containers", {"label": f"com.docker.compose.project.working_dir={tmp_path.resolve()}"})]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"action": "ps", "project_name": "Bad Name"}, "Invalid project name 'Bad Name'"),
        ({"action": "ps", "services": ["-rm"]}, "Invalid service name '-rm'"),
        ({"action": "down", "services": ["web"]}, "'down' works on the whole project; leave services empty"),
        ({"action": "config", "services": ["web"]}, "'config' works on the whole project"),
        ({"action": "up", "remove_volumes": True}, "remove_volumes applies to action 'down' only"),
        ({"action": "build", "build": True}, "use action 'build' to only build"),
    ],
)
async def test_arguments_refused_before_any_file_is_read(
    tmp_path: Path, arguments: dict[str, Any], message: str
) -> None:
    marker = tmp_path / "compose.yaml"  # would be read if the checks let the call through
    marker.write_text("services: [not, valid, for, compose]\n")
    async with Client(create_server(allow_settings())) as client:
        result = await client.call_tool("docker_compose_operations", {"project_dir": str(tmp_path), **arguments})
    assert message in error_text(result)
