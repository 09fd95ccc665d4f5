"""A private Docker engine the test run starts, stops, restarts and deletes: for the fault, TLS, Swarm
and several-host tests, which must never stop or reconfigure the shared engine on /var/run/docker.sock.

It must never fight the shared engine:
- its own unix socket, data root, exec root (network namespaces, containerd) and pid file, all in a
  fresh temporary directory that is deleted at the end;
- `--iptables=false --ip-masq=false --ip-forward=false`: it never touches the host's firewall rules;
- never `--bridge=none`: dockerd started so DELETES the host's `docker0` (the shared engine's
  bridge) at start-up; and never the default bridge, which would take over `docker0`. Stored
  networks are removed before every start, since dockerd deletes its stored default network (and
  with it `docker0`) when it starts again.

Where its network lives:
- in the host's network (`own_netns=False`, the default): a bridge of its own (a link named after
  the test prefix, on a /24 no host interface uses, deleted at the end); with `tls=True` also a TCP
  listener on 127.0.0.1 with TLS and client-certificate verification (`--tlsverify`), with
  certificates this run makes with openssl (`make_certs`);
- in a network namespace of its own (`own_netns=True`, for Swarm and several hosts): reachable
  through its unix socket only; swarm's `docker_gwbridge`, ingress network and bridges live and die
  in that namespace, so sessions running at the same time cannot collide.

Needs root, dockerd and iproute2 (as the main engine fixture does), openssl for TLS, unshare for
its own namespace.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import random
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker

from tests.engine import PREFIX, dockerd_binary, dockerd_environment
from tests.waiting import stop_process, wait_until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def free_udp_port(low: int = 40000, high: int = 49151) -> int:
    """A free UDP port in [low, high] (swarm's data path port must be below 49152)."""
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


def _unused_subnet() -> ipaddress.IPv4Network:
    """A 10.N.M.0/24 whose 10.N.0.0/16 no host interface has an address in."""
    used = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True, check=True).stdout
    for _ in range(50):
        net = ipaddress.IPv4Network(f"10.{random.randint(100, 250)}.{random.randint(0, 255)}.0/24")
        if f" 10.{str(net.network_address).split('.')[1]}." not in used:
            return net
    raise RuntimeError("no unused 10.N.0.0/16 for a private engine's bridge")


