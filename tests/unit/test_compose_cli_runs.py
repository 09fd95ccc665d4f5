"""Finding and running the Compose CLI (tools/compose_cli.py) with stand-in programs on a PATH of the test's
own: which CLI each MCP_DOCKER_COMPOSE_CLI choice takes and what it says when there is none, the CLI's
minimal environment, and the streamed run (newest output kept, the last line without a newline, a CLI
that outlives its deadline stopped with its last output in the error)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mcp_docker.docker.client import Engine
from mcp_docker.tools import compose_cli as cli_module
from mcp_docker.tools.compose_cli import ComposeUnavailable, build_command, capture, compose_cli, compose_env, stream
from mcp_docker.utils.errors import OperationTimeout


def _program(directory: Path, name: str, body: str) -> Path:
    path = directory / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty PATH directory of the test's own; compose_cli's cache is cleared before and after."""
    directory = tmp_path / "bin"
    directory.mkdir()
    monkeypatch.setenv("PATH", str(directory))
    compose_cli.cache_clear()
    yield directory
    compose_cli.cache_clear()


def test_auto_takes_v2_when_the_plugin_answers(bin_dir: Path) -> None:
    docker = _program(bin_dir, "docker", '[ "$1 $2" = "compose version" ] && exit 0; exit 3')
    _program(bin_dir, "docker-compose", "exit 0")
    assert compose_cli("auto") == (str(docker), "compose")


def test_auto_falls_back_to_v1_when_the_plugin_fails(bin_dir: Path) -> None:
    _program(bin_dir, "docker", "exit 1")
    v1 = _program(bin_dir, "docker-compose", "exit 0")
    assert compose_cli("auto") == (str(v1),)


def test_v2_asked_for_but_not_working_says_so(bin_dir: Path) -> None:
    _program(bin_dir, "docker", "exit 1")
    _program(bin_dir, "docker-compose", "exit 0")  # v1 is there, but v2 was asked for
    with pytest.raises(ComposeUnavailable) as caught:
        compose_cli("v2")
    assert "MCP_DOCKER_COMPOSE_CLI=v2" in caught.value.message and "does not work" in caught.value.message
    assert "Install the Compose plugin" in caught.value.hint


def test_a_docker_that_cannot_be_executed_counts_as_no_plugin(bin_dir: Path) -> None:
    bad = bin_dir / "docker"
    bad.write_bytes(b"\x7fELF not really a program")  # executable bit, but exec fails (OSError)
    bad.chmod(0o755)
    with pytest.raises(ComposeUnavailable, match=r"Neither `docker compose` \(v2\) nor `docker-compose` \(v1\)"):
        compose_cli("auto")


def test_v1_asked_for_but_missing_says_so(bin_dir: Path) -> None:
    _program(bin_dir, "docker", "exit 0")  # v2 works, but v1 was asked for
    with pytest.raises(ComposeUnavailable, match=r"MCP_DOCKER_COMPOSE_CLI=v1, but `docker-compose` \(v1\) was not"):
        compose_cli("v1")


def test_nothing_on_path(bin_dir: Path) -> None:
    with pytest.raises(ComposeUnavailable) as caught:
        compose_cli("auto")
    assert "was found on the server" in caught.value.message and "disable the compose toolset" in caught.value.hint


