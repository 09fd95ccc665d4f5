"""The engine gate as a pure function: every field docker-py can put in a request body, and every
HostConfig field of the Engine API, is on the gate's table (allowed with a checker, or refused), so a
field added later is refused until someone classifies it; and the gate's decisions on crafted requests.

The facts the gate looks up are a fake here (pure logic); tests/integration/test_engine_gate.py attacks
the gate on the real engine."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from docker.api.container import ContainerApiMixin
from docker.types import ContainerConfig, HostConfig

from mcp_docker.config import Settings
from mcp_docker.safety.engine_gate import ENDPOINTS, check_engine_request, parse_request
from mcp_docker.safety.gate_base import GateRefusal
from mcp_docker.safety.gate_container import CONFIG_FIELDS, ENDPOINT_FIELDS, EXEC_FIELDS, host_config_fields
from mcp_docker.safety.gate_mounts import check_volume_driver

HOST_NET_ID = "f" * 64


class FakeFacts:
    def __init__(self, **objects: Any) -> None:
        self.objects = objects

    def container(self, ref: str) -> dict[str, Any] | None:
        return self.objects.get(f"container:{ref}")

    def network(self, ref: str) -> dict[str, Any] | None:
        if ref in ("host", HOST_NET_ID, HOST_NET_ID[:12]):
            return {"Id": HOST_NET_ID, "Name": "host", "Driver": "host"}
        return self.objects.get(f"network:{ref}")

    def volume(self, name: str) -> dict[str, Any] | None:
        return self.objects.get(f"volume:{name}")

    def service(self, ref: str) -> dict[str, Any] | None:
        return self.objects.get(f"service:{ref}")

    def info(self) -> dict[str, Any]:
        return {"CgroupVersion": "1"}


def decide(method: str, url: str, body: Any = None, facts: FakeFacts | None = None, **settings: Any) -> None:
    check_engine_request(parse_request(method, url, body), facts or FakeFacts(), Settings(**settings))


def refused(method: str, url: str, body: Any = None, facts: FakeFacts | None = None, **settings: Any) -> GateRefusal:
    with pytest.raises(GateRefusal) as caught:
        decide(method, url, body, facts, **settings)
    return caught.value


# The HostConfig fields of the Engine API (v1.45 `HostConfig` + `Resources`), written out from the API
# reference so that the test fails if the gate's table misses one.
API_HOST_CONFIG = [
    "CpuShares",
    "Memory",
    "CgroupParent",
    "BlkioWeight",
    "BlkioWeightDevice",
    "BlkioDeviceReadBps",
    "BlkioDeviceWriteBps",
    "BlkioDeviceReadIOps",
    "BlkioDeviceWriteIOps",
    "CpuPeriod",
    "CpuQuota",
    "CpuRealtimePeriod",
    "CpuRealtimeRuntime",
    "CpusetCpus",
    "CpusetMems",
    "Devices",
    "DeviceCgroupRules",
    "DeviceRequests",
    "KernelMemory",
    "KernelMemoryTCP",
    "MemoryReservation",
    "MemorySwap",
    "MemorySwappiness",
    "NanoCpus",
    "OomKillDisable",
    "Init",
    "PidsLimit",
    "Ulimits",
    "CpuCount",
    "CpuPercent",
    "IOMaximumIOps",
    "IOMaximumBandwidth",
    "Binds",
    "ContainerIDFile",
    "LogConfig",
    "NetworkMode",
    "PortBindings",
    "RestartPolicy",
    "AutoRemove",
    "VolumeDriver",
    "VolumesFrom",
    "Mounts",
    "ConsoleSize",
    "Annotations",
    "CapAdd",
    "CapDrop",
    "CgroupnsMode",
    "Dns",
    "DnsOptions",
    "DnsSearch",
    "ExtraHosts",
    "GroupAdd",
    "IpcMode",
    "Cgroup",
    "Links",
    "OomScoreAdj",
    "PidMode",
    "Privileged",
    "PublishAllPorts",
    "ReadonlyRootfs",
    "SecurityOpt",
    "StorageOpt",
    "Tmpfs",
    "UTSMode",
    "UsernsMode",
    "ShmSize",
    "Sysctls",
    "Runtime",
    "Isolation",
    "MaskedPaths",
    "ReadonlyPaths",
]
API_CONFIG = [
    "Hostname",
    "Domainname",
    "User",
    "AttachStdin",
    "AttachStdout",
    "AttachStderr",
    "ExposedPorts",
    "Tty",
    "OpenStdin",
    "StdinOnce",
    "Env",
    "Cmd",
    "Healthcheck",
    "ArgsEscaped",
    "Image",
    "Volumes",
    "WorkingDir",
    "Entrypoint",
    "NetworkDisabled",
    "MacAddress",
    "OnBuild",
    "Labels",
    "StopSignal",
    "StopTimeout",
    "Shell",
]


def _every_host_config_kwarg() -> dict[str, Any]:
    """A value for every keyword docker-py's HostConfig takes, so each key it can produce appears."""
    params = inspect.signature(HostConfig.__init__).parameters
    values: dict[str, Any] = {}
    for name in params:
        if name in ("self", "version"):
            continue
        values[name] = None
    samples: dict[str, Any] = {
        "binds": ["/tmp:/x"],
        "port_bindings": {80: 8080},
        "lxc_conf": None,
        "links": {"a": "b"},
        "privileged": True,
        "dns": ["1.1.1.1"],
        "dns_search": ["x"],
        "volumes_from": ["c"],
        "network_mode": "bridge",
        "restart_policy": {"Name": "always"},
        "cap_add": ["X"],
        "cap_drop": ["X"],
        "devices": ["/dev/null"],
        "extra_hosts": {"a": "1.1.1.1"},
        "read_only": True,
        "pid_mode": "host",
        "ipc_mode": "host",
        "security_opt": ["x"],
        "ulimits": [],
        "log_config": {"Type": "json-file"},
        "mem_limit": 1,
        "memswap_limit": 1,
        "mem_reservation": 1,
        "kernel_memory": 1,
        "mem_swappiness": 1,
        "cgroup_parent": "x",
        "group_add": ["1"],
        "cpu_quota": 1,
        "cpu_period": 1,
        "blkio_weight": 10,
        "blkio_weight_device": [{"Path": "/dev/sda", "Weight": 10}],
        "device_read_bps": [{"Path": "/dev/sda", "Rate": 1}],
        "device_write_bps": [{"Path": "/dev/sda", "Rate": 1}],
        "device_read_iops": [{"Path": "/dev/sda", "Rate": 1}],
        "device_write_iops": [{"Path": "/dev/sda", "Rate": 1}],
        "oom_kill_disable": True,
        "shm_size": 1,
        "sysctls": {"a": "b"},
        "tmpfs": ["/t"],
        "oom_score_adj": 1,
        "dns_opt": ["x"],
        "cpu_shares": 1,
        "cpuset_cpus": "0",
        "userns_mode": "host",
        "uts_mode": "host",
        "pids_limit": 1,
        "isolation": "default",
        "auto_remove": True,
        "storage_opt": {"size": "1G"},
        "init": True,
        "init_path": "/x",
        "volume_driver": "x",
        "cpu_count": 1,
        "cpu_percent": 1,
        "nano_cpus": 1,
        "cpuset_mems": "0",
        "runtime": "x",
        "mounts": [{"Type": "tmpfs", "Target": "/t"}],
        "cpu_rt_period": 1,
        "cpu_rt_runtime": 1,
        "device_cgroup_rules": ["a"],
        "device_requests": [{"Driver": "x"}],
        "cgroupns": "host",
        "publish_all_ports": True,
    }
    for key, value in samples.items():
        if key in values:
            values[key] = value
    values.pop("init_path", None)  # docker-py refuses it for API >= 1.29
    values.pop("lxc_conf", None)
    return values


