"""A real Docker engine for the tests: used if reachable, else started (when this machine can).

Also builds the local test image (busybox, no registry needed) and removes every object the run
created: names start with `mcpt-` (or $MCPT_PREFIX), or carry the label `mcp-docker.test=<prefix>`.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

import docker

from tests.waiting import stop_process

# MCPT_PREFIX lets several test sessions share one engine without removing each other's objects.
PREFIX = os.environ.get("MCPT_PREFIX", "mcpt-")
TEST_LABEL = "mcp-docker.test"
TEST_LABEL_VALUE = PREFIX
TEST_IMAGE = f"{PREFIX}busybox:latest"
BUSYBOX_APPLETS = (
    "sh",
    "sleep",
    "echo",
    "cat",
    "ls",
    "env",
    "top",
    "wget",
    "httpd",
    "printf",
    "true",
    "false",
    "id",
    "mkdir",
    "rm",
    "touch",
    "sync",
    "kill",
    "ps",
    "grep",
    "head",
    "tail",
    "nc",
    "hostname",
    "date",
    "seq",
    "yes",
    "test",
    "whoami",
    "pwd",
    "uname",
    "mount",
    "df",
    "du",
    "wc",
)
STATE_DIR = Path(os.environ.get("MCPT_STATE_DIR", Path(__file__).resolve().parent.parent / ".test-engine"))


REPO = Path(__file__).resolve().parent.parent

# The engine under test: MCPT_ENGINE=old|current|external (read here and by .ci/run).
#   old      Docker 20.10 from the machine's docker.io (Debian 12), default socket; started when silent.
#   current  Docker 26.1 + Compose v2 + buildx (scripts/current_engine.sh, Debian 13's packages), on
#            $MCPT_CURRENT_SOCK; started when silent.
#   external whatever DOCKER_HOST / the default socket points at; started by nobody.
# Unset: the engine DOCKER_HOST / the default socket points at, and when none answers the machine's
# own dockerd is started (the behaviour before the choice existed; no check of its version).
ENGINES = ("old", "current", "external")
CURRENT_ROOT = Path(os.environ.get("MCPT_CURRENT_ROOT", "/opt/mcpt-current"))
CURRENT_SOCK = os.environ.get("MCPT_CURRENT_SOCK", "/run/mcpt-current.sock")
OLD_SOCK = "/var/run/docker.sock"


def engine_kind() -> str:
    """old, current, external, or auto (MCPT_ENGINE unset)."""
    kind = os.environ.get("MCPT_ENGINE") or "auto"
    if kind not in (*ENGINES, "auto"):
        raise RuntimeError(f"MCPT_ENGINE={kind!r}: expected one of {', '.join(ENGINES)}")
    return kind


def dockerd_binary() -> str | None:
    """The dockerd of the engine under test, for the tests that start private engines (swarm, TLS,
    faults): $MCPT_DOCKERD, else the current engine's unpacked dockerd, else `dockerd` on PATH."""
    if os.environ.get("MCPT_DOCKERD"):
        return os.environ["MCPT_DOCKERD"]
    if engine_kind() == "current" and (CURRENT_ROOT / "usr/sbin/dockerd").exists():
        return str(CURRENT_ROOT / "usr/sbin/dockerd")
    return shutil.which("dockerd")


def dockerd_environment() -> dict[str, str]:
    """The environment a private dockerd starts with: the engine's own helpers (docker-proxy,
    docker-init) first on PATH, no DOCKER_HOST."""
    env = dict(os.environ)
    env.pop("DOCKER_HOST", None)
    dockerd = dockerd_binary()
    if dockerd:
        root = Path(dockerd).resolve().parent.parent  # .../usr
        env["PATH"] = os.pathsep.join([str(root / "sbin"), str(root / "bin"), env.get("PATH", "")])
    return env


def connect(timeout: float = 3.0) -> docker.DockerClient | None:
    try:
        client = docker.from_env(version="auto", timeout=timeout)
        client.ping()
    except Exception:
        return None
    client.api.timeout = 120
    return client


@dataclass
class EngineHandle:
    client: docker.DockerClient
    process: subprocess.Popen[bytes] | None  # set when this run started dockerd
    kind: str = "external"
    started_current: bool = False  # this run started the current engine (scripts/current_engine.sh)

    @property
    def api_version(self) -> str:
        return str(self.client.api.api_version)

    def stop(self) -> None:
        if self.started_current:
            subprocess.run([str(REPO / "scripts/current_engine.sh"), "stop"], check=False, timeout=120)
        if self.process is None:
            return
        stop_process(self.process)


