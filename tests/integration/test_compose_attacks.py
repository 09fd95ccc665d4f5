"""The red team's holes in the Compose tool, attacked through the real MCP client against the real engine,
with Compose v1 and v2. Each attack is refused with the key or path named; the engine shows nothing was
created, and a canary file outside the allowed roots never appears in an output or an error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest
from mcp import Client

from mcp_docker.config import Settings
from mcp_docker.server import create_server
from tests.compose_support import CLIS, Canary, canary, nothing_created, project_containers, service
from tests.conftest import allow_settings, error_text, structured

pytestmark = [pytest.mark.anyio, pytest.mark.engine]
__all__ = ["canary"]  # the fixture, imported for this module's tests


@pytest.fixture(params=CLIS)
def cli(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(cli: str) -> Settings:
    return allow_settings(compose_cli=cli)


# (name, compose text with {image} and {canary} (the canary directory), what the error must name)
ATTACKS: list[tuple[str, str, str]] = [
    ("use_api_socket", "services:\n" + service("{image}", "    use_api_socket: true\n"), "use_api_socket"),
    (
        "secret_file",
        "services:\n" + service("{image}", "    secrets: [s]\n") + "secrets:\n  s:\n    file: {canary}/secret\n",
        "secrets",
    ),
    (
        "config_file",
        "services:\n" + service("{image}", "    configs: [c]\n") + "configs:\n  c:\n    file: {canary}/secret\n",
        "configs",
    ),
    (
        "device_cgroup_rules",
        "services:\n" + service("{image}", "    device_cgroup_rules: ['c 1:3 mr']\n"),
        "device_cgroup_rules",
    ),
    (
        "volumes_from",
        "services:\n" + service("{image}", "    volumes_from: [other]\n") + service("{image}", name="other"),
        "volumes_from",
    ),
    (
        "external_volume",
        "services:\n" + service("{image}", "    volumes: [ext:/data]\n") + "volumes:\n  ext:\n    external: true\n",
        "external",
    ),
    ("env_file", "services:\n" + service("{image}", "    env_file: [{canary}/secret]\n"), "env_file"),
    ("label_file", "services:\n" + service("{image}", "    label_file: {canary}/secret\n"), "label_file"),
    ("env_file_dotdot", "services:\n" + service("{image}", "    env_file: ../../../../{canary}/secret\n"), "env_file"),
    ("cgroup_parent", "services:\n" + service("{image}", "    cgroup_parent: /evil\n"), "cgroup_parent"),
    (
        "sysctls",
        "services:\n" + service("{image}", "    sysctls:\n      kernel.core_pattern: '|/bin/sh'\n"),
        "sysctls",
    ),
    (
        "extends_outside",
        "services:\n  app:\n    extends:\n      file: {canary}/base.yml\n      service: base\n",
        "extends file",
    ),
    ("include_outside", "include:\n  - {canary}/base.yml\nservices:\n" + service("{image}"), "included file"),
    (
        "build_secret",
        "services:\n"
        + service("{image}", "    build:\n      context: .\n      secrets: [s]\n")
        + "secrets:\n  s:\n    file: {canary}/secret\n",
        "secrets",
    ),
    (
        "build_network_host",
        "services:\n" + service("{image}", "    build:\n      context: .\n      network: host\n"),
        "network",
    ),
    ("build_ssh", "services:\n" + service("{image}", "    build:\n      context: .\n      ssh: [default]\n"), "ssh"),
    ("provider", "services:\n" + service("{image}", "    provider:\n      type: /bin/sh\n"), "provider"),
    ("port_all_interfaces", "services:\n" + service("{image}", "    ports: ['18081:80']\n"), "every interface"),
    ("port_other_address", "services:\n" + service("{image}", "    ports: ['10.1.2.3:18082:80']\n"), "10.1.2.3"),
    ("variable_in_path", "services:\n" + service("{image}", "    env_file: ${{HOME}}/x.env\n"), "uses a variable"),
    (
        "external_network_host",
        "services:\n"
        + service("{image}", "    networks: [h]\n")
        + "networks:\n  h:\n    external: true\n    name: host\n",
        "external",
    ),
    (
        "adopt_host_network",
        "services:\n" + service("{image}", "    networks: [h]\n") + "networks:\n  h:\n    name: host\n",
        "host",
    ),
]


@pytest.mark.parametrize(("extra", "compose", "named"), ATTACKS, ids=[a[0] for a in ATTACKS])
async def test_attack_is_refused_and_nothing_reaches_the_engine(
    client: Client,
    docker_client: docker.DockerClient,
    test_image: str,
    unique: Callable[[str], str],
    tmp_path: Path,
    canary: Canary,
    extra: str,
    compose: str,
    named: str,
) -> None:
    (canary.directory / "base.yml").write_text(
        "services:\n  base:\n    image: " + test_image + "\n    privileged: true\n    env_file: secret\n"
    )
    (tmp_path / "compose.yaml").write_text(compose.format(image=test_image, canary=canary.directory))
    project = unique("catk")
    texts: list[str] = []
    for action in ("up", "build"):
        text = error_text(
            await client.call_tool(
                "docker_compose_operations", {"action": action, "project_dir": str(tmp_path), "project_name": project}
            )
        )
        texts.append(text)
        assert named in text, text
    assert nothing_created(docker_client, project)
    assert canary.absent_from(*texts)


async def test_profiled_service_named_in_services_is_checked(
    client: Client, docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str], tmp_path: Path
) -> None:
    """A service behind a profile is left out of a plain `config`; naming it in `services` starts it.
    The check sees every profile."""
    (tmp_path / "compose.yaml").write_text(
        "services:\n"
        + service(test_image)
        + service(test_image, "    profiles: [debug]\n    privileged: true\n", "dbg")
    )
    project = unique("cprof")
    text = error_text(
        await client.call_tool(
            "docker_compose_operations",
            {"action": "up", "project_dir": str(tmp_path), "project_name": project, "services": ["dbg"]},
        )
    )
    assert "Compose service 'dbg'" in text and "privileged" in text
    assert nothing_created(docker_client, project)


async def test_files_outside_the_roots_are_never_read(cli: str, tmp_path: Path, canary: Canary) -> None:
    """`config` is SAFE (read-only mode has it), so it must not read the host: no compose file, project
    directory or symlink outside the roots, and the file's text is never echoed."""
    (canary.directory / "compose.yaml").write_text("services:\n  a:\n    image: x\n")
    (canary.directory / ".env").write_text(f"LEAK={canary.text}\n")
    (tmp_path / "link.yml").symlink_to(canary.secret)
    async with Client(create_server(allow_settings(read_only=True, compose_cli=cli))) as c:
        calls: list[dict[str, Any]] = [
            {"files": [str(canary.secret)]},
            {"files": ["/etc/shadow"]},
            {"project_dir": str(canary.directory)},
            {"project_dir": str(tmp_path), "files": ["link.yml"]},
            {"project_dir": str(tmp_path), "files": [f"../../../../{canary.directory}/compose.yaml"]},
        ]
        for args in calls:
            text = error_text(await c.call_tool("docker_compose_operations", {"action": "config", **args}))
            assert "outside the allowed roots" in text, text
            assert canary.absent_from(text)


