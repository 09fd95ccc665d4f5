"""Pure mappings and rules behind the container, image and volume tools: signal spellings, the inspect and
stats documents mapped, mount specs that are not objects, image references with a digest, and the volume
prune done volume by volume on engines before API 1.42 (a fake API records what it was asked)."""

from __future__ import annotations

from typing import Any

import docker.errors
import pytest
import requests
from pydantic import ValidationError as PydanticError

from mcp_docker.tools.container_models import ContainerStats, MountSpec, container_details
from mcp_docker.tools.container_ops_models import signal_name
from mcp_docker.tools.image_tools import _reference
from mcp_docker.tools.volume_tools import prune_candidates, prune_volumes
from mcp_docker.utils.errors import ValidationError

ANON = ["1" * 64, "2" * 64, "3" * 64]


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("1", "1"),
        (64, "64"),
        (" 9 ", "9"),
        ("sighup", "SIGHUP"),
        ("RTMIN+3", "37"),
        ("RTMAX-4", "60"),
        ("IOT", "SIGIOT"),
    ],
)
def test_signals_in_every_spelling(given: str | int, sent: str) -> None:
    assert signal_name(given) == sent


@pytest.mark.parametrize("given", ["0", "65", 100])
def test_signal_numbers_out_of_range_are_refused_with_the_range(given: str | int) -> None:
    with pytest.raises(ValidationError, match="numbers go from 1 to 64"):
        signal_name(given)


@pytest.mark.parametrize("given", ["RTMAX+1", "RTMIN-34", "RTMIN+31", "HUP+1", "BOGUS", "KILL-", "RTMIN+x"])
def test_signals_past_the_table_are_refused_with_examples(given: str) -> None:
    with pytest.raises(ValidationError, match="use a name like SIGHUP, HUP, TERM, KILL, or a number 1-64"):
        signal_name(given)


