"""Bad strings in arguments (NUL, control and invisible characters in names, references and paths) are
clear validation errors before the engine is asked; engine text with such characters reaches the model
clean."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest
from mcp import Client

from tests.conftest import TEST_LABELS, error_text, structured

pytestmark = [pytest.mark.anyio, pytest.mark.engine]


async def test_bad_strings_are_validation_errors_and_reach_nothing(
    client: Client,
    docker_client: docker.DockerClient,
    test_image: str,
    unique: Callable[[str], str],
    run_container: Callable[..., Any],
    tmp_path: Path,
) -> None:
    running = run_container()
    name = unique("bad")
    calls: list[tuple[str, dict[str, Any], str]] = [
        ("docker_inspect_container", {"container": "web\x00"}, "argument 'container'"),
        ("docker_stop_container", {"container": f"{running.name}\n"}, "argument 'container'"),
        ("docker_inspect_image", {"image": "alpine\x00:latest"}, "argument 'image'"),
        ("docker_pull_image", {"image": "alpine", "tag": "1\r"}, "argument 'tag'"),
        ("docker_create_volume", {"name": f"{name}\u202e"}, "argument 'name'"),
        ("docker_create_network", {"name": f"{name}\u200b"}, "argument 'name'"),
        ("docker_create_container", {"image": test_image, "name": f"{name}\x1b[2J"}, "argument 'name'"),
        ("docker_create_container", {"image": test_image, "name": name, "working_dir": "/w\x00"}, "'working_dir'"),
        ("docker_create_container", {"image": test_image, "name": name, "environment": {"K\nX": "v"}}, "key 'K\\nX'"),
        ("docker_exec_command", {"container": running.name, "command": ["ls"], "workdir": "/\x00"}, "'workdir'"),
        ("docker_exec_command", {"container": running.name, "command": ["ls"], "user": "root\t"}, "'user'"),
        ("docker_exec_command", {"container": running.name, "command": ["echo", "a\x00b"]}, "'command' (item 1)"),
        ("docker_build_image", {"path": f"{tmp_path}\x00"}, "argument 'path'"),
        ("docker_remove_volume", {"volume": "v\U000e0041"}, "argument 'volume'"),
    ]
    for tool, arguments, where in calls:
        text = error_text(await client.call_tool(tool, arguments))
        assert f"Invalid {where}" in text or where in text, (tool, text)
        assert "NUL byte" in text or "control or invisible character" in text, (tool, text)
        assert "validation error for" not in text and "Traceback" not in text
    assert running.reload() is None and running.status == "running"
    assert not [c for c in docker_client.containers.list(all=True) if c.name.startswith(name)]
    assert not [v for v in docker_client.volumes.list() if v.name.startswith(name)]
    assert not [n for n in docker_client.networks.list() if n.name.startswith(name)]


async def test_engine_text_with_invisible_characters_reaches_the_model_clean(
    client: Client, docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str]
) -> None:
    hidden = "ok\U000e0049\U000e0047\u200b\u202e\u2066\ufeff"
    container = docker_client.containers.create(
        test_image,
        ["sh", "-c", "printf 'line\\342\\200\\250fake\\302\\205x\\033[31mred'; sleep 300"],
        name=unique("hidden"),
        labels={**TEST_LABELS, f"note{hidden}": f"value{hidden}\u2028next"},
    )
    container.start()
    details = structured(await client.call_tool("docker_inspect_container", {"container": container.name}))
    assert details["labels"][f"note{'ok'}"] == "valueok\nnext"
    data = structured(
        await client.call_tool(
            "docker_exec_command",
            {
                "container": container.name,
                "command": ["printf", "a\\363\\240\\201\\201b\\342\\200\\213c\\342\\200\\251d"],
            },
        )
    )
    assert data["stdout"] == "abc\nd"


async def test_a_bad_name_is_refused_before_the_user_is_asked(run_container: Callable[..., Any]) -> None:
    from mcp.types import ElicitResult

    from mcp_docker.config import Settings
    from mcp_docker.server import create_server

    asked: list[str] = []

    async def user(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content={"confirm": True})

    running = run_container()
    async with Client(create_server(Settings()), mode="legacy", elicitation_callback=user) as c:
        text = error_text(
            await c.call_tool("docker_remove_container", {"container": f"{running.name}\x00", "force": True})
        )
    assert "NUL byte" in text and "argument 'container'" in text
    assert asked == []
    running.reload()
    assert running.status == "running"
