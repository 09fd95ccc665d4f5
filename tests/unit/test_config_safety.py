"""Settings, levels, annotations and the container policy: no engine."""

from __future__ import annotations

import pytest
from pydantic import ValidationError as PydanticValidationError

from mcp_docker.config import Settings
from mcp_docker.safety.container_policy import ContainerRequest, check_container_request
from mcp_docker.safety.levels import Level, annotations_for, check_allowed, refusal
from mcp_docker.tools import all_tools, check_tool_names
from mcp_docker.utils.errors import UnsafeOperation


def test_defaults_are_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(__import__("os").environ):
        if key.startswith("MCP_DOCKER_"):
            monkeypatch.delenv(key)
    s = Settings()
    assert s.transport == "stdio"
    assert s.http_host == "127.0.0.1"
    assert s.destructive == "confirm"
    assert s.redact_env is True
    assert s.allowed_bind_roots == []
    assert s.read_only is False


def test_env_and_csv(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_DOCKER_TOOLSETS", "containers, images")
    monkeypatch.setenv("MCP_DOCKER_DISABLED_TOOLS", "docker_exec_command")
    monkeypatch.setenv("MCP_DOCKER_READ_ONLY", "true")
    s = Settings()
    assert s.toolsets == ["containers", "images"]
    assert s.disabled_tools == ["docker_exec_command"]
    assert s.read_only is True


def test_bad_settings_are_errors() -> None:
    with pytest.raises(PydanticValidationError, match="unknown toolset"):
        Settings(toolsets=["containers", "bogus"])
    with pytest.raises(PydanticValidationError, match="without a token"):
        Settings(transport="http", http_host="0.0.0.0")
    assert Settings(transport="http", http_host="0.0.0.0", http_token="t").http_host == "0.0.0.0"
    assert Settings(transport="http", http_host="::1").http_host == "::1"
    assert Settings(transport="http", http_host="localhost").http_host == "localhost"
    with pytest.raises(PydanticValidationError):
        Settings(destructive="maybe")  # type: ignore[arg-type]
    with pytest.raises(PydanticValidationError):
        Settings(no_such_setting=1)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="unknown tool"):
        check_tool_names(Settings(disabled_tools=["docker_nope"]))


def test_annotations_from_levels() -> None:
    safe = annotations_for(Level.SAFE, "List")
    # Hints equal to the spec's defaults, or meaningless for the level, are left out (None).
    assert (safe.read_only_hint, safe.destructive_hint, safe.idempotent_hint) == (True, None, None)
    moderate = annotations_for(Level.MODERATE, "Start", idempotent=True)
    assert (moderate.read_only_hint, moderate.destructive_hint, moderate.idempotent_hint) == (None, False, True)
    assert annotations_for(Level.MODERATE, "Create").idempotent_hint is None
    destructive = annotations_for(Level.DESTRUCTIVE, "Remove")
    assert destructive.destructive_hint is True
    assert annotations_for(Level.MODERATE, "Exec", destructive_hint=True).destructive_hint is True


def test_every_tool_declares_a_level() -> None:
    tools = all_tools()
    assert len(tools) >= 10
    for spec in tools.values():
        assert isinstance(spec.level, Level)
        assert spec.name.startswith("docker_")


def test_refusals() -> None:
    s = Settings(read_only=True)
    assert refusal("docker_list_containers", Level.SAFE, "containers", s) is None
    assert "READ_ONLY" in (refusal("docker_start_container", Level.MODERATE, "containers", s) or "")
    s = Settings(toolsets=["images"])
    assert "MCP_DOCKER_TOOLSETS" in (refusal("docker_list_containers", Level.SAFE, "containers", s) or "")
    s = Settings(disabled_tools=["docker_list_containers"])
    assert "DISABLED_TOOLS" in (refusal("docker_list_containers", Level.SAFE, "containers", s) or "")
    s = Settings(destructive="deny")
    assert "DESTRUCTIVE=deny" in (refusal("docker_remove_container", Level.DESTRUCTIVE, "containers", s) or "")
    with pytest.raises(UnsafeOperation, match="READ_ONLY"):
        check_allowed("docker_start_container", Level.MODERATE, "containers", Settings(read_only=True))


@pytest.mark.parametrize(
    ("request_", "words"),
    [
        (ContainerRequest(privileged=True), "privileged"),
        (ContainerRequest(cap_add=["SYS_ADMIN"]), "capabilities"),
        (ContainerRequest(network_mode="host"), "network mode"),
        (ContainerRequest(pid_mode="host"), "pid mode"),
        (ContainerRequest(ipc_mode="container:abc"), "ipc mode"),
        (ContainerRequest(devices=["/dev/sda"]), "devices"),
        (ContainerRequest(security_opt=["seccomp=unconfined"]), "security options"),
        (ContainerRequest(volumes=["/etc:/x"]), "MCP_DOCKER_ALLOWED_BIND_ROOTS"),
        (ContainerRequest(volumes=["/var/run/docker.sock:/s"]), "Docker socket"),
    ],
)
def test_policy_refuses(request_: ContainerRequest, words: str) -> None:
    with pytest.raises(UnsafeOperation, match=words):
        check_container_request(request_, Settings())


def test_policy_allows_named_volumes_and_allowed_roots(tmp_path: object) -> None:
    check_container_request(ContainerRequest(volumes=["data:/data", "cache:/c:ro"], network_mode="bridge"), Settings())
    root = str(tmp_path)
    check_container_request(ContainerRequest(volumes=[f"{root}/sub:/x"]), Settings(allowed_bind_roots=[root]))
    with pytest.raises(UnsafeOperation):
        check_container_request(ContainerRequest(volumes=[f"{root}/../etc:/x"]), Settings(allowed_bind_roots=[root]))


def test_action_levels() -> None:
    from mcp_docker.tools.declare import ToolSpec

    spec = ToolSpec(
        name="docker_x",
        fn=lambda: None,
        level=Level.DESTRUCTIVE,
        toolset="compose",
        title="X",
        action_levels={"ps": Level.SAFE, "up": Level.MODERATE, "down": Level.DESTRUCTIVE},
    )
    assert spec.lowest_level() is Level.SAFE
    assert spec.call_level({"action": "ps"}) is Level.SAFE
    assert spec.call_level({"action": "down"}) is Level.DESTRUCTIVE
    assert spec.call_level({"action": "bogus"}) is Level.DESTRUCTIVE
    plain = ToolSpec(name="docker_y", fn=lambda: None, level=Level.MODERATE, toolset="containers", title="Y")
    assert plain.lowest_level() is Level.MODERATE
    assert plain.call_level({}) is Level.MODERATE
