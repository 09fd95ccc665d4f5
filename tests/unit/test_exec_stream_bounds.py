"""docker/exec_stream.py without an engine: the multiplexed stream read frame by frame over a real socket
pair, the bound, what is said when the process finished, could not be stopped or was killed, and the
pid rules (a process outside the container's cgroup is never signalled) attacked with real host processes.

The engine's side (exec_start's socket, exec_inspect's state) is a small fake; the processes killed are
real ones this test starts."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker.errors
import pytest

from mcp_docker.docker import exec_stream
from mcp_docker.docker.exec_stream import ExecOutput, exec_note, run_bounded


def _frame(stream: int, data: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(data)) + data


class FakeExecApi:
    """exec_start hands out one end of a socket pair carrying `frames`; exec_inspect answers from
    `states` (the last one repeats); a kill exec is recorded, or refused with `kill_error`."""

    def __init__(self, frames: list[bytes], states: list[dict[str, Any]], kill_error: Exception | None = None):
        self.reader, writer = socket.socketpair()
        writer.sendall(b"".join(frames))
        writer.close()
        self.states = list(states)
        self.inspected = 0
        self.kill_commands: list[tuple[str, list[str], str]] = []
        self.kill_error = kill_error
        self.started: list[str] = []

    def exec_start(self, exec_id: str, socket: bool = False) -> Any:
        self.started.append(exec_id)
        return self.reader if socket else b""

    def exec_inspect(self, exec_id: str) -> dict[str, Any]:
        self.inspected += 1
        return self.states.pop(0) if len(self.states) > 1 else self.states[0]

    def exec_create(self, container: str, cmd: list[str], user: str = "") -> dict[str, str]:
        if self.kill_error is not None:
            raise self.kill_error
        self.kill_commands.append((container, cmd, user))
        return {"Id": "kill-exec"}


def test_under_the_bound_both_streams_whole_and_the_real_exit_code() -> None:
    api = FakeExecApi([_frame(1, b"out\n"), _frame(2, b"err\n"), _frame(1, b"more\n")], [{"ExitCode": 4}])
    run = run_bounded(api, "e1", "web", stdout_limit=100, stderr_limit=100)
    assert (run.stdout, run.stderr, run.exit_code) == (b"out\nmore\n", b"err\n", 4)
    assert (run.cut, run.stopped, run.still_running) == (False, False, False)
    assert exec_note(run, 100) is None
    assert api.reader.fileno() == -1  # the stream was closed


def test_cut_after_the_process_finished_kills_nothing() -> None:
    api = FakeExecApi([_frame(2, b"e" * 30), _frame(1, b"never read")], [{"Running": False, "ExitCode": 0}])
    run = run_bounded(api, "e2", "web", stdout_limit=100, stderr_limit=10)
    assert run.stderr == b"e" * 11 and run.stdout == b""  # one byte past the bound tells "cut"
    assert (run.cut, run.stopped, run.still_running, run.exit_code) == (True, False, False, 0)
    note = exec_note(run, 10)
    assert note is not None and "(10 bytes, MCP_DOCKER_MAX_OUTPUT_BYTES)" in note and "process had finished" in note


def test_a_process_not_visible_here_is_said_to_be_still_running() -> None:
    """A remote engine's pid (here: no pid at all) is never signalled; the note says how to find it."""
    api = FakeExecApi([_frame(1, b"y\n" * 50)], [{"Running": True, "Pid": 0, "ContainerID": "abc"}])
    run = run_bounded(api, "e3", "web", stdout_limit=20, stderr_limit=20)
    assert (run.cut, run.stopped, run.still_running) == (True, False, True)
    assert run.exit_code is None and api.kill_commands == []
    note = exec_note(run, 20)
    assert note is not None and "could not be stopped" in note and "docker_exec_command ['ps']" in note


def test_the_stopped_note_says_how_to_see_less() -> None:
    note = exec_note(ExecOutput(b"", b"", 137, cut=True, stopped=True), 64)
    assert note is not None and "process was killed" in note and "| head" in note


class SleepCounter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, seconds: float) -> None:
        self.calls += 1


