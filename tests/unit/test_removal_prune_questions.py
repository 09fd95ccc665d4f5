"""The questions before a removal, a tag move or a prune, worked out from engine documents (a fake engine API):
what each says is lost, kept or refused."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import docker.errors
import pytest

from mcp_docker.tools import prune_questions, removal_questions
from mcp_docker.tools.prune_questions import image_prune_question, system_prune_question
from mcp_docker.tools.removal_questions import (
    image_removal_question,
    network_removal_question,
    service_removal_question,
    tag_move_question,
    volume_removal_question,
    when,
)

IMG_A = "sha256:" + "a" * 64
IMG_B = "sha256:" + "b" * 64


class FakeAPI:
    """Answers the few read calls the questions make, from fixed documents; records the calls."""

    def __init__(self, **docs: Any) -> None:
        self.docs = docs
        self.calls: list[tuple[str, Any]] = []

    def inspect_image(self, ref: str) -> dict[str, Any]:
        self.calls.append(("inspect_image", ref))
        images = self.docs.get("images_by_ref", {})
        if ref not in images:
            raise docker.errors.NotFound(f"No such image: {ref}")
        return images[ref]

    def containers(self, all: bool = False, filters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        self.calls.append(("containers", filters))
        return self.docs.get("containers", [])

    def inspect_network(self, ref: str) -> dict[str, Any]:
        return self.docs["networks_by_id"][ref]

    def networks(self) -> list[dict[str, Any]]:
        return self.docs.get("networks", [])

    def inspect_volume(self, ref: str) -> dict[str, Any]:
        return self.docs["volume"]

    def volumes(self) -> dict[str, Any]:
        return {"Volumes": self.docs.get("volumes", [])}

    def images(self) -> list[dict[str, Any]]:
        return self.docs.get("image_rows", [])

    def inspect_service(self, ref: str) -> dict[str, Any]:
        return self.docs["service"]

    def tasks(self, filters: dict[str, Any]) -> list[dict[str, Any]]:
        self.calls.append(("tasks", filters))
        return self.docs.get("tasks", [])


def engine(**docs: Any) -> Any:
    return SimpleNamespace(api=FakeAPI(**docs))


def test_when_reads_unix_seconds_and_rfc3339_and_says_unknown() -> None:
    assert when(0) == "1970-01-01 00:00 UTC"
    assert when(1_700_000_000.5) == "2023-11-14 22:13 UTC"
    assert when("2024-05-06T07:08:09.123Z") == "2024-05-06 07:08 UTC"
    assert when(None) == "unknown"
    assert when("2024") == "2024"


def test_removing_one_of_several_tags_says_the_image_stays_and_who_uses_it() -> None:
    image = {"Id": IMG_A, "RepoTags": ["web:1", "web:latest", "web:stable"], "Size": 2048, "Created": 0}
    users = [
        {"Names": ["/api"], "State": "running", "ImageID": IMG_A},
        {"Names": ["/other"], "State": "exited", "ImageID": IMG_B},
    ]
    eng = engine(images_by_ref={"web": image}, containers=users)
    question = image_removal_question(eng, {"image": "web"})
    assert "Remove image 'web' (id aaaaaaaaaaaa" in question
    assert "Only the tag 'web:latest' goes; the image stays under 'web:1', 'web:stable'." in question
    assert "Lost: the image" not in question
    assert "Containers made from it: 'api' (running) (the engine refuses without force=true)." in question
    assert "'other'" not in question  # made from another image
    forced = image_removal_question(eng, {"image": "web", "force": True})
    assert "(force=true removes it anyway)" in forced


def test_removing_the_only_tag_says_the_layers_are_lost() -> None:
    image = {"Id": IMG_A, "RepoTags": ["solo:1"], "Size": 10}
    question = image_removal_question(engine(images_by_ref={"solo:1": image}), {"image": "solo:1"})
    assert "Lost: the image and the layers no other image uses" in question
    assert "created unknown" in question
    assert "Containers made from it" not in question


def test_network_question_names_subnet_and_attached_containers_quoted() -> None:
    net = {
        "Name": "backend",
        "Id": "n" * 64,
        "Driver": "bridge",
        "Scope": "local",
        "IPAM": {"Config": [{"Subnet": "172.30.0.0/16"}, {"Gateway": "172.30.0.1"}]},
        "Containers": {"c" * 64: {"Name": "db"}, "d" * 64: {}},
    }
    question = network_removal_question(engine(networks_by_id={"backend": net}), {"network": "backend"})
    assert "driver 'bridge', scope local, subnet 172.30.0.0/16)?" in question
    # a nameless endpoint is shown by its id's first 12 characters
    assert "Still attached (the removal is refused until they leave): 'db', 'dddddddddddd'." in question


def test_volume_question_names_its_users_and_labels() -> None:
    volume = {"Name": "data", "Driver": "local", "CreatedAt": "2024-01-02T03:04:05Z", "Labels": {"app": "x", "k": ""}}
    eng = engine(volume=volume, containers=[{"Names": ["/db"], "State": "exited"}])
    question = volume_removal_question(eng, {"volume": "data"})
    assert "Remove volume 'data' (driver 'local', created 2024-01-02 03:04 UTC, labels 'app=x', 'k')?" in question
    assert "Used by containers: 'db' (exited) (the engine refuses while they exist)." in question
    assert ("containers", {"volume": "data"}) in eng.api.calls


@pytest.mark.parametrize(
    ("mode", "how"),
    [({"Replicated": {"Replicas": 3}}, "3 replicas"), ({"Replicated": {}}, "0 replicas"), ({"Global": {}}, "global")],
)
def test_service_question_counts_running_tasks_and_drops_the_digest(mode: dict[str, Any], how: str) -> None:
    service = {
        "ID": "s" * 25,
        "Spec": {
            "Name": "web",
            "Mode": mode,
            "TaskTemplate": {"ContainerSpec": {"Image": "nginx:1.25@sha256:" + "f" * 64}},
        },
    }
    eng = engine(service=service, tasks=[{}, {}])
    question = service_removal_question(eng, {"service": "web"})
    assert question.splitlines()[0] == f"Remove service 'web' (id ssssssssssss, image 'nginx:1.25', {how})?"
    assert "removes its 2 running task(s)" in question
    assert ("tasks", {"service": "s" * 25, "desired-state": "running"}) in eng.api.calls


def test_service_question_of_a_bare_spec() -> None:
    question = service_removal_question(engine(service={"ID": "x" * 12, "Spec": {}}), {"service": "x"})
    assert "Remove service '' (id xxxxxxxxxxxx, image '', global)?" in question
    assert "its 0 running task(s)" in question


@pytest.mark.parametrize(
    "arguments",
    [
        {"image": "bad image", "repository": "web"},  # not a reference: the tool body says so
        {"image": "web:1:2", "repository": "web"},
        {"image": "web", "repository": "web@sha256:" + "e" * 64},  # a digest is no tag to move
        {"image": "web", "repository": "Bad Repo"},  # the tool body refuses it with its own message
    ],
)
def test_tag_move_asks_nothing_for_what_the_tool_refuses(arguments: dict[str, Any]) -> None:
    eng = engine(images_by_ref={})
    assert tag_move_question(eng, arguments) is None
    assert eng.api.calls == []  # nothing asked of the engine


def test_tag_move_to_a_new_name_or_the_same_image_asks_nothing() -> None:
    source = {"Id": IMG_A, "RepoTags": ["web:1", "web:latest"]}
    eng = engine(images_by_ref={"web:1": source, "web:latest": source})
    assert tag_move_question(eng, {"image": "web:1", "repository": "fresh", "tag": "v1"}) is None
    assert ("inspect_image", "fresh:v1") in eng.api.calls
    assert tag_move_question(eng, {"image": "web:1", "repository": "web"}) is None  # already that image


def test_tag_move_says_the_old_image_keeps_its_other_tags_or_dangles() -> None:
    source = {"Id": IMG_A, "RepoTags": [], "Created": "2024-03-01T00:00:00Z"}
    current = {"Id": IMG_B, "RepoTags": ["web:prod", "web:old"], "Created": 0}
    users = [{"Names": ["/live"], "State": "running", "ImageID": IMG_B}]
    eng = engine(images_by_ref={"new": source, "web:prod": current}, containers=users)
    question = tag_move_question(eng, {"image": "new", "repository": "web:prod"})
    assert question is not None
    assert "Move the tag 'web:prod' from image bbbbbbbbbbbb (created 1970-01-01 00:00 UTC)" in question
    assert "to image aaaaaaaaaaaa (untagged, created 2024-03-01 00:00 UTC)?" in question
    assert "Image bbbbbbbbbbbb keeps its other tags: 'web:old'." in question
    assert "Containers made from it keep it: 'live' (running)." in question
    current["RepoTags"] = ["web:prod"]
    dangling = tag_move_question(engine(images_by_ref={"new": source, "web:prod": current}), {**_move()})
    assert dangling is not None and "left without a name (dangling): an image prune deletes it." in dangling
    assert "Containers made from it" not in dangling


def _move() -> dict[str, Any]:
    return {"image": "new", "repository": "web", "tag": "prod"}


@pytest.mark.parametrize(
    ("labels", "flt", "expected"),
    [
        ({"team": "a"}, {"label": ["team"]}, True),
        ({"team": "a"}, {"label": ["team=a"]}, True),
        ({"team": "a"}, {"label": ["team=b"]}, False),  # the value differs
        ({}, {"label": ["team"]}, False),  # the key is missing
        (None, {"label!": ["keep"]}, True),
        ({"keep": "1"}, {"label!": ["keep"]}, False),  # any value of the key is excluded
        ({"keep": "1"}, {"label!": ["keep=1"]}, False),
        ({"keep": "2"}, {"label!": ["keep=1"]}, True),  # another value is not
    ],
)
def test_label_filters_like_the_engine(
    labels: dict[str, str] | None, flt: dict[str, list[str]], expected: bool
) -> None:
    assert prune_questions._matches(labels, None, flt) is expected


def test_until_filter_keeps_newer_objects() -> None:
    assert prune_questions._matches({}, 1000.0, {"until": ["1970-01-01T00:20:00Z"]}) is True  # 1200 s
    assert prune_questions._matches({}, 1300.0, {"until": ["1970-01-01T00:20:00Z"]}) is False


def test_image_prune_with_label_filters_lists_only_matching_unused_images() -> None:
    rows = [
        {"Id": IMG_A, "RepoTags": ["<none>:<none>"], "Size": 1024, "Labels": {"tier": "cache"}},
        {"Id": IMG_B, "RepoTags": None, "Size": 1024, "Labels": {"tier": "cache", "keep": "yes"}},
        {"Id": "sha256:" + "c" * 64, "RepoTags": None, "Size": 1024, "Labels": {}},
    ]
    eng = engine(image_rows=rows, containers=[])
    question = image_prune_question(eng, {"filters": {"label": "tier=cache", "label!": ["keep"]}})
    assert "Would be removed now (1): aaaaaaaaaaaa (1.0 KB), about 1.0 KB in all." in question
    assert "matching \"{'label': ['tier=cache'], 'label!': ['keep']}\"" in question


def test_system_prune_with_volumes_lists_unused_anonymous_volumes_only() -> None:
    anon_free, anon_used = "1" * 64, "2" * 64
    containers = [
        {"Names": ["/old"], "State": "exited", "ImageID": IMG_A, "Mounts": [{"Type": "volume", "Name": "named"}]},
        {"Names": ["/live"], "State": "running", "ImageID": IMG_B, "Mounts": [{"Type": "volume", "Name": anon_used}]},
    ]
    volumes = [{"Name": anon_free}, {"Name": anon_used}, {"Name": "named"}, {"Name": "tagged", "Labels": {}}]
    eng = engine(containers=containers, volumes=volumes, networks=[], image_rows=[])
    question = system_prune_question(eng, {"volumes": True})
    assert "dangling images, unused anonymous volumes and the build cache?" in question
    assert "- containers (with their writable layers) (1): 'old'." in question
    # the running container's volume is kept; the stopped one's named volume is no anonymous one
    assert "- volumes (every file in them) (1): '111111111111'." in question
    assert "- build cache: the unused entries." in question
    without = system_prune_question(eng, {})
    assert "- volumes" not in without and "anonymous volumes" not in without


def test_system_prune_volume_section_ignores_until_but_keeps_labels() -> None:
    volumes = [{"Name": "3" * 64, "Labels": {"x": "1"}}, {"Name": "4" * 64}]
    eng = engine(containers=[], volumes=volumes, networks=[], image_rows=[])
    question = system_prune_question(eng, {"volumes": True, "filters": {"label": "x", "until": "1h"}})
    assert "- volumes (every file in them) (1): '333333333333'." in question
    assert "- build cache: not touched (filters were given)." in question


def test_short_ids() -> None:
    assert removal_questions.short(IMG_A) == "a" * 12