def cli_config(kind: str) -> Path | None:
    """A DOCKER_CONFIG for the docker CLI the tools run (Compose, buildx), chosen per engine: the old
    engine's run sees no CLI plugins (Compose v1 `docker-compose`, the classic builder); the current
    engine's run sees the current engine's plugins (Compose v2, buildx). External: the user's own."""
    if kind == "external":
        return None
    folder = STATE_DIR / f"docker-config-{kind}"
    folder.mkdir(parents=True, exist_ok=True)
    config: dict[str, object] = {}
    if kind == "current":
        config["cliPluginsExtraDirs"] = [str(CURRENT_ROOT / "usr/libexec/docker/cli-plugins")]
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def select_environment() -> str:
    """Point this session (and every CLI and server it starts) at the engine MCPT_ENGINE chooses:
    DOCKER_HOST, and DOCKER_CONFIG / MCP_DOCKER_COMPOSE_CLI for the CLIs. Called before collection."""
    kind = engine_kind()
    if kind in ("external", "auto"):
        return kind
    os.environ["DOCKER_HOST"] = f"unix://{OLD_SOCK if kind == 'old' else CURRENT_SOCK}"
    config = cli_config(kind)
    if config is not None:
        os.environ["DOCKER_CONFIG"] = str(config)
        os.environ.setdefault("MCP_DOCKER_COMPOSE_CLI", "v1" if kind == "old" else "v2")
    return kind


_SESSION: EngineHandle | None = None
_CLAIM: socket.socket | None = None


def claim_prefix() -> None:
    """Hold this session's prefix on its engine. The cleanups remove every object named with the prefix,
    so a second session with the same prefix on the same engine would remove the first one's objects in
    the middle of its tests (seen: a unit-test run started beside the whole suite). The claim is an
    abstract unix socket: the kernel lets go of it when the process ends, and no file is left behind."""
    global _CLAIM
    if _CLAIM is not None:
        return
    where = os.environ.get("DOCKER_HOST") or f"unix://{OLD_SOCK}"
    claim = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        claim.bind(b"\0mcp-docker-tests-" + hashlib.sha256(f"{PREFIX}|{where}".encode()).hexdigest().encode())
    except OSError:
        claim.close()
        raise RuntimeError(
            f"Another test session with MCPT_PREFIX={PREFIX!r} is using the engine at {where}; this one's "
            "cleanup would remove its objects. Run beside it with MCPT_PREFIX=<other>- MCPT_STATE_DIR=<folder>."
        ) from None
    _CLAIM = claim


def session_engine() -> EngineHandle:
    """The session's engine, connected (or started) once."""
    global _SESSION
    if _SESSION is None:
        _SESSION = ensure_engine()
    return _SESSION


def stop_session_engine() -> None:
    global _SESSION
    if _SESSION is not None:
        _SESSION.stop()
        _SESSION = None


def ensure_engine() -> EngineHandle:
    """The engine MCPT_ENGINE chooses (see ENGINES), started when it is silent and this run may start
    it; an engine of the wrong kind (e.g. 'old' answering with a current API) is an error."""
    kind = select_environment()
    if kind == "external" or (kind == "auto" and os.environ.get("DOCKER_HOST")):
        client = connect()
        if client is None:
            raise RuntimeError(
                f"MCPT_ENGINE={kind}: no Docker engine answers at {os.environ.get('DOCKER_HOST') or OLD_SOCK}. "
                "Start it, or choose MCPT_ENGINE=old|current to let the test session start one."
            )
        return EngineHandle(client, None, kind)
    handle = _connect_or_start(kind)
    if kind == "auto":
        return handle
    api = handle.api_version
    if (kind == "old") != api_before(api, "1.44"):
        handle.stop()
        raise RuntimeError(
            f"MCPT_ENGINE={kind} but the engine at {os.environ['DOCKER_HOST']} speaks API {api} "
            f"({'old means Docker 20.10, API below 1.44' if kind == 'old' else 'current means API 1.44 or newer'})."
        )
    return handle


def api_before(version: str, floor: str) -> bool:
    return tuple(int(p) for p in version.split(".")) < tuple(int(p) for p in floor.split("."))


def _connect_or_start(kind: str) -> EngineHandle:
    client = connect()
    if client is not None:
        return EngineHandle(client, None, kind)
    if os.geteuid() != 0:
        raise RuntimeError(
            f"No {kind} engine answers at {os.environ.get('DOCKER_HOST') or OLD_SOCK} and only root can start one."
        )
    if kind == "current":
        subprocess.run([str(REPO / "scripts/current_engine.sh"), "start"], check=True, timeout=600)
        client = connect(timeout=10)
        if client is None:
            raise RuntimeError(f"scripts/current_engine.sh start ran but {CURRENT_SOCK} does not answer.")
        return EngineHandle(client, None, kind, started_current=True)
    return EngineHandle(*_start_old(), kind)


