"""A second, private Docker engine for the Swarm and TLS tests, started and stopped by the test run.

It must never fight the shared engine on /var/run/docker.sock:
- its own unix socket, data root, exec root (network namespaces, containerd) and pid file, all in a
  fresh temporary directory that is deleted at the end;
- `--iptables=false --ip-masq=false --ip-forward=false`: it never touches the host's firewall rules;
- never `--bridge=none`: dockerd started so DELETES the host's `docker0` (the shared engine's
  bridge) at start-up; and never the default bridge, which would take over `docker0`.

Two flavours:
- in the host's network (`own_netns=False`, for TLS): a bridge of its own (a link named after the
  test prefix, deleted at the end) and a TCP listener on 127.0.0.1 with TLS and client-certificate
  verification (`--tlsverify`), with certificates this run makes with openssl (`make_certs`);
- in a network namespace of its own (`own_netns=True`, for Swarm): reachable through its unix
  socket only; swarm's `docker_gwbridge`, ingress network and bridges live and die in that
  namespace, so sessions running at the same time cannot collide.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import docker

from tests.engine import PREFIX, dockerd_binary, dockerd_environment


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def free_udp_port(low: int = 40000, high: int = 49151) -> int:
    """A free UDP port in [low, high] (swarm's data path port must be below 49152)."""
    import random

    for _ in range(200):
        port = random.randint(low, high)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind(("0.0.0.0", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free UDP port in {low}-{high}")


# ---------------------------------------------------------------- certificates


@dataclass(frozen=True)
class Certs:
    """Certificate folders laid out the way the docker CLI expects (ca.pem, cert.pem, key.pem)."""

    server: Path  # ca.pem, cert.pem, key.pem of the daemon
    client: Path  # a client certificate signed by the daemon's CA
    wrong_client: Path  # a client certificate signed by another CA (the daemon's ca.pem to verify it)
    no_client: Path  # only the daemon's ca.pem: no client certificate at all
    wrong_ca: Path  # the good client certificate, but another CA to check the daemon's certificate with


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _ca(root: Path, name: str) -> tuple[Path, Path]:
    key, cert = root / f"{name}-key.pem", root / f"{name}.pem"
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(key), cwd=root)
    _openssl(
        "req", "-x509", "-new", "-key", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name}", cwd=root
    )
    return key, cert


def _leaf(root: Path, name: str, ca: tuple[Path, Path], extensions: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    key, csr, ext = out / "key.pem", root / f"{name}.csr", root / f"{name}.ext"
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(key), cwd=root)
    _openssl("req", "-new", "-key", str(key), "-out", str(csr), "-subj", f"/CN={name}", cwd=root)
    ext.write_text(extensions)
    _openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(ca[1]), "-CAkey", str(ca[0]), "-set_serial",
        str(int(uuid.uuid4().hex[:12], 16)), "-days", "2", "-extfile", str(ext), "-out", str(out / "cert.pem"),
        cwd=root,
    )  # fmt: skip


def make_certs(root: Path) -> Certs:
    """A CA, a server certificate for 127.0.0.1/localhost, a good client, and a client of another CA."""
    root.mkdir(parents=True, exist_ok=True)
    ca = _ca(root, "mcp-test-ca")
    other_ca = _ca(root, "mcp-other-ca")
    certs = Certs(root / "server", root / "client", root / "wrong-client", root / "no-client", root / "wrong-ca")
    server_ext = "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
    client_ext = "extendedKeyUsage=clientAuth\n"
    _leaf(root, "server", ca, server_ext, certs.server)
    _leaf(root, "client", ca, client_ext, certs.client)
    _leaf(root, "wrong-client", other_ca, client_ext, certs.wrong_client)
    certs.no_client.mkdir()
    for folder in (certs.server, certs.client, certs.wrong_client, certs.no_client):
        shutil.copy(ca[1], folder / "ca.pem")
    shutil.copytree(certs.client, certs.wrong_ca)
    shutil.copy(other_ca[1], certs.wrong_ca / "ca.pem")
    return certs


# ---------------------------------------------------------------- the engine


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["ip", *args], check=check, capture_output=True)


def link_exists(name: str) -> bool:
    return _ip("link", "show", name, check=False).returncode == 0


