"""A second, private dockerd for fault tests: its own socket, data root, exec root and pid file.

The fault tests stop and restart this engine; they never touch the shared one on
/var/run/docker.sock. It gets its OWN bridge interface (created here, deleted at the end) and does
not touch iptables, so it cannot fight the main engine over networking. Never `--bridge=none`:
dockerd then deletes the host's `docker0` interface, breaking the shared engine's default network.
Needs root, dockerd and iproute2 (as the main engine fixture does).
"""

from __future__ import annotations

import ipaddress
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import docker

from tests import engine as test_engine


class SecondEngine:
    """A dockerd this test run owns; `stop()`/`start()` may be called any number of times."""

    def __init__(self) -> None:
        dockerd = test_engine.dockerd_binary()  # the engine under test's
        if dockerd is None:
            raise RuntimeError("dockerd is missing: `apt-get install docker.io iptables`")
        self.dockerd = dockerd
        # A short path: unix socket paths are limited to about 100 bytes.
        self.root = Path(tempfile.mkdtemp(prefix=f"{test_engine.PREFIX}dk-", dir="/tmp"))
        self.socket = self.root / "docker.sock"
        self.url = f"unix://{self.socket}"
        self.process: subprocess.Popen[bytes] | None = None
        self.bridge = f"{test_engine.PREFIX[:5]}br{self.root.name[-4:]}".replace("_", "x")[:15]
        self._make_bridge()

    def _make_bridge(self) -> None:
        used = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True, check=True).stdout
        for _ in range(50):
            net = ipaddress.ip_network(f"10.{random.randint(100, 250)}.{random.randint(0, 255)}.0/24")
            if f" 10.{str(net.network_address).split('.')[1]}." not in used:
                break
        gateway = f"{net.network_address + 1}/{net.prefixlen}"
        subprocess.run(["ip", "link", "add", self.bridge, "type", "bridge"], check=True)
        subprocess.run(["ip", "addr", "add", gateway, "dev", self.bridge], check=True)
        subprocess.run(["ip", "link", "set", self.bridge, "up"], check=True)
        self.pool = f"10.{str(net.network_address).split('.')[1]}.0.0/16"

    def start(self, timeout: float = 60) -> docker.DockerClient:
        if self.process is not None and self.process.poll() is None:
            return self.client()
        # dockerd deletes its stored default "bridge" network when it starts again, and with it the
        # host's docker0 (the shared engine's bridge). Starting with no stored networks avoids that.
        shutil.rmtree(self.root / "data" / "network", ignore_errors=True)
        log = (self.root / "dockerd.log").open("ab")
        self.process = subprocess.Popen(
            [
                self.dockerd,
                "--host",
                self.url,
                "--data-root",
                str(self.root / "data"),
                "--exec-root",
                str(self.root / "exec"),
                "--pidfile",
                str(self.root / "docker.pid"),
                "--bridge",
                self.bridge,
                "--default-address-pool",
                f"base={self.pool},size=24",
                "--iptables=false",
                "--ip-masq=false",
                "--ip-forward=false",
                "--storage-driver=vfs",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=test_engine.dockerd_environment(),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the second dockerd exited; see {self.root / 'dockerd.log'}")
            try:
                client = self.client()
                client.ping()
                return client
            except Exception:
                time.sleep(0.2)
        raise RuntimeError(f"the second dockerd did not answer; see {self.root / 'dockerd.log'}")

    def client(self) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.url, version="auto", timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def destroy(self) -> None:
        self.stop()
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)