def test_every_host_config_field_docker_py_can_send_is_classified() -> None:
    produced = HostConfig(version="1.45", **_every_host_config_kwarg())
    table = {name.lower() for name in host_config_fields(Settings(), FakeFacts())}
    # The engine matches field names case-insensitively (docker-py sends CPURealtimePeriod), so does the gate.
    assert sorted(k for k in produced if k.lower() not in table) == []
    assert len(produced) > 50  # the sample really produced (nearly) every key
    refusal = refused("POST", "/containers/create", {"Image": "i", "HostConfig": {"CPURealtimeRuntime": 1}})
    assert "real-time" in str(refusal)


def test_every_api_host_config_and_config_field_is_classified() -> None:
    table = host_config_fields(Settings(), FakeFacts())
    assert sorted(set(API_HOST_CONFIG) - set(table)) == []
    assert sorted(set(API_CONFIG) - set(CONFIG_FIELDS)) == []


def test_every_container_config_field_docker_py_can_send_is_classified() -> None:
    params = inspect.signature(ContainerConfig.__init__).parameters
    kwargs = {name: None for name in params if name not in ("self", "version")}
    kwargs.update(
        image="i",
        command=["c"],
        hostname="h",
        user="u",
        detach=False,
        stdin_open=True,
        tty=True,
        ports=[80],
        environment={"A": "1"},
        volumes=["/v"],
        network_disabled=True,
        entrypoint=["e"],
        working_dir="/w",
        domainname="d",
        labels={"a": "b"},
        stop_signal="TERM",
        healthcheck={"Test": ["NONE"]},
        stop_timeout=1,
        runtime="runc",
        mac_address=None,
    )
    produced = ContainerConfig("1.45", **{k: v for k, v in kwargs.items() if k != "mac_address"})
    allowed = {*CONFIG_FIELDS, "HostConfig", "NetworkingConfig"}
    assert sorted(set(produced) - allowed - {"Runtime"}) == []
    # docker-py puts Runtime at the top level of the create body: it is not on the list, so refused.
    refusal = refused("POST", "/v1.45/containers/create", dict(produced))
    assert refusal.field == "create.Runtime"
    assert "create_container" in inspect.getsource(ContainerApiMixin)


