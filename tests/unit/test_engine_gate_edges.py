"""The engine gate's field rules on the shapes the other gate tests leave out: bodies of the wrong JSON
type, mount and bind spellings at the edges of what is allowed, publish addresses that are names, and
the allowed values next to each refused one (so a rule that refused everything would fail here too).

Pure logic: the facts the gate looks up are a small fake; tests/integration/test_engine_gate.py attacks
the gate on the real engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mcp_docker.config import Settings
from mcp_docker.safety.engine_gate import check_engine_request, parse_request
from mcp_docker.safety.gate_base import NEVER, GateRefusal

CREATE = "/v1.41/containers/create"


class Facts:
    """No objects exist on this engine except the volumes given."""

    def __init__(self, volumes: dict[str, dict[str, Any]] | None = None) -> None:
        self.volumes = volumes or {}

    def container(self, ref: str) -> dict[str, Any] | None:
        return None

    def network(self, ref: str) -> dict[str, Any] | None:
        return None

    def volume(self, name: str) -> dict[str, Any] | None:
        return self.volumes.get(name)

    def service(self, ref: str) -> dict[str, Any] | None:
        return None

    def info(self) -> dict[str, Any]:
        return {"CgroupVersion": "2"}


def decide(method: str, url: str, body: Any = None, facts: Facts | None = None, **settings: Any) -> None:
    check_engine_request(parse_request(method, url, body), facts or Facts(), Settings(**settings))


def refused(method: str, url: str, body: Any = None, facts: Facts | None = None, **settings: Any) -> GateRefusal:
    with pytest.raises(GateRefusal) as caught:
        decide(method, url, body, facts, **settings)
    refusal = caught.value
    assert "Nothing was sent to the engine" in str(refusal)
    return refusal


def host(config: dict[str, Any], **settings: Any) -> GateRefusal:
    return refused("POST", CREATE, {"Image": "i", "HostConfig": config}, **settings)


def host_ok(config: dict[str, Any], facts: Facts | None = None, **settings: Any) -> None:
    decide("POST", CREATE, {"Image": "i", "HostConfig": config}, facts, **settings)


# -- bodies of the wrong JSON type (gate_base) -----------------------------------------------------------


def test_a_nested_body_that_is_not_an_object_is_refused_by_its_path() -> None:
    refusal = host([{"Privileged": True}])  # type: ignore[arg-type]
    assert refusal.field == "create.HostConfig"
    assert "must be an object" in refusal.what
    assert refusal.setting == NEVER and "No setting allows it" in refusal.hint


def test_a_list_field_given_as_a_string_is_refused() -> None:
    refusal = host({"Binds": "/:/host"})
    assert (refusal.field, refusal.what) == ("create.HostConfig.Binds", "create.HostConfig.Binds must be a list")


def test_a_request_without_a_body_is_checked_as_empty() -> None:
    decide("POST", "/volumes/create", None)  # docker volume create: no body, a plain local volume
    decide("POST", CREATE, None)
    # ... and the same endpoints still refuse what they must
    assert "plugin" in refused("POST", "/volumes/create", {"Driver": "rexray"}).what


# -- binds and mounts (gate_mounts) ------------------------------------------------------------------------


def test_bind_strings_of_the_wrong_shape_are_refused(tmp_path: Path) -> None:
    roots = {"allowed_bind_roots": [str(tmp_path)]}
    assert "must be a 'source:target[:options]' string" in host({"Binds": [5]}, **roots).what
    four = host({"Binds": [f"{tmp_path}:/a:ro:extra"]}, **roots)
    assert "more than three parts" in four.what and four.field == "create.HostConfig.Binds[0]"
    host_ok({"Binds": [f"{tmp_path}:/a:ro", "/anonymous", "named:/n:nocopy"]}, **roots)


def test_bind_propagation_in_mounts_is_refused_when_shared(tmp_path: Path) -> None:
    roots = {"allowed_bind_roots": [str(tmp_path)]}

    def mount(propagation: str) -> dict[str, Any]:
        bind = {"Type": "bind", "Source": str(tmp_path), "Target": "/t", "BindOptions": {"Propagation": propagation}}
        return {"Mounts": [bind]}

    for shared in ("rshared", "shared", "SHARED"):
        refusal = host(mount(shared), **roots)
        assert "shared propagation" in refusal.what
        assert refusal.field == "create.HostConfig.Mounts[0].BindOptions.Propagation"
    for private in ("rprivate", "rslave", "Private"):
        host_ok(mount(private), **roots)


def test_mount_entries_of_the_wrong_shape_are_refused() -> None:
    assert host({"Mounts": ["/etc:/etc"]}).what == "a mount must be an object"
    refusal = host({"Mounts": [{"Type": "volume", "Source": "/etc", "Target": "/e"}]})
    assert "is not a volume name" in refusal.what and refusal.field == "create.HostConfig.Mounts[0].Source"
    refusal = host({"Mounts": [{"Type": "tmpfs", "Source": "/etc", "Target": "/t"}]})
    assert refusal.what == "a tmpfs mount has no source"
    refusal = host({"Mounts": [{"Type": "npipe", "Source": "x", "Target": "/t"}]})
    assert "only bind, volume and tmpfs" in refusal.what


def test_an_anonymous_volume_mount_passes_without_a_lookup() -> None:
    class NoLookups(Facts):
        def volume(self, name: str) -> dict[str, Any] | None:
            raise AssertionError(f"looked up {name!r}")

    host_ok({"Mounts": [{"Type": "volume", "Target": "/data"}, {"Type": "tmpfs", "Target": "/t"}]}, NoLookups())


def test_volume_driver_options_of_the_wrong_shape_or_with_extra_bind_options(tmp_path: Path) -> None:
    listed = refused("POST", "/volumes/create", {"Name": "v", "DriverOpts": ["type=tmpfs"]})
    assert listed.what == "volume driver options must be an object"
    bind = {"type": "none", "o": "bind,suid,dev", "device": str(tmp_path)}
    extra = refused("POST", "/volumes/create", {"Name": "v", "DriverOpts": bind}, allowed_bind_roots=[str(tmp_path)])
    assert extra.field == "volume.DriverOpts.o"
    assert "['suid', 'dev']" in extra.what
    plain = {"type": "none", "o": "rbind,ro", "device": str(tmp_path)}
    decide("POST", "/volumes/create", {"Name": "v", "DriverOpts": plain}, allowed_bind_roots=[str(tmp_path)])


# -- HostConfig values (gate_container) ------------------------------------------------------------------


def test_a_publish_address_must_be_an_ip_address_not_a_name() -> None:
    for name in ("localhost", "my-host.example", "127.0.0.1.nip.io"):
        refusal = host({"PortBindings": {"80/tcp": [{"HostIp": name, "HostPort": "8080"}]}})
        assert refusal.field == "create.HostConfig.PortBindings['80/tcp'][0].HostIp"
        assert "publish on 127.0.0.1" in refusal.what
        assert "MCP_DOCKER_ALLOWED_PUBLISH_ADDRESSES" in refusal.hint
    # the operator's list holds addresses only (a name could resolve anywhere); a listed address passes
    host_ok({"PortBindings": {"80/tcp": [{"HostIp": "10.0.0.5"}]}}, allowed_publish_addresses=["10.0.0.5"])
    assert (
        "10.0.0.6"
        in host({"PortBindings": {"80/tcp": [{"HostIp": "10.0.0.6"}]}}, allowed_publish_addresses=["10.0.0.5"]).what
    )


def test_port_bindings_that_are_not_an_object_are_refused() -> None:
    refusal = host({"PortBindings": [["80/tcp", "0.0.0.0:80"]]})
    assert refusal.what == "port bindings must be an object"


def test_publish_all_ports_passes_when_every_interface_is_allowed() -> None:
    assert "every interface" in host({"PublishAllPorts": True}).what
    host_ok({"PublishAllPorts": True}, allowed_publish_addresses=["0.0.0.0"])
    host_ok({"PublishAllPorts": True}, allowed_publish_addresses=["[::]"])


def test_log_options_off_the_list_are_refused_even_for_json_file() -> None:
    refusal = host({"LogConfig": {"Type": "json-file", "Config": {"max-size": "1m", "fluentd-address": "x:1"}}})
    assert (refusal.field, refusal.what) == ("create.HostConfig.LogConfig.Config", "log options ['fluentd-address']")
    host_ok({"LogConfig": {"Type": "local", "Config": {"max-size": "1m", "max-file": "3", "compress": "true"}}})


def test_oom_score_and_storage_options_allowed_values_pass() -> None:
    host_ok({"OomScoreAdj": 500, "StorageOpt": {"size": "10G"}})
    assert "negative" in host({"OomScoreAdj": -1}).what
    assert "negative" in host({"OomScoreAdj": "500"}).what  # not a number
    assert "only size" in host({"StorageOpt": {"size": "1G", "overlay2.size": "1G"}}).what


def test_endpoints_config_that_is_not_an_object_is_refused() -> None:
    body = {"Image": "i", "NetworkingConfig": {"EndpointsConfig": ["host"]}}
    refusal = refused("POST", CREATE, body)
    assert (refusal.field, refusal.what) == (
        "create.NetworkingConfig.EndpointsConfig",
        "EndpointsConfig must be an object",
    )


def test_an_update_may_not_disable_the_oom_killer() -> None:
    refusal = refused("POST", "/containers/c/update", {"Memory": 1 << 20, "OomKillDisable": True})
    assert refusal.field == "update.OomKillDisable"
    decide("POST", "/containers/c/update", {"Memory": 1 << 20, "OomKillDisable": False})


# -- networks, builds, services (gate_objects) -----------------------------------------------------------


def test_allowed_network_options_pass() -> None:
    options = {"com.docker.network.driver.mtu": "1400", "com.docker.network.bridge.enable_icc": "false"}
    decide("POST", "/networks/create", {"Name": "n", "Driver": "bridge", "Options": options})
    bad = refused(
        "POST", "/networks/create", {"Name": "n", "Options": {**options, "com.docker.network.bridge.name": "x"}}
    )
    assert bad.field == "network.Options.com.docker.network.bridge.name"


def test_build_isolation_other_than_default_is_refused() -> None:
    refusal = refused("POST", "/build?t=x&isolation=hyperv")
    assert (refusal.field, refusal.what) == ("build.isolation", "build isolation 'hyperv'")
    decide("POST", "/build?t=x&isolation=default")


def _service(privileges: dict[str, Any]) -> dict[str, Any]:
    return {"Name": "s", "TaskTemplate": {"ContainerSpec": {"Image": "i", "Privileges": privileges}}}


def test_service_privileges_default_confinement_passes_and_unconfined_needs_the_setting() -> None:
    decide("POST", "/services/create", _service({"NoNewPrivileges": True, "Seccomp": {"Mode": "default"}}))
    decide("POST", "/services/create", _service({"AppArmor": {"Mode": "Default"}}))
    unconfined = _service({"Seccomp": {"Mode": "unconfined"}, "AppArmor": {"Mode": "disabled"}})
    refusal = refused("POST", "/services/create", unconfined)
    assert refusal.field == "service.TaskTemplate.ContainerSpec.Privileges.Seccomp"
    assert "MCP_DOCKER_ALLOW_UNCONFINED=true" in refusal.hint
    decide("POST", "/services/create", unconfined, allow_unconfined=True)
    selinux = _service({"SELinuxContext": {"User": "system_u", "Type": "spc_t"}})
    assert "SELinuxContext" in refused("POST", "/services/create", selinux).field
    decide("POST", "/services/create", selinux, allow_unconfined=True)