def test_an_exec_whose_pid_never_shows_is_given_up_after_forty_looks(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps = SleepCounter()
    monkeypatch.setattr(time, "sleep", sleeps)
    api = FakeExecApi([], [{"Running": True, "Pid": 0}])
    info = exec_stream._inspect_started(api, "e4")
    assert info == {"Running": True, "Pid": 0}
    assert api.inspected == 40 and sleeps.calls == 40


def test_waiting_for_a_stop_that_never_comes_gives_up(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps = SleepCounter()
    monkeypatch.setattr(time, "sleep", sleeps)
    assert exec_stream._wait_stopped(FakeExecApi([], [{"Running": True}]), "e5") is False
    assert sleeps.calls == 50
    assert exec_stream._wait_stopped(FakeExecApi([], [{"Running": True}, {"Running": False}]), "e5") is True


# --- the pid rules, on a fake /proc (parsing) and on real processes (signalling) ---


@pytest.fixture
def fake_proc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """exec_stream reads tmp_path/proc instead of /proc."""
    monkeypatch.setattr(exec_stream, "Path", lambda p: tmp_path / str(p).lstrip("/"))
    (tmp_path / "proc").mkdir()
    return tmp_path / "proc"


def _process(proc: Path, pid: int, parent: int, comm: str = "sh", cgroup: str = "", nspid: str | None = None) -> None:
    d = proc / str(pid)
    d.mkdir()
    (d / "stat").write_text(f"{pid} ({comm}) S {parent} {pid} {pid} 0 -1\n")
    (d / "cgroup").write_text(cgroup)
    status = f"Name:\t{comm}\nPid:\t{pid}\n" + (f"NSpid:\t{nspid}\n" if nspid else "")
    (d / "status").write_text(status)


CID = "c0ffee" * 10 + "abcd"


def test_descendants_walk_the_whole_tree_and_skip_what_vanished(fake_proc: Path) -> None:
    _process(fake_proc, 10, 1)
    _process(fake_proc, 11, 10, comm="worker (x) y)")  # a ')' in the name does not shift the fields
    _process(fake_proc, 12, 11)
    _process(fake_proc, 13, 10)
    _process(fake_proc, 20, 1)  # not ours
    (fake_proc / "14").mkdir()  # exited between the listing and the read: no stat any more
    (fake_proc / "self").mkdir()
    assert sorted(exec_stream._descendants(10)) == [11, 12, 13]
    assert exec_stream._descendants(12) == []


def test_namespace_pid_only_for_a_process_in_that_containers_cgroup(fake_proc: Path) -> None:
    _process(fake_proc, 100, 1, cgroup=f"0::/system.slice/docker-{CID}.scope\n", nspid="100\t7")
    _process(fake_proc, 101, 1, cgroup="0::/user.slice/session-1.scope\n", nspid="101")
    _process(fake_proc, 102, 1, cgroup=f"0::/docker/{CID}\n")  # a kernel without NSpid
    assert exec_stream._namespace_pid(100, CID) == 7
    assert exec_stream._namespace_pid(101, CID) is None  # a reused pid, now a host process
    assert exec_stream._namespace_pid(102, CID) is None
    assert exec_stream._namespace_pid(999, CID) is None  # gone
    assert exec_stream._namespace_pid(100, "") is None
    assert exec_stream._namespace_pid(0, CID) is None


def test_a_process_the_server_may_not_signal_is_killed_by_an_exec_inside(
    fake_proc: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cgroup = f"0::/docker/{CID}\n"
    _process(fake_proc, 300, 1, cgroup=cgroup, nspid="300\t1")
    _process(fake_proc, 301, 300, cgroup=cgroup, nspid="301\t5")  # denied: killed from inside
    _process(fake_proc, 302, 300, cgroup=cgroup, nspid="302\t6")  # already gone
    sent: list[int] = []

    def kill(pid: int, sig: int) -> None:
        assert sig == signal.SIGKILL
        if pid == 301:
            raise PermissionError(1, "Operation not permitted")
        if pid == 302:
            raise ProcessLookupError(3, "No such process")
        sent.append(pid)

    monkeypatch.setattr(exec_stream, "os", type("Os", (), {"kill": staticmethod(kill)}))
    api = FakeExecApi([], [{"Running": False}])
    assert exec_stream._stop(api, "web", "e6", {"Pid": 300, "ContainerID": CID}) is True
    assert sent == [300]
    assert api.kill_commands == [("web", ["kill", "-9", "5"], "0")]  # the container's pid, as root
    assert api.started == ["kill-exec"]

    # The engine refusing the kill exec is not an error of the call: the wait decides.
    refused = FakeExecApi([], [{"Running": False}], kill_error=docker.errors.APIError("container paused"))
    assert exec_stream._stop(refused, "web", "e7", {"Pid": 300, "ContainerID": CID}) is True
    assert refused.kill_commands == [] and refused.started == []


@contextlib.contextmanager
def _host_processes(command: str) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(["sh", "-c", command], start_new_session=True)
    try:
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the shell and its children, whatever the test did
        proc.wait(5)


def _children(pid: int) -> list[int]:
    for _ in range(100):
        found = exec_stream._descendants(pid)
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError(f"{pid} started no child")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_attack_a_host_process_outside_the_container_is_never_signalled() -> None:
    """An exec's pid reused by a host process (or a wrong ContainerID) must not be killed."""
    with _host_processes("sleep 60 & wait") as proc:
        child = _children(proc.pid)[0]
        api = FakeExecApi([], [{"Running": True}])
        assert exec_stream._stop(api, "web", "e8", {"Pid": proc.pid, "ContainerID": CID}) is False
        assert proc.poll() is None and _alive(child)
        assert api.inspected == 0  # nothing waited for: nothing was signalled


def test_a_process_in_the_cgroup_is_killed_with_everything_it_started() -> None:
    """The real kill: a shell and its child, in the cgroup named (the test's own: a host process stands in
    for the container's)."""
    with _host_processes("sleep 60 & sleep 61 & wait") as proc:
        children = _children(proc.pid)
        in_cgroup = Path(f"/proc/{proc.pid}/cgroup").read_text().splitlines()[0]
        api = FakeExecApi([], [{"Running": False}])
        assert exec_stream._stop(api, "web", "e9", {"Pid": proc.pid, "ContainerID": in_cgroup}) is True
        assert proc.wait(5) == -signal.SIGKILL
        for _ in range(100):
            if not any(_alive(c) for c in children):
                break
            time.sleep(0.02)
        assert not any(_alive(c) for c in children), "a process the shell started survived"
