"""A local registry for pull/push tests: Debian's `docker-registry` (the distribution registry).

Started by the test session on 127.0.0.1:5000 (or a free port when 5000 is taken: the engine treats
every registry on 127.0.0.0/8 as insecure-allowed, whatever the port), with its storage in a temp
directory and deletes enabled; stopped at the end of the session.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.waiting import stop_process

CONFIG = """\
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
"""

AUTH = """\
auth:
  htpasswd:
    realm: mcp-docker-tests
    path: {htpasswd}
"""

# A bcrypt hash (cost 5) of TEST_PASSWORD, made once with the `bcrypt` package: the registry's
# htpasswd auth accepts only bcrypt, and the tests need no extra dependency to use it.
TEST_USER = "mcp-tester"
TEST_PASSWORD = "mcp-test-pass"
TEST_HASH = "$2b$05$CmPxAqWGaYoC0YqpDS8nmu5ad/4LoNnM1RO9woZ1uCEns4jj88lbu"


@dataclass
class Registry:
    host: str  # "127.0.0.1:5000"
    process: subprocess.Popen[bytes]
    workdir: Path

    def stop(self) -> None:
        stop_process(self.process, timeout=15)
        shutil.rmtree(self.workdir, ignore_errors=True)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _answers(host: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{host}/v2/", timeout=1) as response:
            return bool(response.status == 200)
    except urllib.error.HTTPError as exc:
        return exc.code == 401  # serving, and asking for credentials
    except (urllib.error.URLError, OSError):
        return False


def start_registry(preferred_port: int = 5000, auth: bool = False) -> Registry:
    """Serve a registry; with `auth`, it needs TEST_USER / TEST_PASSWORD (HTTP basic)."""
    binary = shutil.which("docker-registry")
    if binary is None:
        raise RuntimeError("docker-registry is missing: `apt-get install docker-registry`")
    port = preferred_port if preferred_port and _port_free(preferred_port) else _free_port()
    workdir = Path(tempfile.mkdtemp(prefix="mcpt-registry-"))
    (workdir / "storage").mkdir()
    config = workdir / "config.yml"
    text = CONFIG.format(root=workdir / "storage", port=port)
    if auth:
        (workdir / "htpasswd").write_text(f"{TEST_USER}:{TEST_HASH}\n")
        text += AUTH.format(htpasswd=workdir / "htpasswd")
    config.write_text(text)
    log = (workdir / "registry.log").open("wb")
    process = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    host = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = (workdir / "registry.log").read_text(errors="replace")
            shutil.rmtree(workdir, ignore_errors=True)
            raise RuntimeError(f"docker-registry exited with {process.returncode}: {output[-2000:]}")
        if _answers(host):
            return Registry(host, process, workdir)
        time.sleep(0.1)
    process.kill()
    process.wait(timeout=10)
    shutil.rmtree(workdir, ignore_errors=True)
    raise RuntimeError(f"docker-registry did not answer on {host} within 30 s")