def test_exec_and_endpoint_fields_cover_docker_py() -> None:
    from docker.api.exec_api import ExecApiMixin

    source = inspect.getsource(ExecApiMixin.exec_create)
    for key in ("Container", "User", "Privileged", "Tty", "AttachStdin", "Cmd", "Env", "WorkingDir"):
        assert f"'{key}'" in source
        assert key in EXEC_FIELDS or key == "Privileged"
    assert {"Aliases", "Links", "IPAMConfig", "DriverOpts", "MacAddress"} <= set(ENDPOINT_FIELDS)


@pytest.mark.parametrize("section", ["", "HostConfig", "NetworkingConfig.EndpointsConfig.net"])
def test_an_unknown_field_is_refused_by_name(section: str) -> None:
    body: dict[str, Any] = {"Image": "i", "FutureEscape": {"Host": True}}
    if section == "HostConfig":
        body = {"Image": "i", "HostConfig": {"FutureEscape": True}}
    elif section:
        body = {"Image": "i", "NetworkingConfig": {"EndpointsConfig": {"net": {"FutureEscape": "x"}}}}
    refusal = refused("POST", "/containers/create", body)
    assert refusal.field.endswith("FutureEscape")
    assert "allow-list" in str(refusal)


def test_an_unknown_field_left_at_its_zero_value_passes() -> None:
    decide("POST", "/containers/create", {"Image": "i", "FutureField": None, "HostConfig": {"Other": False}})


