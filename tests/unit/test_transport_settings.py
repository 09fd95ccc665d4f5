"""Transport and reliability settings and the pure rules behind the HTTP guard."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from mcp_docker.call_limits import timed_out
from mcp_docker.config import Settings
from mcp_docker.safety.levels import Level
from mcp_docker.transport import (
    allowed_hosts,
    allowed_origins,
    host_allowed,
    origin_allowed,
    protocol_error,
)


def test_defaults_are_loopback_with_bounded_requests_and_calls() -> None:
    s = Settings()
    assert s.http_host == "127.0.0.1"
    assert s.http_token is None
    assert s.max_request_bytes == 1_048_576
    assert s.max_concurrency == 32
    assert s.timeout_for("docker_list_containers", long_job=False) == s.call_timeout
    assert s.timeout_for("docker_build_image", long_job=True) == s.long_call_timeout


def test_per_tool_timeouts_override_and_are_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_DOCKER_TOOL_TIMEOUTS", "docker_build_image=3600, docker_exec_command=5")
    s = Settings()
    assert s.timeout_for("docker_build_image", long_job=True) == 3600
    assert s.timeout_for("docker_exec_command", long_job=False) == 5
    assert s.timeout_for("docker_list_containers", long_job=False) == 300
    for bad in ("docker_build_image", "=5", "docker_build_image=soon", "docker_build_image=-1"):
        with pytest.raises(ValidationError, match="tool_timeouts"):
            Settings(tool_timeouts=bad)


def test_http_off_loopback_needs_a_token() -> None:
    with pytest.raises(ValidationError, match="without a token"):
        Settings(transport="http", http_host="0.0.0.0")
    with pytest.raises(ValidationError, match="without a token"):
        Settings(transport="http", http_host="192.168.1.10")
    assert Settings(transport="http", http_host="0.0.0.0", http_token="t").http_token == "t"
    assert Settings(transport="http", http_host="::1").http_host == "::1"
    assert Settings(transport="http", http_host="localhost").http_host == "localhost"


def test_allowed_hosts_default_to_loopback_and_the_bind_address() -> None:
    loop = allowed_hosts(Settings())
    assert loop is not None and "localhost" in loop and "127.0.0.1" in loop
    lan = allowed_hosts(Settings(transport="http", http_host="10.0.0.5", http_token="t"))
    assert lan is not None and "10.0.0.5" in lan
    assert allowed_hosts(Settings(transport="http", http_host="0.0.0.0", http_token="t")) is None
    configured = Settings(http_allowed_hosts="mcp.example:8443, other.example")
    assert allowed_hosts(configured) == ["mcp.example:8443", "other.example"]


def test_host_matching() -> None:
    hosts = ["127.0.0.1", "localhost", "::1", "mcp.example:8443", "any.example:*"]
    assert host_allowed("127.0.0.1:8000", hosts)
    assert host_allowed("LOCALHOST", hosts)
    assert host_allowed("[::1]:8000", hosts)
    assert host_allowed("mcp.example:8443", hosts)
    assert host_allowed("any.example:1", hosts)
    assert not host_allowed("mcp.example:8444", hosts)
    assert not host_allowed("evil.example", hosts)
    assert not host_allowed(None, hosts)
    assert not host_allowed("", hosts)
    assert host_allowed("whatever", None)


def test_origin_matching() -> None:
    origins = allowed_origins(Settings())
    assert origin_allowed(None, origins)
    assert origin_allowed("http://localhost:3000", origins)
    assert origin_allowed("https://127.0.0.1:8443", origins)
    assert origin_allowed("http://[::1]:8000", origins)
    assert not origin_allowed("https://evil.example", origins)
    assert not origin_allowed("null", origins)
    assert not origin_allowed("http://", origins)
    exact = ["https://app.example:8443", "https://plain.example"]
    assert origin_allowed("https://app.example:8443", exact)
    assert not origin_allowed("https://app.example:8444", exact)
    assert not origin_allowed("http://app.example:8443", exact)
    assert origin_allowed("https://plain.example", exact)
    configured = allowed_origins(Settings(http_allowed_origins="https://ui.example:*"))
    assert configured == ["https://ui.example:*"]
    assert origin_allowed("https://ui.example:1234", configured)
    lan = allowed_origins(Settings(transport="http", http_host="0.0.0.0", http_token="t"))
    assert origin_allowed("http://localhost:1", lan)


def test_protocol_error_for_unreadable_lines() -> None:
    from mcp_types import jsonrpc_message_adapter

    with pytest.raises(ValidationError) as bad_json:
        jsonrpc_message_adapter.validate_json("{nope", by_name=False)
    parse = json.loads(protocol_error(bad_json.value).model_dump_json(by_alias=True))
    assert parse["id"] is None and parse["error"]["code"] == -32700
    with pytest.raises(ValidationError) as not_rpc:
        jsonrpc_message_adapter.validate_json("[1, 2]", by_name=False)
    invalid = json.loads(protocol_error(not_rpc.value).model_dump_json(by_alias=True))
    assert invalid["error"]["code"] == -32600


def test_timed_out_messages_say_what_happened() -> None:
    read = str(timed_out("docker_container_logs", Level.SAFE, 30))
    assert "within 30 s" in read and "nothing was changed" in read
    assert "MCP_DOCKER_TOOL_TIMEOUTS=docker_container_logs=SECONDS" in read
    write = str(timed_out("docker_stop_container", Level.MODERATE, 2.5))
    assert "within 2.5 s" in write and "unknown" in write and "Do not retry blindly" in write


def test_cli_flags_set_transport_and_reliability_settings() -> None:
    from mcp_docker.__main__ import _parser, load_settings

    args = vars(
        _parser().parse_args(
            [
                "serve",
                "--allowed-hosts",
                "a.example,b.example:8443",
                "--allowed-origins",
                "https://ui.example:*",
                "--max-request-bytes",
                "2048",
                "--max-concurrency",
                "7",
                "--call-timeout",
                "20",
                "--long-call-timeout",
                "600",
                "--tool-timeouts",
                "docker_exec_command=5",
                "--engine-timeout",
                "15",
            ]
        )
    )
    args.pop("command")
    s = load_settings(args)
    assert s.http_allowed_hosts == ["a.example", "b.example:8443"]
    assert s.http_allowed_origins == ["https://ui.example:*"]
    assert (s.max_request_bytes, s.max_concurrency, s.engine_timeout) == (2048, 7, 15)
    assert s.timeout_for("docker_exec_command", long_job=False) == 5
    assert s.timeout_for("docker_list_containers", long_job=False) == 20
    assert s.timeout_for("docker_pull_image", long_job=True) == 600


@pytest.mark.parametrize("token", ["", " ", "\t\n"])
def test_blank_token_is_refused(token: str) -> None:
    with pytest.raises(ValidationError, match="MCP_DOCKER_HTTP_TOKEN is set but empty"):
        Settings(http_token=token)


def test_http_limits_have_bounded_defaults() -> None:
    s = Settings()
    assert s.http_max_sessions == 250
    assert s.http_session_idle_timeout == 600
    assert s.http_header_timeout == 10 and s.http_body_timeout == 30 and s.http_keep_alive_timeout == 5
