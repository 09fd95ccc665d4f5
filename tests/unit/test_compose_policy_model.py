"""The Compose policy on resolved models (pure logic: the dict `compose config` prints), on the
spellings the integration tests do not reach: string build contexts, additional contexts, cache
entries, env/label files and `extends` outside the roots, device reservations under `deploy`, mount
types, bracketed and named publish addresses, volume drivers; and redaction of odd shapes.

tests/integration/test_compose_policy.py runs the same policy through both Compose CLIs on the engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mcp_docker.config import Settings
from mcp_docker.safety.compose_policy import check_compose_model, port_host_ips, redact_model, service_request
from mcp_docker.utils.errors import UnsafeOperation
from mcp_docker.utils.output import REDACTED


def _refusal(model: dict[str, Any], settings: Settings) -> UnsafeOperation:
    with pytest.raises(UnsafeOperation) as caught:
        check_compose_model(model, settings)
    assert "Nothing was created" in caught.value.message
    return caught.value


def _app(**service: Any) -> dict[str, Any]:
    return {"services": {"app": {"image": "x", **service}}}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text("FROM scratch\n")
    return tmp_path


@pytest.fixture
def settings(root: Path) -> Settings:
    return Settings(allowed_build_roots=[str(root)], allowed_bind_roots=[str(root)])


def test_a_string_build_is_a_context_under_the_roots(root: Path, settings: Settings) -> None:
    check_compose_model(_app(build=str(root / "ctx")), settings)
    refusal = _refusal(_app(build="/etc"), settings)
    assert refusal.message.startswith("Compose service 'app': ")
    assert "MCP_DOCKER_ALLOWED_BUILD_ROOTS" in str(refusal)


@pytest.mark.parametrize("context", ["https://github.com/o/r.git#main", "git@github.com:o/r.git"])
def test_a_remote_build_context_is_refused(settings: Settings, context: str) -> None:
    refusal = _refusal(_app(build={"context": context}), settings)
    assert "key 'context'" in refusal.message and "fetched by the server" in refusal.message
    assert "Remove it from the compose file" in refusal.hint


def test_additional_contexts_images_and_services_pass_urls_and_outside_paths_do_not(
    root: Path, settings: Settings
) -> None:
    ok = {"base": "docker-image://busybox:1", "other": "service:db", "local": str(root / "ctx")}
    check_compose_model(_app(build={"context": str(root / "ctx"), "additional_contexts": ok}), settings)
    url = _refusal(
        _app(build={"context": str(root / "ctx"), "additional_contexts": {"web": "https://example.com/x.tar"}}),
        settings,
    )
    assert "key 'additional_contexts'" in url.message and "'web'" in url.message
    outside = _refusal(_app(build={"context": str(root / "ctx"), "additional_contexts": {"etc": "/etc"}}), settings)
    assert "MCP_DOCKER_ALLOWED_BUILD_ROOTS" in str(outside)


def test_only_local_caches_are_refused(root: Path, settings: Settings) -> None:
    build = {"context": str(root / "ctx"), "cache_from": ["type=registry,ref=r/x:cache", "r/y:1"]}
    check_compose_model(_app(build=build), settings)
    spaced = {"context": str(root / "ctx"), "cache_from": "type = local, src=/var/lib"}
    assert "key 'cache_from'" in _refusal(_app(build=spaced), settings).message


@pytest.mark.parametrize("key", ["env_file", "label_file"])
def test_env_and_label_files_must_be_under_the_roots(root: Path, settings: Settings, key: str) -> None:
    (root / "app.env").write_text("A=1\n")
    check_compose_model(
        _app(**{key: [str(root / "app.env"), {"path": str(root / "app.env"), "required": False}]}), settings
    )
    check_compose_model(_app(**{key: str(root / "app.env")}), settings)
    for entries in ("/etc/shadow", ["/etc/shadow"], [{"path": "/etc/shadow"}]):
        refusal = _refusal(_app(**{key: entries}), settings)
        assert f"key '{key}'" in refusal.message and "'/etc/shadow' is outside the allowed roots" in refusal.message


def test_extends_from_a_file_outside_the_roots_is_refused(root: Path, settings: Settings) -> None:
    check_compose_model(_app(extends={"file": str(root / "base.yml"), "service": "b"}), settings)
    check_compose_model(_app(extends={"service": "b"}), settings)  # the same file
    refusal = _refusal(_app(extends={"file": "/etc/compose/base.yml", "service": "b"}), settings)
    assert "key 'extends'" in refusal.message and "outside the allowed roots" in refusal.message


def test_devices_reserved_through_deploy_need_allow_devices(settings: Settings) -> None:
    gpu = {"resources": {"reservations": {"devices": [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]}}}
    generic = {"resources": {"reservations": {"generic_resources": [{"discrete_resource_spec": {"kind": "fpga"}}]}}}
    for deploy in (gpu, generic):
        refusal = _refusal(_app(deploy=deploy), settings)
        assert "GPUs or devices" in refusal.message and "MCP_DOCKER_ALLOW_DEVICES=true" in refusal.hint
        check_compose_model(_app(deploy=deploy), Settings(allow_devices=True))
    check_compose_model(_app(deploy={"replicas": 2, "resources": {"limits": {"memory": "64m"}}}), settings)


def test_only_bind_volume_and_tmpfs_mounts(settings: Settings) -> None:
    for kind in ("npipe", "cluster", "image"):
        refusal = _refusal(_app(volumes=[{"type": kind, "source": "x", "target": "/x"}]), settings)
        assert f"a mount of type {kind!r}" in refusal.message
    request = service_request({"volumes": [{"type": "volume", "source": "data", "target": "/d"}, {"target": "/anon"}]})
    assert [(m.type, m.source, m.target) for m in request.mounts] == [("volume", "data", "/d")]


def test_publish_addresses_bracketed_named_and_listed() -> None:
    assert port_host_ips("[::1]:8080:80/tcp") == ["::1"]
    assert port_host_ips("127.0.0.1:8080:80") == ["127.0.0.1"]
    assert port_host_ips("8080:80") == [""]
    assert port_host_ips({"target": 80, "published": "8080"}) == [""]
    check_compose_model(_app(ports=["[::1]:8080:80"]), Settings())
    named = _refusal(_app(ports=["localhost:8080:80"]), Settings())  # a name is not taken as loopback
    assert "publishes a port on localhost" in named.message
    assert "MCP_DOCKER_ALLOWED_PUBLISH_ADDRESSES" in named.hint
    listed = Settings(allowed_publish_addresses=["10.0.0.1"])
    check_compose_model(_app(ports=["10.0.0.1:8080:80", {"target": 80, "host_ip": "10.0.0.1"}]), listed)
    assert "10.0.0.2" in _refusal(_app(ports=["10.0.0.2:8080:80"]), listed).message


def test_volume_drivers_other_than_local_are_refused() -> None:
    refusal = _refusal({"services": {}, "volumes": {"v": {"driver": "rexray/ebs"}}}, Settings())
    assert refusal.message.startswith("Compose volume 'v': key 'driver'")
    assert "'rexray/ebs'; only local" in refusal.message
    check_compose_model({"services": {}, "volumes": {"v": {"driver": "local"}, "w": None}}, Settings())


def test_sections_that_are_not_objects_carry_no_keys() -> None:
    """A resolved model never has them, but a section of the wrong type has nothing to refuse or to run."""
    check_compose_model({"services": {"app": None}, "networks": {"n": None}}, Settings())
    check_compose_model(_app(build=["not", "a", "mapping"]), Settings(allowed_build_roots=["/"]))


def test_redaction_of_odd_shapes() -> None:
    assert redact_model(["not", "a", "model"]) == ["not", "a", "model"]
    model = {
        "services": {
            "app": {
                "environment": "TOKEN=s3cret",
                "labels": ["plain", "k=v"],
                "build": {"args": {"A": "1", "B": None}},
            },
            "broken": "not-a-service",
        },
        "volumes": {"v": {"labels": {"owner": "me"}}, "w": None},
        "networks": {"n": {"driver": "bridge"}},
    }
    out = redact_model(model)
    app = out["services"]["app"]
    assert app["environment"] == REDACTED
    assert app["labels"] == ["plain", f"k={REDACTED}"]
    assert app["build"]["args"] == {"A": REDACTED, "B": None}
    assert out["services"]["broken"] == "not-a-service"
    assert out["volumes"] == {"v": {"labels": {"owner": REDACTED}}, "w": None}
    assert out["networks"] == {"n": {"driver": "bridge"}}
    assert "s3cret" not in repr(out) and model["services"]["app"]["environment"] == "TOKEN=s3cret"
    kept = redact_model(model, redact_env=False)["services"]["app"]
    assert kept["environment"] == "TOKEN=s3cret" and kept["labels"] == ["plain", f"k={REDACTED}"]