class PrivateEngine:
    """A dockerd this test run owns; `start()` / `stop()` any number of times, `destroy()` at the end."""

    def __init__(self, *, own_netns: bool = False, tls: bool = False, storage_driver: str = "overlay2") -> None:
        self.dockerd = dockerd_binary()  # the engine under test's (MCPT_ENGINE=current: Docker 26.1)
        needed = ["ip", *(["openssl"] if tls else []), *(["unshare"] if own_netns else [])]
        if self.dockerd is None or os.geteuid() != 0 or any(shutil.which(tool) is None for tool in needed):
            raise RuntimeError(f"A private engine needs root, dockerd and {', '.join(needed)}.")
        self.own_netns, self.storage_driver = own_netns, storage_driver
        # A short path: unix socket paths are limited to about 100 bytes.
        self.root = Path(tempfile.mkdtemp(prefix=f"{PREFIX}eng-", dir="/tmp"))
        self.url = f"unix://{self.root}/docker.sock"
        self.log = self.root / "dockerd.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._client: docker.DockerClient | None = None
        self.certs = make_certs(self.root / "certs") if tls else None
        self.tcp_port = free_port() if tls else 0
        self.bridge = ""
        self.pool = "10.213.0.0/16"  # inside its own namespace nothing can collide
        if not own_netns:
            self.bridge = f"{PREFIX[:5]}br{uuid.uuid4().hex[:4]}".replace("_", "x")[:15]
            net = _unused_subnet()
            _ip("link", "add", self.bridge, "type", "bridge")
            _ip("addr", "add", f"{net.network_address + 1}/{net.prefixlen}", "dev", self.bridge)
            _ip("link", "set", self.bridge, "up")
            self.pool = f"10.{str(net.network_address).split('.')[1]}.0.0/16"

    @property
    def tcp_host(self) -> str:
        return f"tcp://127.0.0.1:{self.tcp_port}"

    def tls_environment(self, certs: Path) -> dict[str, str]:
        """The docker CLI's variables for reaching this engine over TLS with the certificates in `certs`."""
        return {"DOCKER_HOST": self.tcp_host, "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(certs)}

    @property
    def client(self) -> docker.DockerClient:
        """A client of the running engine (a new one after each start)."""
        if self._client is None:
            raise RuntimeError("the private engine is not running: start() it first")
        return self._client

    def _args(self) -> list[str]:
        assert self.dockerd is not None
        args = [
            self.dockerd,
            "--host", self.url,
            "--data-root", str(self.root / "data"),
            "--exec-root", str(self.root / "exec"),
            "--pidfile", str(self.root / "docker.pid"),
            "--iptables=false",
            "--ip-masq=false",
            "--ip-forward=false",
            "--default-address-pool", f"base={self.pool},size=24",
            "--storage-driver", self.storage_driver,
        ]  # fmt: skip
        if self.bridge:
            args += ["--bridge", self.bridge]
        if self.certs is not None:
            args += [
                "--host", self.tcp_host,
                "--tlsverify",
                "--tlscacert", str(self.certs.server / "ca.pem"),
                "--tlscert", str(self.certs.server / "cert.pem"),
                "--tlskey", str(self.certs.server / "key.pem"),
            ]  # fmt: skip
        if self.own_netns:
            args = ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *args]
        return args

    def start(self, timeout: float = 60.0) -> docker.DockerClient:
        """Start the engine (if it is not running) and return its client once it answers."""
        if self.process is not None and self.process.poll() is None:
            return self.client
        shutil.rmtree(self.root / "data" / "network", ignore_errors=True)  # see the module's docstring
        # Swarm tasks would try to pull their image from a registry first; this machine reaches none.
        env = {**dockerd_environment(), "DOCKER_SERVICE_PREFER_OFFLINE_IMAGE": "1"}
        with self.log.open("ab") as out:
            process = subprocess.Popen(
                self._args(), stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        self.process = process
        client: docker.DockerClient | None = None

        def answers() -> bool:
            nonlocal client
            if process.poll() is not None:
                return True
            try:
                candidate = docker.DockerClient(base_url=self.url, version="auto", timeout=5)
                candidate.ping()
            except Exception:
                return False
            client = candidate
            return True

        if not wait_until(answers, timeout, interval=0.2) or client is None:
            tail = self.log.read_text()[-2000:]
            code = process.poll()
            self.stop()
            what = f"exited with {code}" if code is not None else f"did not answer within {timeout:g} s"
            raise RuntimeError(f"the private dockerd {what}; {self.log}: {tail}")
        client.api.timeout = 120
        self._client = client
        return client

    def stop(self) -> None:
        """Stop the engine (its data stays: `start()` brings it back)."""
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()
        if self.process is not None:
            stop_process(self.process)

    def destroy(self) -> None:
        """Stop the engine and delete everything it had: its bridge, mounts and directory."""
        self.stop()
        if self.bridge and link_exists(self.bridge):
            _ip("link", "delete", self.bridge, check=False)
        # Mounts left by a killed daemon would make the data root impossible to delete.
        mounts = Path("/proc/mounts").read_text().splitlines()
        for target in sorted((m.split()[1] for m in mounts if m.split()[1].startswith(str(self.root))), reverse=True):
            subprocess.run(["umount", "-l", target], check=False, capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def running_private_engine(*, own_netns: bool = False, tls: bool = False) -> Iterator[PrivateEngine]:
    """A started private engine for the duration of the block; destroyed afterwards, whatever happened."""
    engine = PrivateEngine(own_netns=own_netns, tls=tls)
    try:
        engine.start()
        yield engine
    finally:
        engine.destroy()
