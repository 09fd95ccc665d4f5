"""BuildKit builds through `docker buildx` (docker/buildx.py) with a stand-in `docker` on a PATH of the test's
own: the CLI's environment and builder, the availability probe (remembered only when it succeeds), a
build that is cancelled mid-way (the CLI is killed), a missing CLI, and what the progress reader keeps."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from mcp_docker.docker import buildx
from mcp_docker.docker.buildx import (
    BuildkitLog,
    build_argv,
    builder_name,
    buildkit_build,
    buildx_available,
    cli_environment,
    run_build,
    use_buildkit,
)
from mcp_docker.docker.client import Engine
from mcp_docker.utils.errors import EngineError


def _docker(directory: Path, body: str) -> Path:
    path = directory / "docker"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH directory of the test's own, and no remembered probe results."""
    directory = tmp_path / "bin"
    directory.mkdir()
    monkeypatch.setattr(buildx, "_AVAILABLE", set())
    return directory


def test_the_cli_environment_names_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///server/default.sock")
    by_context = cli_environment(Engine(environment={"DOCKER_CERT_PATH": "/certs"}, base_url="context:remote"))
    assert by_context["DOCKER_CONTEXT"] == "remote" and "DOCKER_HOST" not in by_context
    assert by_context["DOCKER_CERT_PATH"] == "/certs"
    assert builder_name(by_context) == "remote"  # buildx names the engine's builder after the context
    by_host = cli_environment(Engine(base_url="tcp://10.0.0.2:2376"))
    assert by_host["DOCKER_HOST"] == "tcp://10.0.0.2:2376" and builder_name(by_host) == "default"
    assert cli_environment(Engine())["DOCKER_HOST"] == "unix:///server/default.sock"
    assert builder_name({"DOCKER_HOST": "tcp://x:1", "DOCKER_CONTEXT": "c"}) == "default"
    assert builder_name({}) == "default"


def test_the_probe_asks_for_the_engines_own_builder_and_remembers_a_success(bin_dir: Path, tmp_path: Path) -> None:
    asked = tmp_path / "asked"
    _docker(bin_dir, f'echo "$@" > {asked}\nprintf "Name: ctx\\nDriver: docker\\n"')
    env = {"PATH": str(bin_dir), "DOCKER_CONTEXT": "ctx"}
    assert buildx_available(env) is True
    assert asked.read_text().split() == ["buildx", "inspect", "ctx"]
    _docker(bin_dir, "exit 1")  # now broken: the success is remembered for this CLI and endpoint
    assert buildx_available(env) is True
    assert buildx_available({**env, "DOCKER_CONTEXT": "other"}) is False  # another endpoint is probed again


@pytest.mark.parametrize(
    "body",
    ['printf "Name: b\\nDriver: docker-container\\n"', 'printf "Driver: docker\\n"; exit 1'],
    ids=["another-driver", "failed"],
)
def test_a_builder_that_is_not_the_engines_own_is_not_used(bin_dir: Path, body: str) -> None:
    _docker(bin_dir, body)
    env = {"PATH": str(bin_dir)}
    assert buildx_available(env) is False
    assert use_buildkit("auto", env) is False
    with pytest.raises(EngineError) as caught:
        use_buildkit("buildkit", env)
    assert "MCP_DOCKER_BUILDER=buildkit, but `docker buildx`" in caught.value.message
    assert "set MCP_DOCKER_BUILDER=auto or classic" in caught.value.hint


def test_a_docker_that_cannot_run_or_is_missing_means_no_buildkit(bin_dir: Path) -> None:
    assert buildx_available({"PATH": str(bin_dir)}) is False  # no docker at all
    bad = bin_dir / "docker"
    bad.write_bytes(b"\x7fELF not really a program")  # executable, but exec fails (OSError)
    bad.chmod(0o755)
    assert buildx_available({"PATH": str(bin_dir)}) is False
    assert use_buildkit("classic", {"PATH": str(bin_dir)}) is False