# (id, HostConfig, words of the refusal, settings that allow it)
HOST_CONFIG_ATTACKS: list[tuple[str, dict[str, Any], str, dict[str, Any] | None]] = [
    ("privileged", {"Privileged": True}, "MCP_DOCKER_ALLOW_PRIVILEGED", {"allow_privileged": True}),
    ("cap-sys-admin", {"CapAdd": ["cap_sys_admin"]}, "SYS_ADMIN", {"allowed_capabilities": ["SYS_ADMIN"]}),
    ("cap-all", {"CapAdd": ["ALL"]}, "ALLOWED_CAPABILITIES", {"allowed_capabilities": ["ALL"]}),
    ("capabilities-set", {"Capabilities": ["CAP_SYS_ADMIN"]}, "Capabilities", None),
    ("net-host", {"NetworkMode": "host"}, "HOST_NAMESPACES", {"allow_host_namespaces": True}),
    ("net-host-id", {"NetworkMode": HOST_NET_ID}, "host driver", {"allow_host_namespaces": True}),
    ("net-host-id-prefix", {"NetworkMode": HOST_NET_ID[:12]}, "host driver", {"allow_host_namespaces": True}),
    ("net-container", {"NetworkMode": "container:x"}, "HOST_NAMESPACES", {"allow_host_namespaces": True}),
    ("pid-host", {"PidMode": "host"}, "pid mode", {"allow_host_namespaces": True}),
    ("pid-container", {"PidMode": "container:x"}, "pid mode", {"allow_host_namespaces": True}),
    ("ipc-host", {"IpcMode": "host"}, "ipc mode", {"allow_host_namespaces": True}),
    ("uts-host", {"UTSMode": "host"}, "uts mode", {"allow_host_namespaces": True}),
    ("userns-host", {"UsernsMode": "host"}, "userns mode", {"allow_host_namespaces": True}),
    ("cgroupns-host", {"CgroupnsMode": "host"}, "cgroupns", {"allow_host_namespaces": True}),
    ("cgroup", {"Cgroup": "container:x"}, "cgroup", {"allow_host_namespaces": True}),
    ("cgroup-parent", {"CgroupParent": "/"}, "CgroupParent", {"allow_host_namespaces": True}),
    ("privileged-lower-case", {"privileged": True}, "MCP_DOCKER_ALLOW_PRIVILEGED", {"allow_privileged": True}),
    ("binds-upper-case", {"BINDS": ["/etc:/x"]}, "ALLOWED_BIND_ROOTS", {"allowed_bind_roots": ["/etc"]}),
    ("devices", {"Devices": [{"PathOnHost": "/dev/sda"}]}, "ALLOW_DEVICES", {"allow_devices": True}),
    ("device-rules", {"DeviceCgroupRules": ["a *:* rwm"]}, "ALLOW_DEVICES", {"allow_devices": True}),
    ("device-requests", {"DeviceRequests": [{"Driver": "nvidia"}]}, "ALLOW_DEVICES", {"allow_devices": True}),
    ("seccomp", {"SecurityOpt": ["seccomp=unconfined"]}, "UNCONFINED", {"allow_unconfined": True}),
    ("apparmor", {"SecurityOpt": ["apparmor:unconfined"]}, "UNCONFINED", {"allow_unconfined": True}),
    ("sysctls", {"Sysctls": {"kernel.core_pattern": "|/x"}}, "sysctls", {"allow_unconfined": True}),
    ("masked-paths", {"MaskedPaths": []}, None, None),  # zero: the engine's defaults; passes
    ("masked-paths-cut", {"MaskedPaths": ["/proc/kcore"]}, "protected", {"allow_unconfined": True}),
    ("readonly-paths-cut", {"ReadonlyPaths": ["/x"]}, "protected", {"allow_unconfined": True}),
    ("volumes-from", {"VolumesFrom": ["other"]}, "VolumesFrom", None),
    ("bind-etc", {"Binds": ["/etc:/x"]}, "ALLOWED_BIND_ROOTS", {"allowed_bind_roots": ["/etc"]}),
    ("bind-dotdot", {"Binds": ["/tmp/../etc:/x"]}, "resolves to /etc", None),
    ("bind-socket", {"Binds": ["/var/run/docker.sock:/s"]}, "Docker socket", None),
    ("bind-root", {"Binds": ["/:/h"]}, "Docker socket", None),
    ("bind-relative", {"Binds": ["./x:/x"]}, "neither", None),
    ("bind-rshared", {"Binds": ["vol:/x:rshared"]}, "propagation", None),
    ("mount-bind", {"Mounts": [{"Type": "bind", "Source": "/etc", "Target": "/x"}]}, "ALLOWED_BIND_ROOTS", None),
    ("mount-relative", {"Mounts": [{"Type": "bind", "Source": "etc", "Target": "/x"}]}, "absolute", None),
    ("mount-npipe", {"Mounts": [{"Type": "npipe", "Source": "x", "Target": "/x"}]}, "mount type", None),
    ("port-any", {"PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "80"}]}}, "every interface", {}),
    ("port-all", {"PortBindings": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "80"}]}}, "PUBLISH", {}),
    ("port-v6-all", {"PortBindings": {"80/tcp": [{"HostIp": "::", "HostPort": "80"}]}}, "PUBLISH", {}),
    ("publish-all", {"PublishAllPorts": True}, "PUBLISH_ADDRESSES", {}),
    ("runtime", {"Runtime": "runsc-debug"}, "runtime", None),
    ("oom-kill-disable", {"OomKillDisable": True}, "OomKillDisable", None),
    ("oom-score", {"OomScoreAdj": -1000}, "negative", None),
    ("realtime", {"CpuRealtimeRuntime": 950000}, "real-time", None),
    ("log-driver", {"LogConfig": {"Type": "syslog", "Config": {"syslog-address": "tcp://x"}}}, "log driver", None),
    ("annotations", {"Annotations": {"io.kubernetes.cri-o.Devices": "/dev/sda"}}, "annotations", None),
    ("volume-driver", {"VolumeDriver": "evil-plugin"}, "volume driver", None),
    ("storage-opt", {"StorageOpt": {"dm.basesize": "1"}}, "storage options", None),
    ("container-id-file", {"ContainerIDFile": "/etc/passwd"}, "id file", None),
    ("init-path", {"InitPath": "/tmp/evil"}, "InitPath", None),
]


