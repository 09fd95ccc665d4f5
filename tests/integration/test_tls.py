"""The server reaching an engine over TCP with TLS and client certificates, as the docker CLI would.

A private second engine listens on 127.0.0.1 with `--tlsverify` and certificates this run makes
with openssl (tests/private_engine.py). The server finds it through the docker CLI's variables
(DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH); a wrong or missing certificate is a clear error.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import certifi
import docker
import pytest
import requests
import urllib3
from mcp import Client

from mcp_docker.docker.client import Engine
from mcp_docker.server import create_server
from mcp_docker.utils.errors import DockerDaemonUnavailable, EngineTLSError, map_engine_error
from tests.conftest import MODES, TEST_LABELS, allow_settings, error_text, structured
from tests.engine import ensure_test_image
from tests.private_engine import PrivateEngine, running_private_engine

pytestmark = [pytest.mark.anyio, pytest.mark.engine]


@pytest.fixture(scope="module")
def tls_engine() -> Iterator[PrivateEngine]:
    with running_private_engine(tls=True) as engine:
        ensure_test_image(engine.client)
        try:
            yield engine
        finally:
            for container in engine.client.containers.list(all=True):
                container.remove(force=True)


def tls_client(engine: PrivateEngine, certs: Path, mode: str = "legacy") -> tuple[Engine, Client]:
    eng = Engine(environment=engine.tls_environment(certs), connect_timeout=5)
    return eng, Client(create_server(allow_settings(), engine=eng), mode=mode)


@pytest.mark.parametrize("mode", MODES)
async def test_tools_work_over_tls_with_client_certificate(
    tls_engine: PrivateEngine,
    docker_client: docker.DockerClient,
    unique: Callable[[str], str],
    mode: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A CA bundle in the environment (common on corporate machines) must not replace the engine's CA.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    there = tls_engine.client.containers.run(
        ensure_test_image(tls_engine.client), "sleep 300", detach=True, name=unique("tls"), labels=TEST_LABELS
    )
    eng, client = tls_client(tls_engine, tls_engine.certs.client, mode)
    async with client as c:
        listed = structured(await c.call_tool("docker_list_containers", {"all": True}))
        # Only the TLS engine's containers: none of the shared engine's.
        assert {item["name"] for item in listed["containers"]} == {
            n.lstrip("/") for row in tls_engine.client.api.containers(all=True) for n in row["Names"]
        }
        assert there.name in {item["name"] for item in listed["containers"]}
        shared = {n.lstrip("/") for row in docker_client.api.containers(all=True) for n in row["Names"]}
        assert there.name not in shared

        name = unique("made-over-tls")
        created = structured(
            await c.call_tool(
                "docker_create_container",
                {"image": ensure_test_image(tls_engine.client), "name": name, "labels": TEST_LABELS},
            )
        )
        assert created["name"] == name
        assert tls_engine.client.containers.get(name).labels["mcp-docker.managed"] == "true"
    health = eng.health()
    assert health.reachable is True
    assert health.endpoint == tls_engine.tcp_host
    assert health.api_version == tls_engine.client.api.api_version
    eng.close()
    for container in (there, tls_engine.client.containers.get(name)):
        container.remove(force=True)


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        (
            "wrong_client",
            "does not accept the client certificate",
        ),  # a client certificate signed by a CA the engine does not trust
        ("wrong_ca", "not trusted by ca.pem"),  # the engine's certificate checked against the wrong CA
        ("no_client", "certificate and key"),  # DOCKER_TLS_VERIFY=1 without cert.pem/key.pem
    ],
)
async def test_bad_certificates_are_clear_errors(tls_engine: PrivateEngine, folder: str, expected: str) -> None:
    eng, client = tls_client(tls_engine, getattr(tls_engine.certs, folder))
    async with client as c:
        text = error_text(await c.call_tool("docker_list_containers", {}))
    assert "TLS" in text, text
    assert expected in text, text
    assert "DOCKER_CERT_PATH" in text
    health = eng.health()
    assert health.reachable is False
    assert health.error is not None
    assert expected in health.error
    eng.close()


async def test_plain_http_to_a_tls_engine_is_refused_clearly(tls_engine: PrivateEngine) -> None:
    eng = Engine(environment={"DOCKER_HOST": tls_engine.tcp_host}, connect_timeout=5)
    health = eng.health()
    assert health.reachable is False
    assert health.error is not None
    assert "HTTP request to an HTTPS server" in health.error


def test_tls_errors_map_by_type() -> None:
    assert isinstance(map_engine_error(ssl.SSLError(1, "boom")), EngineTLSError)
    assert isinstance(map_engine_error(requests.exceptions.SSLError("boom")), EngineTLSError)
    assert isinstance(map_engine_error(docker.errors.TLSParameterError("no cert")), EngineTLSError)
    # Which side failed is told by the type of the ssl error beneath the wrappers, never by its text.
    untrusted = ssl.SSLCertVerificationError(1, "x")
    wrapped = requests.exceptions.SSLError(urllib3.exceptions.MaxRetryError(None, "/version", untrusted))  # type: ignore[arg-type]
    assert "not trusted by ca.pem" in str(map_engine_error(wrapped))
    refused = requests.exceptions.SSLError(urllib3.exceptions.MaxRetryError(None, "/version", ssl.SSLEOFError(8, "x")))  # type: ignore[arg-type]
    assert "does not accept the client certificate" in str(map_engine_error(refused))
    # Still an unreachable engine for the client's reconnect logic.
    assert issubclass(EngineTLSError, DockerDaemonUnavailable)