async def test_server_environment_never_reaches_compose(
    cli: str,
    monkeypatch: pytest.MonkeyPatch,
    docker_client: docker.DockerClient,
    test_image: str,
    unique: Callable[[str], str],
    tmp_path: Path,
) -> None:
    """`${VAR}` in a compose file is filled from the CLI's environment: the server's own variables (its
    HTTP token, any secret of its process) are not in it, so neither `config` nor a container sees them."""
    monkeypatch.setenv("MCP_DOCKER_HTTP_TOKEN", "token-of-the-server-1234567890")
    monkeypatch.setenv("SOME_SERVER_SECRET", "server-secret-0987654321")
    extra = (
        '    environment:\n      T: "${{MCP_DOCKER_HTTP_TOKEN:-unset}}"\n      S: "${{SOME_SERVER_SECRET:-unset}}"\n'
    )
    (tmp_path / "compose.yaml").write_text("services:\n" + service(test_image, extra.format()))
    project = unique("cenv")
    args = {"project_dir": str(tmp_path), "project_name": project}
    async with Client(create_server(allow_settings(redact_env=False, compose_cli=cli))) as c:
        try:
            config = structured(await c.call_tool("docker_compose_operations", {**args, "action": "config"}))
            assert "T: unset" in config["output"] and "S: unset" in config["output"]
            up = structured(await c.call_tool("docker_compose_operations", {**args, "action": "up"}))
            assert up["project_name"] == project
            env = project_containers(docker_client, project)[0].attrs["Config"]["Env"]
            assert "T=unset" in env and "S=unset" in env
            for text in (config["output"], up["output"], str(env)):
                assert "token-of-the-server" not in text and "server-secret" not in text
        finally:
            await c.call_tool("docker_compose_operations", {**args, "action": "down"})