def _inspected() -> dict[str, Any]:
    return {
        "Id": "f" * 64,
        "Name": "/web",
        "Config": {"Image": "nginx", "Env": ["PASSWORD=hunter2", "MODE=prod"]},
        "HostConfig": {"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 5}},
        "State": {"Status": "running", "Running": True},
    }


def test_inspect_shows_the_retry_count_and_the_raw_document_unredacted_only_when_asked() -> None:
    details = container_details(_inspected(), redact=False, full=True)
    assert details.restart_policy == "on-failure:5"
    assert details.raw is not None and details.raw["Config"]["Env"] == ["PASSWORD=hunter2", "MODE=prod"]
    assert "PASSWORD=hunter2" in details.env
    redacted = container_details(_inspected(), redact=True, full=True)
    assert redacted.raw is not None and "hunter2" not in str(redacted.raw) and "hunter2" not in str(redacted.env)
    assert container_details(_inspected()).raw is None  # only full=true carries the document


def test_stats_sum_block_io_by_direction_whatever_the_case() -> None:
    raw = {
        "name": "/db",
        "cpu_stats": {"cpu_usage": {"total_usage": 300}, "system_cpu_usage": 2000, "online_cpus": 2},
        "precpu_stats": {"cpu_usage": {"total_usage": 100}, "system_cpu_usage": 1000},
        "memory_stats": {"usage": 500, "limit": 1000, "stats": {"inactive_file": 100}},
        "pids_stats": {"current": 4},
        "networks": {"eth0": {"rx_bytes": 10, "tx_bytes": 20}, "eth1": {"rx_bytes": 1}},
        "blkio_stats": {
            "io_service_bytes_recursive": [
                {"op": "Read", "value": 4096},
                {"op": "read", "value": 4096},
                {"op": "Write", "value": 512},
                {"op": "Sync", "value": 99999},  # neither direction
                {"op": "Total", "value": 99999},
            ]
        },
    }
    stats = ContainerStats.from_engine("db", raw)
    assert (stats.block_read, stats.block_write) == (8192, 512)
    assert (stats.network_rx, stats.network_tx) == (11, 20)
    assert stats.cpu_percent == 40.0 and stats.memory_usage == 400 and stats.memory_percent == 40.0
    assert stats.running and stats.pids == 4 and stats.name == "db"


@pytest.mark.parametrize("given", ["volume:data:/data", ["type", "volume"], 7])
def test_a_mount_that_is_not_an_object_is_refused(given: Any) -> None:
    with pytest.raises(PydanticError, match=r"valid dictionary|instance of MountSpec"):
        MountSpec.model_validate(given)


def test_a_digest_reference_takes_no_tag() -> None:
    digest = "sha256:" + "d" * 64
    assert _reference(f"nginx@{digest}", None) == ("nginx", digest)
    with pytest.raises(ValidationError, match="has a digest; pass no tag with it"):
        _reference(f"nginx@{digest}", "1.27")
    with pytest.raises(ValidationError, match=r"already has the tag '1\.27'; tag='1\.26' contradicts it"):
        _reference("nginx:1.27", "1.26")
    assert _reference("registry.example.com:5000/team/app", None) == ("registry.example.com:5000/team/app", "latest")


class OldVolumeAPI:
    """An engine before API 1.42: its prune would take named volumes too, so it must not be called."""

    api_version = "1.41"

    def __init__(self, volumes: list[dict[str, Any]], refuse: dict[str, int] | None = None) -> None:
        self.rows = volumes
        self.refuse = refuse or {}
        self.removed: list[str] = []
        self.pruned: list[Any] = []

    def volumes(self, filters: dict[str, str]) -> dict[str, Any]:
        assert filters == {"dangling": "true"}
        return {"Volumes": self.rows}

    def prune_volumes(self, filters: Any = None) -> dict[str, Any]:
        self.pruned.append(filters)
        return {"VolumesDeleted": [r["Name"] for r in self.rows], "SpaceReclaimed": 0}

    def remove_volume(self, name: str) -> None:
        status = self.refuse.get(name)
        if status is not None:
            response = requests.Response()
            response.status_code = status
            raise docker.errors.APIError(f"refused {name}", response=response)
        self.removed.append(name)


def _rows() -> list[dict[str, Any]]:
    return [
        {"Name": ANON[0], "Driver": "local", "Labels": {"tier": "cache"}},
        {"Name": ANON[1], "Driver": "local", "Labels": {"tier": "cache", "keep": "yes"}},
        {"Name": ANON[2], "Driver": "local", "Labels": None},
        {"Name": "named", "Driver": "local", "Labels": {"tier": "cache"}},
        {"Name": "4" * 64, "Driver": "nfs-plugin", "Labels": {"tier": "cache"}},
    ]


def test_old_engines_prune_anonymous_volumes_one_by_one_with_label_filters() -> None:
    api = OldVolumeAPI(_rows())
    result = prune_volumes(api, {"label": "tier=cache", "label!": ["keep"]}, named_too=False)
    assert api.pruned == []  # the engine's own prune would have removed 'named' too
    assert api.removed == [ANON[0]] and result == {"VolumesDeleted": [ANON[0]], "SpaceReclaimed": None}


def test_old_engines_skip_volumes_gone_or_taken_meanwhile_and_raise_other_errors() -> None:
    api = OldVolumeAPI(_rows(), refuse={ANON[0]: 404, ANON[1]: 409})
    assert prune_volumes(api, {}, named_too=False)["VolumesDeleted"] == [ANON[2]]
    broken = OldVolumeAPI(_rows(), refuse={ANON[0]: 500})
    with pytest.raises(docker.errors.APIError, match="500 Server Error"):
        prune_volumes(broken, {}, named_too=False)
    assert broken.removed == []


@pytest.mark.parametrize("flt", [{"dangling": "true"}, {"until": "1h", "label": "x"}])
def test_old_engines_refuse_filters_they_cannot_apply_by_hand(flt: dict[str, str]) -> None:
    api = OldVolumeAPI(_rows())
    with pytest.raises(ValidationError, match=r"Unknown prune filter\(s\) \[.*\]: use 'label' or 'label!'"):
        prune_volumes(api, flt, named_too=False)
    assert api.removed == [] and api.pruned == []


def test_all_as_a_filter_is_refused_and_named_too_uses_the_engine_prune() -> None:
    api = OldVolumeAPI(_rows())
    with pytest.raises(ValidationError, match="Pass all=true as the tool's argument, not as a filter"):
        prune_volumes(api, {"all": "true"}, named_too=True)
    prune_volumes(api, {"label": "tier"}, named_too=True)
    assert api.pruned == [{"label": "tier"}]  # before 1.42 the engine's prune takes named ones already
    api.api_version = "1.45"
    prune_volumes(api, {}, named_too=True)
    prune_volumes(api, {}, named_too=False)
    assert api.pruned[1:] == [{"all": "true"}, None] and api.removed == []


def test_prune_candidates_with_named_volumes() -> None:
    api = OldVolumeAPI(_rows())
    assert prune_candidates(api, {"label": ["tier=cache"], "label!": "keep"}, named_too=True) == [ANON[0], "named"]
    assert prune_candidates(api, {}, named_too=False) == ANON