def test_a_build_without_a_docker_cli_says_what_to_do(bin_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(EngineError) as caught:
        buildkit_build(
            {"PATH": str(bin_dir)}, tmp_path, lambda m: None, 1000,
            tags=[], dockerfile=None, buildargs=None, target=None, nocache=False, labels={},
        )  # fmt: skip
    assert "docker CLI is missing" in caught.value.message and "MCP_DOCKER_BUILDER=classic" in caught.value.hint


def test_the_argument_list_with_and_without_options(tmp_path: Path) -> None:
    plain = build_argv(
        "/bin/docker", {}, tmp_path, iidfile=tmp_path / "iid", tags=[], dockerfile=None, buildargs=None,
        target=None, nocache=False, labels={},
    )  # fmt: skip
    assert plain == ["/bin/docker", "buildx", "build", "--builder", "default", "--progress=rawjson", "--load",
                     "--iidfile", str(tmp_path / "iid"), "--", str(tmp_path)]  # fmt: skip
    full = build_argv(
        "/bin/docker", {"DOCKER_CONTEXT": "c"}, tmp_path, iidfile=tmp_path / "iid", tags=["a:1"],
        dockerfile="sub/Dockerfile", buildargs={"K": "v"}, target="final", nocache=True, labels={"l": "1"},
    )  # fmt: skip
    assert full[3:5] == ["--builder", "c"] and full[-2:] == ["--", str(tmp_path)]
    assert full[9:-2] == ["--tag", "a:1", "--file", str(tmp_path / "sub/Dockerfile"), "--build-arg", "K=v",
                          "--label", "l=1", "--target", "final", "--no-cache"]  # fmt: skip


def test_a_cancelled_build_kills_the_cli(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    script = f"echo '{{\"vertexes\": []}}' >&2; echo $$ > {pid_file}; exec sleep 60"

    class Cancelled(Exception):
        pass

    def report(message: str | None) -> None:
        if pid_file.exists() and pid_file.read_text().strip():
            raise Cancelled  # what a cancelled MCP call's progress report does

    with pytest.raises(Cancelled):
        run_build(["/bin/sh", "-c", script], dict(os.environ), tmp_path / "iid", report)
    with pytest.raises(ProcessLookupError):  # killed and reaped, not left building
        os.kill(int(pid_file.read_text()), 0)


def test_a_build_that_succeeds_returns_the_image_from_its_iidfile(bin_dir: Path, tmp_path: Path) -> None:
    step = base64.b64encode(b"step output\n").decode()
    _docker(
        bin_dir,
        'while [ "$1" != "--iidfile" ]; do shift; done; echo sha256:feed > "$2"\n'
        f'echo \'{{"vertexes": [{{"digest": "d1", "name": "[1/1] RUN true", "started": "t"}}]}}\' >&2\n'
        f'echo \'{{"logs": [{{"vertex": "d1", "data": "{step}"}}]}}\' >&2\necho "done text" >&2',
    )
    messages: list[str] = []
    result = buildkit_build(
        {"PATH": str(bin_dir)}, tmp_path, lambda m: messages.append(m) if m else None, 1000,
        tags=["x:1"], dockerfile=None, buildargs=None, target=None, nocache=False, labels={},
    )  # fmt: skip
    assert (result.image_id, result.steps, messages) == ("sha256:feed", 1, ["[1/1] RUN true"])
    assert result.log == "[1/1] RUN true\nstep output\ndone text\n"


def test_the_log_keeps_the_newest_lines_within_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(buildx, "MAX_KEPT_CHARS", 50)
    log = BuildkitLog()
    for i in range(20):
        log.text(f"text line {i:02d}")
    log.text("   ")  # blank after cleaning: not kept
    assert log.lines[-1] == "text line 19" and "text line 00" not in log.lines
    assert sum(len(line) + 1 for line in log.lines) <= 50
    assert len(log.text_lines) == 20


def test_a_step_logs_bound_bad_base64_and_warnings() -> None:
    log = BuildkitLog()
    many = "".join(f"out {i}\n" for i in range(2100)).encode()
    log.feed({"logs": [{"vertex": "v", "data": base64.b64encode(many).decode()}, {"vertex": "v", "data": "abc"}]})
    assert len(log.vertices["v"].logs) == 2000 and log.vertices["v"].logs[-1] == "out 2099"
    assert log.vertices["v"].logs[0] == "out 100"  # the oldest dropped; the bad base64 entry skipped
    warnings = [{"short": base64.b64encode(b"FROM uses a moving tag").decode()}, {"short": "abc"}, {"detail": []}]
    log.feed({"warnings": warnings})
    assert log.lines[-1] == "WARNING: FROM uses a moving tag"
    assert [line for line in log.lines if line.startswith("WARNING")] == ["WARNING: FROM uses a moving tag"]


@pytest.mark.parametrize(
    ("stderr", "message"),
    [
        (
            '{"vertexes": [{"digest": "d", "name": "[2/2] RUN false", "started": "t", "error": "exit code: 1"}]}\n'
            '{"logs": [{"vertex": "d", "data": "' + base64.b64encode(b"why it failed\n").decode() + '"}]}',
            "[2/2] RUN false",
        ),
        ("ERROR: failed to solve: dockerfile parse error on line 1", "refused before it started"),
    ],
    ids=["a-step-failed", "refused-before-any-step"],
)
def test_a_failed_build_names_its_step_or_the_clis_error(
    bin_dir: Path, tmp_path: Path, stderr: str, message: str
) -> None:
    (tmp_path / "stderr").write_text(stderr + "\n")
    _docker(bin_dir, f"/bin/cat {tmp_path / 'stderr'} >&2; exit 1")
    with pytest.raises(EngineError) as caught:
        buildkit_build(
            {"PATH": str(bin_dir)}, tmp_path, lambda m: None, 1000,
            tags=[], dockerfile=None, buildargs=None, target=None, nocache=False, labels={},
        )  # fmt: skip
    assert message in caught.value.message and "untrusted data" in caught.value.message
    text = caught.value.message
    assert ("why it failed" in text) if "RUN" in message else ("dockerfile parse error on line 1" in text)