def _start_old() -> tuple[docker.DockerClient, subprocess.Popen[bytes]]:
    dockerd = shutil.which("dockerd")
    if dockerd is None:
        raise RuntimeError(
            "No Docker engine is reachable and this run cannot start one (needs dockerd: "
            "`apt-get install docker.io iptables`). Start an engine, set DOCKER_HOST, or use MCPT_ENGINE=current."
        )
    _clear_socket_directory(Path(OLD_SOCK))
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    log = (STATE_DIR / "dockerd.log").open("ab")
    env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
    process = subprocess.Popen([dockerd], stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dockerd exited with {process.returncode}; see {STATE_DIR / 'dockerd.log'}")
        client = connect()
        if client is not None:
            return client, process
        time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"dockerd did not answer within 60 s; see {STATE_DIR / 'dockerd.log'}")


def _clear_socket_directory(sock: Path) -> None:
    """A bind mount of a socket that did not exist yet leaves an empty directory at its path (seen on
    these machines at /var/run/docker.sock), and dockerd then cannot listen there ("is a directory")."""
    if sock.is_dir() and not sock.is_symlink():
        try:
            sock.rmdir()
        except OSError as error:
            raise RuntimeError(f"{sock} is a directory (not empty), so dockerd cannot listen there: {error}") from error
        print(f"removed the empty directory {sock}, which kept dockerd from listening", file=sys.stderr)


def busybox_rootfs_tar() -> bytes:
    """A tar of a tiny root file system: a static busybox and its applets as links."""
    busybox = shutil.which("busybox") or "/bin/busybox"
    if not Path(busybox).exists():
        raise RuntimeError("busybox is missing: `apt-get install busybox-static`")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for d in ("bin", "tmp", "etc", "var", "var/www", "data"):
            info = tarfile.TarInfo(d)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if d == "tmp" else 0o755
            tar.addfile(info)
        tar.add(busybox, arcname="bin/busybox")
        for applet in BUSYBOX_APPLETS:
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type = tarfile.SYMTYPE
            link.linkname = "busybox"
            tar.addfile(link)
        for name, text in (
            ("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n"),
            ("etc/group", "root:x:0:\nnogroup:x:65534:\n"),
        ):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def ensure_test_image(client: docker.DockerClient, ref: str = TEST_IMAGE) -> str:
    try:
        client.images.get(ref)
        return ref
    except docker.errors.ImageNotFound:
        pass
    repo, _, tag = ref.partition(":")
    client.api.import_image_from_data(
        busybox_rootfs_tar(),
        repository=repo,
        tag=tag or "latest",
        changes=['CMD ["/bin/sh"]', f'LABEL {TEST_LABEL}="{TEST_LABEL_VALUE}"', "ENV PATH=/bin"],
    )
    client.images.get(ref)
    return ref


def cleanup(client: docker.DockerClient) -> list[str]:
    """Remove every test object (containers, networks, volumes, images); return what was removed."""
    removed: list[str] = []
    label = {"label": f"{TEST_LABEL}={TEST_LABEL_VALUE}"}
    rows = client.api.containers(all=True, filters=label)
    rows += [r for r in client.api.containers(all=True) if any(n.lstrip("/").startswith(PREFIX) for n in r["Names"])]
    for row in {r["Id"]: r for r in rows}.values():
        try:
            client.api.remove_container(row["Id"], force=True, v=True)
            removed.append(f"container {row['Names'][0].lstrip('/')}")
        except docker.errors.APIError:
            pass
    for n in client.networks.list():
        if n.name.startswith(PREFIX) or (n.attrs.get("Labels") or {}).get(TEST_LABEL) == TEST_LABEL_VALUE:
            try:
                n.remove()
                removed.append(f"network {n.name}")
            except docker.errors.APIError:
                pass
    for v in client.volumes.list():
        if v.name.startswith(PREFIX) or (v.attrs.get("Labels") or {}).get(TEST_LABEL) == TEST_LABEL_VALUE:
            try:
                v.remove(force=True)
                removed.append(f"volume {v.name}")
            except docker.errors.APIError:
                pass
    # Raw listings (no per-image inspect): other sessions may remove their images meanwhile.
    image_ids: list[str] = [row["Id"] for row in client.api.images(filters=label)]
    for row in client.api.images():
        if any(tag.split("/")[-1].startswith(PREFIX) for tag in row.get("RepoTags") or []):
            image_ids.append(row["Id"])
    for image_id in dict.fromkeys(image_ids):
        try:
            client.api.remove_image(image_id, force=True)
            removed.append(f"image {image_id[:19]}")
        except docker.errors.APIError:
            pass
    return removed