@pytest.mark.parametrize(
    ("case", "host", "words", "allow"), HOST_CONFIG_ATTACKS, ids=[c[0] for c in HOST_CONFIG_ATTACKS]
)
def test_host_config_attacks(case: str, host: dict[str, Any], words: str | None, allow: dict[str, Any] | None) -> None:
    body = {"Image": "i", "HostConfig": host}
    if words is None:
        decide("POST", "/v1.41/containers/create", body)
        return
    refusal = refused("POST", "/v1.41/containers/create", body)
    assert words in str(refusal), str(refusal)
    assert refusal.field.startswith("create.HostConfig.")
    assert "Nothing was sent to the engine" in str(refusal)
    if allow:
        settings = (
            {**allow, "allowed_publish_addresses": ["0.0.0.0", "::"]} if case.startswith(("port", "publish")) else allow
        )
        decide("POST", "/v1.41/containers/create", body, **settings)


def test_loopback_publish_and_harmless_fields_pass() -> None:
    decide(
        "POST",
        "/v1.45/containers/create?name=x",
        {
            "Image": "i",
            "Cmd": ["sleep", "1"],
            "Env": ["A=1"],
            "ExposedPorts": {"80/tcp": {}},
            "HostConfig": {
                "PortBindings": {
                    "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
                    "81/tcp": [{"HostIp": "::1"}],
                },
                "Memory": 1 << 20,
                "OomKillDisable": True,
                "CapAdd": ["CHOWN"],
                "CapDrop": ["ALL"],
                "SecurityOpt": ["no-new-privileges:true"],
                "Mounts": [{"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 1 << 20}}],
                "Binds": ["data:/data:ro"],
                "NetworkMode": "bridge",
                "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3},
                "LogConfig": {"Type": "json-file", "Config": {"max-size": "1m"}},
                "PidsLimit": -1,
                "MaskedPaths": [
                    "/proc/kcore",
                    "/proc/keys",
                    "/proc/timer_list",
                    "/proc/sched_debug",
                    "/sys/firmware",
                    "/x",
                ],
            },
            "NetworkingConfig": {"EndpointsConfig": {"bridge": {"Aliases": ["a"]}}},
        },
    )


def test_networking_config_with_the_host_network_by_id_is_refused() -> None:
    body = {"Image": "i", "NetworkingConfig": {"EndpointsConfig": {HOST_NET_ID[:12]: {}}}}
    assert "host driver" in str(refused("POST", "/containers/create", body))
    body = {"Image": "i", "NetworkingConfig": {"EndpointsConfig": {"mine": {"NetworkID": HOST_NET_ID}}}}
    assert refused("POST", "/containers/create", body).field.endswith("NetworkID")


VOLUME_OPTION_ATTACKS = [
    ("overlay-etc", {"type": "overlay", "device": "overlay", "o": "lowerdir=/etc,upperdir=/tmp/u,workdir=/tmp/w"}),
    ("proc", {"type": "proc", "device": "proc"}),
    ("sysfs", {"type": "sysfs", "device": "sysfs"}),
    ("cgroup", {"type": "cgroup", "device": "cgroup", "o": "devices"}),
    ("relative-device", {"type": "none", "o": "bind", "device": "../../etc"}),
    ("bind-etc", {"type": "none", "o": "bind", "device": "/etc"}),
    ("bind-socket", {"type": "none", "o": "bind", "device": "/var/run"}),
    ("nfs", {"type": "nfs", "o": "addr=10.0.0.1", "device": ":/export"}),
    ("block-device", {"type": "ext4", "device": "/dev/sda1"}),
    ("tmpfs-with-exec-trick", {"type": "tmpfs", "device": "tmpfs", "o": "size=1m,lowerdir=/etc"}),
    ("tmpfs-device-path", {"type": "tmpfs", "device": "/etc"}),
    ("unknown-key", {"type": "tmpfs", "device": "tmpfs", "mountpoint": "/etc"}),
    ("upper-case-type", {"TYPE": "Overlay", "o": "lowerdir=/etc"}),
]


@pytest.mark.parametrize(("case", "opts"), VOLUME_OPTION_ATTACKS, ids=[c[0] for c in VOLUME_OPTION_ATTACKS])
def test_volume_driver_option_attacks(case: str, opts: dict[str, str]) -> None:
    refusal = refused("POST", "/volumes/create", {"Name": "v", "Driver": "local", "DriverOpts": opts})
    assert refusal.field.startswith("volume.DriverOpts")
    mount = {"Type": "volume", "Target": "/x", "VolumeOptions": {"DriverConfig": {"Name": "local", "Options": opts}}}
    assert (
        "DriverConfig" in refused("POST", "/containers/create", {"Image": "i", "HostConfig": {"Mounts": [mount]}}).field
    )


def test_harmless_volume_options_pass(tmp_path: Any) -> None:
    decide(
        "POST",
        "/volumes/create",
        {"Name": "v", "DriverOpts": {"type": "tmpfs", "device": "tmpfs", "o": "size=1m,uid=1000,mode=0700"}},
    )
    decide("POST", "/volumes/create", {"Name": "v", "Driver": "local", "DriverOpts": {}})
    bind = {"type": "none", "o": "bind", "device": str(tmp_path)}
    decide("POST", "/volumes/create", {"Name": "v", "DriverOpts": bind}, allowed_bind_roots=[str(tmp_path)])
    assert "plugin" in str(refused("POST", "/volumes/create", {"Name": "v", "Driver": "rexray"}))
    with pytest.raises(GateRefusal):
        check_volume_driver("local", {"type": "none", "o": "bind", "device": str(tmp_path)}, "x", Settings())


def test_a_named_volume_that_is_a_bind_in_disguise_is_refused() -> None:
    facts = FakeFacts(
        **{"volume:sneaky": {"Driver": "local", "Options": {"type": "none", "o": "bind", "device": "/etc"}}}
    )
    body = {"Image": "i", "HostConfig": {"Binds": ["sneaky:/x"]}}
    assert "/etc" in str(refused("POST", "/containers/create", body, facts))
    mount = {"Type": "volume", "Source": "sneaky", "Target": "/x"}
    assert "/etc" in str(
        refused("POST", "/containers/create", {"Image": "i", "HostConfig": {"Mounts": [mount]}}, facts)
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/plugins/pull"),
        ("POST", "/plugins/x/enable"),
        ("POST", "/nodes/x/update"),
        ("POST", "/secrets/create"),
        ("POST", "/configs/create"),
        ("POST", "/commit"),
        ("POST", "/swarm/init"),
        ("GET", "/containers/x/attach/ws"),
        ("POST", "/containers/x/../../plugins/pull"),
        ("PUT", "/containers/x/start"),
        ("POST", "/v1.41/system/unknown"),
    ],
)
def test_endpoints_not_on_the_table_are_refused(method: str, path: str) -> None:
    refusal = refused(method, path)
    assert refusal.field in ("endpoint", "path")


def test_every_read_endpoint_is_get_or_head() -> None:
    for endpoint in ENDPOINTS:
        if endpoint.why == "read only":
            assert endpoint.methods <= {"GET", "HEAD"}


def test_build_query() -> None:
    decide("POST", "/v1.41/build?t=x&networkmode=default&buildargs=%7B%7D&rm=1")
    assert refused("POST", "/build?remote=https%3A%2F%2Fexample.com%2Fx.git").field == "build.remote"
    assert "HOST_NAMESPACES" in str(refused("POST", "/build?networkmode=host"))
    assert refused("POST", "/build?networkmode=container%3Ax").field == "build.networkmode"
    assert refused("POST", "/build?futureparam=1").field == "build.futureparam"
    decide("POST", "/build?networkmode=host", allow_host_namespaces=True)
    assert refused("POST", "/images/create?fromSrc=http%3A%2F%2F169.254.169.254%2F").field == "images/create.fromSrc"
    decide("POST", "/images/create?fromImage=busybox&tag=latest")


def test_exec_create_and_current_configuration() -> None:
    good = {"Id": "c1", "Name": "/c", "HostConfig": {"NetworkMode": "bridge", "CgroupnsMode": "host", **_defaults()}}
    bad = {
        "Id": "c2",
        "Name": "/evil",
        "HostConfig": {"CapAdd": ["SYS_ADMIN"], "Binds": ["/var/run/docker.sock:/s"], **_defaults()},
    }
    facts = FakeFacts(**{"container:c1": good, "container:c2": bad})
    decide("POST", "/containers/c1/exec", {"Cmd": ["id"], "AttachStdout": True}, facts)
    decide("POST", "/containers/c1/start", None, facts)
    assert "MCP_DOCKER_ALLOW_PRIVILEGED" in str(
        refused("POST", "/containers/c1/exec", {"Cmd": ["id"], "Privileged": True}, facts)
    )
    for path in ("/containers/c2/start", "/containers/c2/restart", "/containers/c2/exec", "/containers/c2/attach"):
        refusal = refused("POST", path, {"Cmd": ["id"]} if path.endswith("exec") else None, facts)
        assert "evil" in str(refusal) and "SYS_ADMIN" in str(refusal)
    assert "SYS_ADMIN" in str(refused("PUT", "/containers/c2/archive?path=/", None, facts))
    unmasked = {"Id": "c3", "Name": "/u", "HostConfig": {"MaskedPaths": None, "ReadonlyPaths": None}}
    assert "protected" in str(refused("POST", "/containers/c3/start", None, FakeFacts(**{"container:c3": unmasked})))


def _defaults() -> dict[str, Any]:
    return {
        "MaskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug", "/sys/firmware"],
        "ReadonlyPaths": ["/proc/bus", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
        "LogConfig": {"Type": "json-file", "Config": {}},
        "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
        "IpcMode": "private",
        "Runtime": "runc",
        "ConsoleSize": [0, 0],
        "ShmSize": 67108864,
    }


def test_container_update_is_resources_only() -> None:
    decide("POST", "/containers/c/update", {"Memory": 1 << 20, "RestartPolicy": {"Name": "always"}})
    assert "ALLOW_DEVICES" in str(refused("POST", "/containers/c/update", {"Devices": [{"PathOnHost": "/dev/sda"}]}))
    assert refused("POST", "/containers/c/update", {"CgroupParent": "/"}).field == "update.CgroupParent"
    assert refused("POST", "/containers/c/update", {"Privileged": True}).field == "update.Privileged"


def _service(mounts: list[Any] | None = None, networks: list[Any] | None = None, **template: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"Image": "i", "Mounts": mounts or []}
    return {"Name": "s", "TaskTemplate": {"ContainerSpec": spec, "Networks": networks or [], **template}}


def test_service_specs() -> None:
    decide("POST", "/services/create", _service(networks=[{"Target": "overlay1"}]))
    assert "host driver" in str(refused("POST", "/services/create", _service(networks=[{"Target": HOST_NET_ID}])))
    assert "host" in str(refused("POST", "/services/create", {**_service(), "Networks": [{"Target": "host"}]}))
    bind = [{"Type": "bind", "Source": "/", "Target": "/h"}]
    assert "Docker socket" in str(refused("POST", "/services/create", _service(mounts=bind)))
    caps = _service()
    caps["TaskTemplate"]["ContainerSpec"]["CapabilityAdd"] = ["CAP_SYS_ADMIN"]
    assert "SYS_ADMIN" in str(refused("POST", "/services/create", caps))
    priv = _service()
    priv["TaskTemplate"]["ContainerSpec"]["Privileges"] = {"Seccomp": {"Mode": "unconfined"}}
    assert "UNCONFINED" in str(refused("POST", "/services/create", priv))
    assert "plugin" in str(
        refused("POST", "/services/create", {"Name": "p", "TaskTemplate": {"PluginSpec": {"Name": "x"}}})
    )
    ports = {**_service(), "EndpointSpec": {"Ports": [{"TargetPort": 80, "PublishedPort": 8080}]}}
    assert "PUBLISH_ADDRESSES" in str(refused("POST", "/services/create", ports))
    decide("POST", "/services/create", ports, allowed_publish_addresses=["0.0.0.0"])


def test_service_update_checks_the_resulting_spec_and_rollbacks() -> None:
    made_outside = {"ID": "s1", "Spec": _service(mounts=[{"Type": "bind", "Source": "/etc", "Target": "/e"}])}
    facts = FakeFacts(**{"service:s1": made_outside})
    # Only the mode changes (a scale): the bind mount the service already has is in the resulting spec.
    assert "/etc" in str(
        refused("POST", "/services/s1/update?version=3", {"Mode": {"Replicated": {"Replicas": 2}}}, facts)
    )
    clean = {"ID": "s2", "Spec": _service(), "PreviousSpec": _service(networks=[{"Target": "host"}])}
    facts = FakeFacts(**{"service:s2": clean})
    decide("POST", "/services/s2/update?version=3", _service(), facts)
    assert "rollback" in str(refused("POST", "/services/s2/update?version=3&rollback=previous", _service(), facts))


def test_network_create_and_connect() -> None:
    decide("POST", "/networks/create", {"Name": "n", "Driver": "bridge", "Internal": True, "Labels": {"a": "b"}})
    assert "network driver" in str(refused("POST", "/networks/create", {"Name": "n", "Driver": "macvlan"}))
    opts = {"com.docker.network.bridge.host_binding_ipv4": "0.0.0.0"}
    assert "host_binding" in str(refused("POST", "/networks/create", {"Name": "n", "Options": opts}))
    assert "host driver" in str(refused("POST", f"/networks/{HOST_NET_ID[:12]}/connect", {"Container": "c"}))


def test_parse_request_strips_version_and_keeps_query() -> None:
    request = parse_request("post", "http+docker://localhost/v1.45/containers/create?name=web&name=x", {"a": 1})
    assert (request.method, request.path, request.param("name"), request.body) == (
        "POST",
        "/containers/create",
        "x",
        {"a": 1},
    )
    assert parse_request("GET", "/images/library/busybox:1/json").path == "/images/library/busybox:1/json"
    decide("GET", "/v1.41/images/localhost:5000/a/b:1/json")
    decide("DELETE", "/images/localhost:5000/a/b:1")


def test_old_api_versions_and_start_bodies_are_refused() -> None:
    # Before API 1.24 `start` took a new HostConfig in its body: no version before 1.24, no body on start.
    assert refused("POST", "/v1.23/containers/c/start").field == "version"
    assert refused("POST", "/v1.12/containers/create", {"Image": "i"}).field == "version"
    facts = FakeFacts(**{"container:c": {"Name": "/c", "HostConfig": _defaults()}})
    body = {"Privileged": True, "Binds": ["/:/h"]}
    assert refused("POST", "/v1.45/containers/c/start", body, facts).field == "start.body"
    assert refused("POST", "/containers/c/restart", body, facts).field == "restart.body"
    decide("POST", "/v1.24/containers/c/start", None, facts)


def test_bodies_are_json_whatever_their_content_type_except_raw_endpoints() -> None:
    from mcp_docker.docker.gate_hook import decode_body
    from mcp_docker.safety.engine_gate import raw_body

    assert decode_body('{"Image": "i"}', "http+docker://localhost/v1.41/services/create") == {"Image": "i"}
    assert decode_body(b"\x1f\x8b tar", "http+docker://localhost/v1.41/build?t=x") is None
    with pytest.raises(GateRefusal):
        decode_body(b"not json", "http+docker://localhost/v1.41/services/create")
    with pytest.raises(GateRefusal):
        decode_body(iter([b"{}"]), "http+docker://localhost/v1.41/containers/create")
    assert raw_body("/v1.41/containers/abc/archive") and not raw_body("/v1.41/containers/create")
