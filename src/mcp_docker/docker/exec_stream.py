"""Run an exec and read its output as a stream, never more than a bound.

`docker exec` has no output limit and the engine has no "kill this exec" call: a command printing
without end (`yes`) would fill the server's memory if read to the end. `run_bounded` reads the
multiplexed stream frame by frame, keeps at most `stdout_limit` / `stderr_limit` bytes, and once a
bound is passed closes the stream and stops the process and the processes it started (SIGKILL by
pid when the engine runs on this machine and the pids are in the container's cgroup; a `kill` exec
inside the container when the server may not signal them). An engine on another machine cannot be
reached that way: the result then says the process may still be running. It says whether the output
was cut and whether the process was stopped.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp_docker.docker.library_internals import raw_socket
from mcp_docker.utils.logger import logger


@dataclass
class ExecOutput:
    stdout: bytes
    stderr: bytes
    exit_code: int | None
    cut: bool = False
    """A bound was passed: reading stopped there."""
    stopped: bool = False
    """The process was still running at the bound and was killed."""
    still_running: bool = False
    """The process was still running at the bound and could not be stopped."""


def run_bounded(api: Any, exec_id: str, container: str, stdout_limit: int, stderr_limit: int) -> ExecOutput:
    sock = api.exec_start(exec_id, socket=True)
    out = bytearray()
    err = bytearray()
    cut = False
    try:
        from docker.utils.socket import frames_iter  # docker-py is imported on the first engine call

        for stream, data in frames_iter(sock, tty=False):
            buffer, limit = (err, stderr_limit) if stream == 2 else (out, stdout_limit)
            room = limit + 1 - len(buffer)
            buffer += data[: max(room, 0)]
            if len(buffer) > limit:
                cut = True
                break
    finally:
        _close(sock)
    if not cut:
        return ExecOutput(bytes(out), bytes(err), api.exec_inspect(exec_id).get("ExitCode"))
    info = _inspect_started(api, exec_id)
    result = ExecOutput(bytes(out), bytes(err), info.get("ExitCode"), cut=True)
    if info.get("Running"):
        if _stop(api, container, exec_id, info):
            result.stopped = True
            result.exit_code = api.exec_inspect(exec_id).get("ExitCode")
        else:
            result.still_running = True
    return result


def _inspect_started(api: Any, exec_id: str) -> dict[str, Any]:
    """The exec's state once the engine has recorded its pid (it may stream output before it does)."""
    import time

    for _ in range(40):
        info: dict[str, Any] = api.exec_inspect(exec_id)
        if not info.get("Running") or info.get("Pid"):
            return info
        time.sleep(0.05)
    return info


def _close(sock: Any) -> None:
    raw = raw_socket(sock)
    with contextlib.suppress(OSError, AttributeError):
        raw.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


def _stop(api: Any, container: str, exec_id: str, info: dict[str, Any]) -> bool:
    """Kill the exec's process and the processes it started; True when the engine then reports it stopped."""
    pid = int(info.get("Pid") or 0)
    container_id = str(info.get("ContainerID") or "")
    if _namespace_pid(pid, container_id) is None:
        return False  # not visible from here (a remote engine): cannot be signalled safely
    tree = [pid, *_descendants(pid)]
    failed: list[int] = []
    for member in tree:
        try:
            os.kill(member, signal.SIGKILL)
        except ProcessLookupError:
            pass
        except OSError as exc:
            logger.debug("exec {}: kill {} failed ({}); trying a kill exec", exec_id[:12], member, exc)
            failed.append(member)
    inside = [n for n in (_namespace_pid(p, container_id) for p in failed) if n is not None]
    if inside:
        _kill_inside(api, container, inside)
    return _wait_stopped(api, exec_id)


def _namespace_pid(pid: int, container_id: str) -> int | None:
    """The pid inside the container of host process `pid`, when it is visible here and in that
    container's cgroup (so a reused pid or a remote engine is never signalled)."""
    if pid <= 0 or not container_id:
        return None
    try:
        cgroup = Path(f"/proc/{pid}/cgroup").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    if container_id not in cgroup:
        return None
    for line in status.splitlines():
        if line.startswith("NSpid:"):
            return int(line.split()[-1])
    return None


def _descendants(pid: int) -> list[int]:
    """Host pids of the processes `pid` started (children, grandchildren...), read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found: list[int] = []
    todo = list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(children.get(child, []))
    return found


def _kill_inside(api: Any, container: str, ns_pids: list[int]) -> None:
    import docker.errors

    with contextlib.suppress(docker.errors.APIError):
        kill_id = api.exec_create(container, ["kill", "-9", *map(str, ns_pids)], user="0")["Id"]
        api.exec_start(kill_id)


def _wait_stopped(api: Any, exec_id: str) -> bool:
    import time

    for _ in range(50):
        if not api.exec_inspect(exec_id).get("Running"):
            return True
        time.sleep(0.1)
    return False


def exec_note(run: ExecOutput, limit: int) -> str | None:
    """What the model should know about a cut exec."""
    if not run.cut:
        return None
    head = f"Output passed the bound ({limit} bytes, MCP_DOCKER_MAX_OUTPUT_BYTES); reading stopped there and"
    if run.stopped:
        return f"{head} the process was killed. Redirect or filter the output (e.g. | head, | tail) to see less."
    if run.still_running:
        return (
            f"{head} the process could not be stopped from here: it may still be running in the container "
            "(find it with docker_exec_command ['ps'] and stop it)."
        )
    return f"{head} the process had finished."