@dataclass
class SecondEngine:
    root: Path
    socket: str  # unix:///.../docker.sock
    tcp_port: int
    certs: Certs
    bridge: str
    process: subprocess.Popen[bytes]
    client: docker.DockerClient  # None only while starting
    log: Path
    extra_links: list[str] = field(default_factory=list)

    @property
    def tcp_host(self) -> str:
        return f"tcp://127.0.0.1:{self.tcp_port}"

    def tls_environment(self, certs: Path) -> dict[str, str]:
        """The docker CLI's variables for reaching this engine over TLS with the certificates in `certs`."""
        return {"DOCKER_HOST": self.tcp_host, "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(certs)}

    def stop(self) -> None:
        if self.client is not None:
            with contextlib.suppress(Exception):
                self.client.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        for link in [*self.extra_links, self.bridge]:
            if link and link_exists(link):
                _ip("link", "delete", link, check=False)
        # Mounts left by a killed daemon would make the data root impossible to delete.
        mounts = Path("/proc/mounts").read_text().splitlines()
        for target in sorted((m.split()[1] for m in mounts if m.split()[1].startswith(str(self.root))), reverse=True):
            subprocess.run(["umount", "-l", target], check=False, capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


def start_second_engine(own_netns: bool = False, timeout: float = 60.0) -> SecondEngine:
    """Start a private dockerd; see the module's docstring.

    Without `own_netns` it shares the host's network (so its TLS listener on 127.0.0.1 is reachable)
    with a bridge of its own and no firewall changes. With `own_netns` it runs in a network namespace
    of its own (loopback only), reachable through its unix socket alone: whatever it does to
    networking (swarm's docker_gwbridge, ingress, iptables) stays there, so several test sessions
    can each run a swarm at once.
    """
    dockerd = dockerd_binary()  # the engine under test's (MCPT_ENGINE=current: Docker 26.1)
    needed = ("ip", "openssl", "unshare")
    if dockerd is None or os.geteuid() != 0 or any(shutil.which(tool) is None for tool in needed):
        raise RuntimeError("A second engine needs root, dockerd, ip (iproute2), unshare and openssl.")
    root = Path(tempfile.mkdtemp(prefix=f"{PREFIX}eng-", dir="/tmp"))
    certs = make_certs(root / "certs")
    sock = f"unix://{root}/docker.sock"
    log = root / "dockerd.log"
    args = [
        dockerd,
        "-H", sock,
        "--data-root", str(root / "data"),
        "--exec-root", str(root / "exec"),
        "--pidfile", str(root / "docker.pid"),
        "--iptables=false",
        "--ip-masq=false",
        "--ip-forward=false",
        "--default-address-pool", "base=10.213.0.0/16,size=24",
        "--storage-driver", "overlay2",
    ]  # fmt: skip
    bridge = ""
    port = 0
    if own_netns:
        args = ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *args]
    else:
        bridge = f"{PREFIX}br{uuid.uuid4().hex[:4]}"[:15]
        _ip("link", "add", bridge, "type", "bridge")
        _ip("addr", "add", f"10.212.{int(uuid.uuid4().hex[:2], 16) % 250 + 1}.1/24", "dev", bridge)
        _ip("link", "set", bridge, "up")
        port = free_port()
        args += [
            "--bridge", bridge,
            "-H", f"tcp://127.0.0.1:{port}",
            "--tlsverify",
            "--tlscacert", str(certs.server / "ca.pem"),
            "--tlscert", str(certs.server / "cert.pem"),
            "--tlskey", str(certs.server / "key.pem"),
        ]  # fmt: skip
    # Swarm tasks would try to pull their image from a registry first; this machine reaches none.
    env = {**dockerd_environment(), "DOCKER_SERVICE_PREFER_OFFLINE_IMAGE": "1"}
    with log.open("ab") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    engine = SecondEngine(root, sock, port, certs, bridge, process, None, log)  # type: ignore[arg-type]
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            engine.stop()
            raise RuntimeError(f"second dockerd exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            client = docker.DockerClient(base_url=sock, version="auto", timeout=5)
            client.ping()
            break
        except Exception:
            if time.monotonic() > deadline:
                tail = log.read_text()[-2000:]
                engine.stop()
                raise RuntimeError(f"second dockerd did not answer within {timeout} s: {tail}") from None
            time.sleep(0.3)
    client.api.timeout = 120
    engine.client = client
    return engine


@contextlib.contextmanager
def running_second_engine(own_netns: bool = False) -> Iterator[SecondEngine]:
    """A second engine for the duration of the block; stopped and deleted afterwards, whatever happened."""
    engine = start_second_engine(own_netns)
    try:
        yield engine
    finally:
        engine.stop()