def test_the_environment_is_minimal_and_names_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_DOCKER_HTTP_TOKEN", "server-secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "cloud-secret")
    monkeypatch.setenv("HOME", "/home/someone")
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    eng = Engine(environment={"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "/certs", "PYTHONPATH": "/evil"})
    env = compose_env(eng)
    assert env["DOCKER_TLS_VERIFY"] == "1" and env["DOCKER_CERT_PATH"] == "/certs"
    assert env["HOME"] == "/home/someone" and env["COMPOSE_INTERACTIVE_NO_CLI"] == "1"
    assert "DOCKER_HOST" not in env  # no endpoint given: the CLI's own default, as the engine's
    assert not {"MCP_DOCKER_HTTP_TOKEN", "AWS_SECRET_ACCESS_KEY", "PYTHONPATH"} & env.keys()
    monkeypatch.setenv("DOCKER_HOST", "unix:///from/the/environment.sock")
    assert compose_env(Engine())["DOCKER_HOST"] == "unix:///from/the/environment.sock"
    assert compose_env(Engine(base_url="tcp://10.0.0.1:2376"))["DOCKER_HOST"] == "tcp://10.0.0.1:2376"


def test_v1_is_given_the_projects_profiles_and_its_own_output_forms() -> None:
    v1, v2 = ("/bin/docker-compose",), ("/bin/docker", "compose")
    directory = Path("/p")
    ps = build_command(v1, "ps", directory, [], "proj", [], all_profiles=True, profiles=("a", "b"))
    assert ps == [*v1, "--ansi", "never", "--project-directory", "/p", "-p", "proj",
                  "--profile", "a", "--profile", "b", "ps", "-q"]  # fmt: skip
    assert build_command(v2, "ps", directory, [], None, [], all_profiles=True, profiles=("a",))[-6:] == [
        "--profile", "*", "ps", "--format", "json", "-a",
    ]  # fmt: skip
    assert build_command(v1, "config", directory, [], None, [])[-1] == "config"
    logs = build_command(v2, "logs", directory, [Path("/p/c.yml")], None, ["web"], tail=5, timestamps=True)
    assert logs[4:6] == ["-f", "/p/c.yml"] and logs[-6:] == ["logs", "--no-color", "--tail", "5", "-t", "web"]
    assert build_command(v2, "down", directory, [], None, [], remove_volumes=True)[-2:] == ["down", "-v"]
    assert build_command(v2, "up", directory, [], None, [], build=True)[-3:] == ["up", "-d", "--build"]
    assert build_command(v2, "pull", directory, [], None, ["a"])[-2:] == ["pull", "a"]


class _Ctx:
    """What `stream` uses of the MCP context: progress notifications, recorded."""

    def __init__(self) -> None:
        self.progress: list[tuple[float, Any, str]] = []

    async def report_progress(self, done: float, total: Any, message: str) -> None:
        self.progress.append((done, total, message))


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


@pytest.mark.anyio
async def test_stream_keeps_the_newest_output_and_the_last_unterminated_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_module, "MAX_KEPT_BYTES", 100)
    ctx = _Ctx()
    code = (
        "import sys\nfor i in range(40): print(f'line-{i:03d}', flush=True)\n"
        "sys.stderr.write('\\x1b[31mfrom-stderr\\x1b[0m\\n'); sys.stderr.flush()\n"
        "sys.stdout.write('no-newline-at-end'); sys.exit(3)"
    )
    exit_code, text = await stream(ctx, _python(code), dict(os.environ), tmp_path, 30, progress=True)  # type: ignore[arg-type]
    assert exit_code == 3
    lines = text.splitlines()
    assert lines[-1] == "no-newline-at-end" and "from-stderr" in lines  # stderr merged, colour codes cleaned
    assert "line-000" not in lines and "line-039" in lines  # the oldest lines went beyond the bound
    assert len(text) <= 100 + len("no-newline-at-end") + 1
    messages = [m for _, _, m in ctx.progress]
    assert messages[:2] == ["line-000", "line-001"] and "from-stderr" in messages  # every line was reported


@pytest.mark.anyio
async def test_stream_without_progress_reports_nothing(tmp_path: Path) -> None:
    ctx = _Ctx()
    exit_code, text = await stream(ctx, _python("print('a'); print(); print('b')"), {}, tmp_path, 30, progress=False)  # type: ignore[arg-type]
    assert (exit_code, text, ctx.progress) == (0, "a\n\nb\n", [])


@pytest.mark.anyio
async def test_stream_past_its_deadline_kills_the_cli_and_shows_its_last_output(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    script = f"echo $$ > {pid_file}; echo 'pulling web'; exec sleep 60"  # sh starts fast; sleep keeps its pid
    with pytest.raises(OperationTimeout) as caught:
        await stream(_Ctx(), ["/bin/sh", "-c", script], dict(os.environ), tmp_path, 3, progress=True)  # type: ignore[arg-type]
    assert "did not finish within 3 s and was stopped" in caught.value.message
    assert "pulling web" in caught.value.message
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):  # killed and reaped, not left running
        os.kill(pid, 0)


@pytest.mark.anyio
async def test_capture_past_its_deadline_is_a_timeout(tmp_path: Path) -> None:
    with pytest.raises(OperationTimeout, match="did not finish within 1 s"):
        await capture(_python("import time; time.sleep(60)"), dict(os.environ), tmp_path, 1)
    code, out, err = await capture(
        _python("import sys; print('{}'); sys.stderr.write('\\x1b[1mwarn\\x1b[0m'); sys.exit(2)"), {}, tmp_path, 30
    )
    assert (code, out, err) == (2, "{}\n", "warn")
