"""The Compose keys a project may use, by allow-list (key names from the Compose specification's schema,
compose-spec/schema/compose-spec.json). A key not listed here is refused with its name; the values of
listed keys are checked by `compose_policy` (container policy, roots, addresses). REASONS says why a
refused key is refused; the reason goes into the error.
"""

from __future__ import annotations

TOP_LEVEL = frozenset({"name", "version", "services", "networks", "volumes"})

SERVICE = frozenset(
    {
        "annotations", "attach", "blkio_config", "build", "cap_add", "cap_drop", "cgroup", "command",
        "container_name", "cpu_count", "cpu_percent", "cpu_period", "cpu_quota", "cpu_rt_period",
        "cpu_rt_runtime", "cpu_shares", "cpus", "cpuset", "depends_on", "deploy", "devices", "dns", "dns_opt",
        "dns_search", "domainname", "entrypoint", "env_file", "environment", "expose", "extends",
        "external_links", "extra_hosts", "gpus", "group_add", "healthcheck", "hostname", "image", "init", "ipc",
        "isolation", "label_file", "labels", "links", "logging", "mac_address", "mem_limit", "mem_reservation",
        "mem_swappiness", "memswap_limit", "network_mode", "networks", "oom_kill_disable", "oom_score_adj", "pid",
        "pids_limit", "platform", "ports", "privileged", "profiles", "pull_policy", "pull_refresh_after",
        "read_only", "restart", "scale", "security_opt", "shm_size", "stdin_open", "stop_grace_period",
        "stop_signal", "storage_opt", "tmpfs", "tty", "ulimits", "user", "userns_mode", "uts", "volumes",
        "working_dir",
    }
)  # fmt: skip

BUILD = frozenset(
    {
        "context", "dockerfile", "dockerfile_inline", "args", "labels", "target", "tags", "platforms", "pull",
        "no_cache", "shm_size", "extra_hosts", "isolation", "ulimits", "network", "cache_from", "cache_to",
        "additional_contexts", "provenance", "sbom",
    }
)  # fmt: skip

VOLUME = frozenset({"name", "driver", "driver_opts", "labels"})
NETWORK = frozenset({"name", "driver", "ipam", "internal", "attachable", "enable_ipv4", "enable_ipv6", "labels"})
VOLUME_DRIVERS = frozenset({"local"})
NETWORK_DRIVERS = frozenset({"bridge", "overlay"})
BUILD_NETWORKS = frozenset({"default", "none"})

REASONS: dict[str, str] = {
    "provider": "a provider service runs a program on the server's machine",
    "secrets": "file secrets are read from anywhere on the host into containers or builds",
    "configs": "file configs are read from anywhere on the host into containers",
    "models": "models are pulled and run outside the container policy",
    "include": "it is resolved by Compose before the check",
    "develop": "watch syncs host files into containers and runs commands",
    "use_api_socket": "it mounts the engine's socket: control of the host",
    "sysctls": "kernel parameters (kernel.core_pattern and the like) reach the host",
    "cgroup_parent": "it places the container in a cgroup of the host's choosing",
    "device_cgroup_rules": "it grants access to host devices",
    "volumes_from": "it mounts the volumes (and binds) of any other container",
    "credential_spec": "it reads credential files from the host",
    "runtime": "another OCI runtime escapes the engine's default confinement",
    "post_start": "lifecycle hooks run commands with their own privileges",
    "pre_stop": "lifecycle hooks run commands with their own privileges",
    "external": "an existing object from outside the project (another project's data, or one that binds the host)",
    "driver_opts": "driver options can reach host interfaces and paths",
    "ssh": "it forwards the server's SSH agent or keys into the build",
    "entitlements": "build entitlements grant host privileges",
    "privileged": "a privileged build step has full access to the host",
}