async def test_config_redacts_environment_and_labels_on_the_model(
    client: Client, test_image: str, tmp_path: Path
) -> None:
    """Redaction is done on the parsed model: a long value that YAML folds over several lines, labels and
    build args are hidden too."""
    long_value = " ".join(f"word{i}" for i in range(60))
    (tmp_path / "compose.yaml").write_text(
        "services:\n"
        + service(test_image, f'    environment:\n      LONG: "{long_value}"\n').replace(
            "labels:\n", "labels:\n      api_key: label-secret-value\n"
        )
    )
    (tmp_path / ".env").write_text("COMPOSE_PROJECT_NAME=from-dotenv\n")
    config = structured(
        await client.call_tool("docker_compose_operations", {"action": "config", "project_dir": str(tmp_path)})
    )
    out = config["output"]
    assert "LONG" in out and "api_key" in out
    assert "word1" not in out and "word59" not in out and "label-secret-value" not in out
    assert config["project_name"] == "from-dotenv"


async def test_build_dockerfile_outside_the_context_is_refused(
    client: Client, docker_client: docker.DockerClient, unique: Callable[[str], str], tmp_path: Path, canary: Canary
) -> None:
    image = unique("cdf") + ":1"
    (tmp_path / "compose.yaml").write_text(
        f"services:\n  app:\n    image: {image}\n    build:\n      context: .\n      dockerfile: {canary.secret}\n"
    )
    for action in ("build", "up"):
        text = error_text(
            await client.call_tool("docker_compose_operations", {"action": action, "project_dir": str(tmp_path)})
        )
        assert "key 'dockerfile'" in text and "outside the build context" in text
        assert canary.absent_from(text)
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(image)


async def test_dotenv_cannot_choose_the_engine(client: Client, test_image: str, tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n" + service(test_image))
    (tmp_path / ".env").write_text("DOCKER_HOST=tcp://10.9.9.9:2375\nCOMPOSE_FILE=/etc/passwd\n")
    text = error_text(
        await client.call_tool("docker_compose_operations", {"action": "ps", "project_dir": str(tmp_path)})
    )
    assert "COMPOSE_FILE, DOCKER_HOST" in text and "Refused" in text


async def test_project_name_of_another_directory_is_refused(
    client: Client, docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str], tmp_path: Path
) -> None:
    """A `.env` with COMPOSE_PROJECT_NAME of an existing project (from another directory) would recreate
    or remove that project: refused, and the other project's containers are untouched."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "compose.yaml").write_text("services:\n" + service(test_image))
    (second / "compose.yaml").write_text("services:\n" + service(test_image, "    privileged: false\n"))
    name = unique("cown")
    (second / ".env").write_text(f"COMPOSE_PROJECT_NAME={name}\n")
    owner = {"project_dir": str(first), "project_name": name}
    try:
        up = structured(await client.call_tool("docker_compose_operations", {**owner, "action": "up"}))
        assert up["project_name"] == name
        before = {c.id for c in project_containers(docker_client, name)}
        assert len(before) == 1
        for action in ("up", "down", "stop", "restart"):
            text = error_text(
                await client.call_tool("docker_compose_operations", {"action": action, "project_dir": str(second)})
            )
            assert f"project name {name!r} belongs to a project from another directory" in text
            assert str(first) in text
        after = project_containers(docker_client, name)
        assert {c.id for c in after} == before and all(c.status == "running" for c in after)
    finally:
        await client.call_tool("docker_compose_operations", {**owner, "action": "down"})


async def test_down_question_names_the_project(
    cli: str, docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str], tmp_path: Path
) -> None:
    from mcp.types import ElicitResult

    (tmp_path / "compose.yaml").write_text("services:\n" + service(test_image))
    name = unique("cask")
    (tmp_path / ".env").write_text(f"COMPOSE_PROJECT_NAME={name}\n")
    questions: list[str] = []

    async def user(context: Any, params: Any) -> ElicitResult:
        questions.append(params.message)
        return ElicitResult(action="accept", content={"confirm": True})

    args = {"project_dir": str(tmp_path)}
    async with Client(create_server(allow_settings(compose_cli=cli)), elicitation_callback=user) as c:
        structured(await c.call_tool("docker_compose_operations", {**args, "action": "up"}))
        container = project_containers(docker_client, name)[0].name
    async with Client(
        create_server(Settings(allowed_build_roots=[str(tmp_path)], compose_cli=cli)), elicitation_callback=user
    ) as c:
        down = structured(await c.call_tool("docker_compose_operations", {**args, "action": "down"}))
    assert down["project_name"] == name
    assert len(questions) == 1 and name in questions[0] and container in questions[0]
    assert project_containers(docker_client, name) == []
