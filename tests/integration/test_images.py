"""The 9 image tools against the real engine and a real registry; every effect is checked on the engine."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from pathlib import Path

import docker
import pytest
from mcp import Client

from mcp_docker.config import Settings
from mcp_docker.server import create_server
from tests.conftest import MODES, TEST_LABELS, allow_settings, error_text, stdio_params, structured
from tests.engine import TEST_LABEL, TEST_LABEL_VALUE
from tests.engine_features import has_builder

pytestmark = [pytest.mark.anyio, pytest.mark.engine]


@pytest.fixture(scope="session")
def builder(engine_handle: object) -> str:
    """The builder docker_build_image takes by default on this session's engine and CLI configuration.
    Asked once the engine answers (at import time the session's engine may not be started yet, and
    `docker buildx inspect` against a silent engine says no)."""
    return has_builder()


ANY_REGISTRY = {"MCP_DOCKER_ALLOWED_REGISTRIES": "*"}
"""Pushes here test the transfer; which registries a push may reach is tested in test_push_policy.py."""


@pytest.fixture
def settings() -> Settings:
    return allow_settings(allowed_registries=["*"])


class Progress:
    """A progress_callback that records what the server sent."""

    def __init__(self) -> None:
        self.events: list[tuple[float, float | None, str | None]] = []

    async def __call__(self, progress: float, total: float | None, message: str | None) -> None:
        self.events.append((progress, total, message))

    @property
    def messages(self) -> list[str]:
        return [m or "" for _, _, m in self.events]


def context_dir(tmp_path: Path, dockerfile: str, name: str = "Dockerfile") -> str:
    (tmp_path / name).write_text(dockerfile)
    return str(tmp_path)


async def test_build_runs_and_is_labelled(
    client: Client,
    docker_client: docker.DockerClient,
    test_image: str,
    unique: Callable[[str], str],
    tmp_path: Path,
    builder: str,
) -> None:
    tag = f"{unique('build')}:1"
    extra = f"{unique('build')}:latest"
    path = context_dir(
        tmp_path,
        f'FROM {test_image}\nARG GREETING=none\nRUN echo "$GREETING" > /greeting\nCMD ["cat", "/greeting"]\n',
        name="App.dockerfile",
    )
    progress = Progress()
    data = structured(
        await client.call_tool(
            "docker_build_image",
            {
                "path": path,
                "tag": [tag, extra],
                "dockerfile": "App.dockerfile",
                "buildargs": {"GREETING": "hello-build"},
                "nocache": True,
            },
            progress_callback=progress,
        )
    )
    assert data["tags"] == [tag, extra]
    assert data["builder"] == builder
    if builder == "classic":
        assert data["steps"] == 5  # the engine adds a LABEL step for mcp-docker.managed
        assert "Successfully built" in data["log_tail"]
        assert any(m.startswith("Step 1/5 : FROM") for m in progress.messages)
        assert any(m.startswith("Step 3/5 : RUN") for m in progress.messages)
    else:
        assert data["steps"] == 2  # BuildKit runs FROM and RUN; ARG and CMD are no steps, labels no step
        assert "[2/2] RUN" in data["log_tail"]
        assert any(m.startswith("[1/2] FROM") for m in progress.messages)
        assert any(m.startswith("[2/2] RUN") for m in progress.messages)

    image = docker_client.images.get(tag)
    assert image.id == data["id"]
    assert extra in image.tags
    assert image.labels["mcp-docker.managed"] == "true"
    output = docker_client.containers.run(tag, name=unique("run"), labels=TEST_LABELS, remove=True)
    assert output.strip() == b"hello-build"


async def test_build_target_stage(
    client: Client,
    docker_client: docker.DockerClient,
    test_image: str,
    unique: Callable[[str], str],
    tmp_path: Path,
    builder: str,
) -> None:
    tag = f"{unique('stage')}:1"
    path = context_dir(
        tmp_path,
        f"FROM {test_image} AS first\nRUN echo one > /stage\nFROM {test_image} AS second\nRUN echo two > /stage\n",
    )
    data = structured(await client.call_tool("docker_build_image", {"path": path, "tag": tag, "target": "first"}))
    assert data["steps"] == (3 if builder == "classic" else 2)  # FROM, RUN (and classic's LABEL step)
    output = docker_client.containers.run(tag, ["cat", "/stage"], name=unique("run"), labels=TEST_LABELS, remove=True)
    assert output.strip() == b"one"


async def test_failed_build_names_the_step_and_its_output(
    client: Client,
    docker_client: docker.DockerClient,
    test_image: str,
    unique: Callable[[str], str],
    tmp_path: Path,
    builder: str,
) -> None:
    tag = f"{unique('broken')}:1"
    path = context_dir(tmp_path, f"FROM {test_image}\nRUN echo before-failing && false\nRUN echo never\n")
    text = error_text(await client.call_tool("docker_build_image", {"path": path, "tag": tag}))
    if builder == "classic":
        assert "Step 2/4 : RUN echo before-failing && false" in text
        assert "returned a non-zero code: 1" in text
    else:
        assert "The build failed at step 2/3." in text and "[2/3] RUN echo before-failing && false" in text
        assert "did not complete successfully: exit code: 1" in text
    assert "before-failing" in text.split("Output of that step:")[1]
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(tag)


@pytest.mark.engine_feature("buildkit")
async def test_buildkit_cache_mount_build(
    client: Client, docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str], tmp_path: Path
) -> None:
    """A BuildKit-only Dockerfile (RUN --mount=type=cache) builds through docker buildx on the engine."""
    tag, extra = f"{unique('bk')}:1", f"{unique('bk')}:2"
    path = context_dir(
        tmp_path,
        f"FROM {test_image} AS base\nRUN --mount=type=cache,target=/cache echo cached > /cache/x && cp /cache/x /x\n"
        f'FROM base AS final\nARG WHO\nRUN echo "$WHO" > /who\n',
    )
    progress = Progress()
    data = structured(
        await client.call_tool(
            "docker_build_image",
            {"path": path, "tag": [tag, extra], "buildargs": {"WHO": "bk"}, "target": "final", "nocache": True},
            progress_callback=progress,
        )
    )
    assert data["builder"] == "buildkit"
    assert data["steps"] == 3
    assert any("RUN --mount=type=cache" in m for m in progress.messages)
    image = docker_client.images.get(tag)
    assert image.id == data["id"] and extra in image.tags
    assert image.labels["mcp-docker.managed"] == "true"
    out = docker_client.containers.run(tag, ["cat", "/x", "/who"], name=unique("run"), labels=TEST_LABELS, remove=True)
    assert out.split() == [b"cached", b"bk"]


async def test_classic_builder_when_chosen(
    docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str], tmp_path: Path
) -> None:
    """MCP_DOCKER_BUILDER=classic takes the engine's classic builder on every engine."""
    tag = f"{unique('classic')}:1"
    path = context_dir(tmp_path, f"FROM {test_image}\nRUN echo classic > /c\n")
    async with Client(create_server(allow_settings(builder="classic"))) as c:
        data = structured(await c.call_tool("docker_build_image", {"path": path, "tag": tag}))
    assert data["builder"] == "classic"
    assert "Successfully built" in data["log_tail"]
    assert docker_client.images.get(tag).labels["mcp-docker.managed"] == "true"


@pytest.mark.engine_feature("classic-builder")
async def test_buildkit_asked_for_but_missing_is_an_error(test_image: str, tmp_path: Path) -> None:
    path = context_dir(tmp_path, f"FROM {test_image}\n")
    async with Client(create_server(allow_settings(builder="buildkit"))) as c:
        text = error_text(await c.call_tool("docker_build_image", {"path": path}))
    assert "MCP_DOCKER_BUILDER=buildkit" in text and "buildx" in text


async def test_broken_dockerfile_and_bad_context_are_errors(
    client: Client, docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str], tmp_path: Path
) -> None:
    tag = f"{unique('syntax')}:1"
    path = context_dir(tmp_path, f"FROM {test_image}\nFROBNICATE now\n")
    text = error_text(await client.call_tool("docker_build_image", {"path": path, "tag": tag}))
    assert "refused before it started" in text
    assert "line 2: unknown instruction: FROBNICATE" in text
    assert "Fix the Dockerfile" in text
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(tag)

    missing = str(tmp_path / "nowhere")
    assert "not a directory" in error_text(await client.call_tool("docker_build_image", {"path": missing}))
    assert "absolute path" in error_text(await client.call_tool("docker_build_image", {"path": "relative/dir"}))
    text = error_text(await client.call_tool("docker_build_image", {"path": path, "dockerfile": "Nope"}))
    assert "No Dockerfile 'Nope'" in text
    text = error_text(await client.call_tool("docker_build_image", {"path": path, "dockerfile": "../../etc/passwd"}))
    assert "inside the build context" in text
    assert "Invalid image reference" in error_text(
        await client.call_tool("docker_build_image", {"path": path, "tag": "Bad Tag"})
    )


async def test_push_remove_pull_same_digest_with_progress(
    client: Client,
    docker_client: docker.DockerClient,
    test_image: str,
    unique: Callable[[str], str],
    tmp_path: Path,
    registry: str,
) -> None:
    # An image with a layer of its own, so the pull really downloads it.
    marker = uuid.uuid4().hex
    local = f"{unique('src')}:1"
    path = context_dir(tmp_path, f"FROM {test_image}\nRUN echo {marker} > /marker\n")
    built = structured(await client.call_tool("docker_build_image", {"path": path, "tag": local}))

    repo = f"{registry}/{unique('pushed')}"
    tagged = structured(await client.call_tool("docker_tag_image", {"image": local, "repository": repo, "tag": "v1"}))
    assert tagged["tag"] == f"{repo}:v1"
    assert f"{repo}:v1" in docker_client.images.get(local).tags

    push_progress = Progress()
    pushed = structured(
        await client.call_tool("docker_push_image", {"image": repo, "tag": "v1"}, progress_callback=push_progress)
    )
    assert pushed["digest"].startswith("sha256:")
    assert pushed["layers"] == 2
    assert pushed["layers_pushed"] >= 1
    assert push_progress.events, "no progress notification during push"
    assert any("layers done" in m for m in push_progress.messages)
    progress_values = [p for p, _, _ in push_progress.events]
    assert progress_values == sorted(set(progress_values))

    removed = structured(await client.call_tool("docker_remove_image", {"image": built["id"], "force": True}))
    assert f"{repo}:v1" in removed["untagged"]
    assert removed["deleted"]
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(f"{repo}:v1")

    pull_progress = Progress()
    pulled = structured(
        await client.call_tool("docker_pull_image", {"image": f"{repo}:v1"}, progress_callback=pull_progress)
    )
    assert pulled["digest"] == pushed["digest"]
    assert pulled["id"] == built["id"]
    assert pulled["layers"] == 2
    # Pulled back layer by layer; after a BuildKit build the engine may still hold the layers (its build
    # cache keeps them), so they are reported as already there.
    assert any("Pull complete" in m or "Already exists" in m for m in pull_progress.messages), pull_progress.messages
    assert any("Already exists" in m for m in pull_progress.messages)
    image = docker_client.images.get(f"{repo}:v1")
    assert f"{repo}@{pushed['digest']}" in image.attrs["RepoDigests"]
    output = docker_client.containers.run(
        f"{repo}:v1", ["cat", "/marker"], name=unique("run"), labels=TEST_LABELS, remove=True
    )
    assert output.strip() == marker.encode()

    # Pulling again by digest is a no-op that still reports the same image.
    again = structured(await client.call_tool("docker_pull_image", {"image": f"{repo}@{pushed['digest']}"}))
    assert again["id"] == built["id"]


async def test_pull_and_push_errors(
    client: Client, docker_client: docker.DockerClient, unique: Callable[[str], str], registry: str
) -> None:
    missing = f"{registry}/{unique('absent')}"
    text = error_text(await client.call_tool("docker_pull_image", {"image": missing, "tag": "1"}))
    assert missing in text
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(f"{missing}:1")

    text = error_text(await client.call_tool("docker_push_image", {"image": f"{missing}:1"}))
    assert f"No such image '{missing}:1'" in text
    assert "docker_list_images" in text

    text = error_text(await client.call_tool("docker_pull_image", {"image": f"{missing}:1", "tag": "2"}))
    assert "contradicts" in text
    assert "Invalid image reference" in error_text(await client.call_tool("docker_pull_image", {"image": "UPPER/x"}))
    text = error_text(await client.call_tool("docker_push_image", {"image": f"{missing}@sha256:{'a' * 64}"}))
    assert "not a digest" in text
    text = error_text(await client.call_tool("docker_pull_image", {"image": "x", "credentials": {"u": "p"}}))
    assert "credentials" in text


async def test_list_inspect_history(
    client: Client, docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str], tmp_path: Path
) -> None:
    tag = f"{unique('listed')}:1"
    path = context_dir(
        tmp_path, f'FROM {test_image}\nENV SECRET_KEY=abc123\nEXPOSE 8080\nLABEL tier=web\nCMD ["sleep", "1"]\n'
    )
    built = structured(await client.call_tool("docker_build_image", {"path": path, "tag": tag}))

    listed = structured(await client.call_tool("docker_list_images", {"filters": {"reference": tag}}))
    assert listed["total"] == 1
    assert listed["images"][0]["tags"] == [tag]
    assert built["id"].removeprefix("sha256:").startswith(listed["images"][0]["id"])
    assert set(listed["images"][0]) == {"id", "tags", "size", "created"}
    labelled = structured(
        await client.call_tool("docker_list_images", {"filters": {"label": [f"{TEST_LABEL}={TEST_LABEL_VALUE}"]}})
    )
    assert labelled["total"] >= 2
    limited = structured(
        await client.call_tool(
            "docker_list_images", {"filters": {"label": f"{TEST_LABEL}={TEST_LABEL_VALUE}"}, "limit": 1}
        )
    )
    assert len(limited["images"]) == 1
    assert limited["truncated"] is True

    details = structured(await client.call_tool("docker_inspect_image", {"image": tag}))
    assert details["id"] == docker_client.images.get(tag).id
    assert "SECRET_KEY=***" in details["env"]
    assert "abc123" not in str(details)
    assert details["exposed_ports"] == ["8080/tcp"]
    assert details["labels"]["tier"] == "web"
    assert details["labels"]["mcp-docker.managed"] == "true"
    assert details["command"] == ["sleep", "1"]
    assert details["raw"] is None
    full = structured(await client.call_tool("docker_inspect_image", {"image": tag, "full": True}))
    assert full["raw"]["Id"] == details["id"]
    assert "abc123" not in str(full)

    history = structured(await client.call_tool("docker_image_history", {"image": tag}))
    created_by = [layer["created_by"] for layer in history["layers"]]
    assert any("EXPOSE" in c for c in created_by)
    assert any("ENV SECRET_KEY" in c for c in created_by)
    assert tag in history["layers"][0]["tags"]
    assert history["total_size"] == sum(layer["size"] for layer in history["layers"])
    assert len(history["layers"]) == len(docker_client.api.history(tag))


async def test_missing_image_errors_point_at_list_tool(client: Client, unique: Callable[[str], str]) -> None:
    missing = f"{unique('gone')}:1"
    for tool, args in (
        ("docker_inspect_image", {"image": missing}),
        ("docker_image_history", {"image": missing}),
        ("docker_remove_image", {"image": missing}),
        ("docker_tag_image", {"image": missing, "repository": "mcpa-whatever"}),
    ):
        text = error_text(await client.call_tool(tool, args))
        assert f"No such image '{missing}'" in text, (tool, text)
        assert "docker_list_images" in text, (tool, text)


async def test_tag_and_remove_one_tag(
    client: Client, docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str]
) -> None:
    repo = unique("alias")
    data = structured(await client.call_tool("docker_tag_image", {"image": test_image, "repository": repo}))
    assert data["tag"] == f"{repo}:latest"
    assert f"{repo}:latest" in docker_client.images.get(test_image).tags
    removed = structured(await client.call_tool("docker_remove_image", {"image": f"{repo}:latest"}))
    assert removed["untagged"] == [f"{repo}:latest"]
    assert removed["deleted"] == []
    assert docker_client.images.get(test_image).tags
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(f"{repo}:latest")
    text = error_text(
        await client.call_tool("docker_tag_image", {"image": test_image, "repository": f"{repo}@sha256:{'b' * 64}"})
    )
    assert "without a digest" in text


async def test_prune_images_removes_only_what_matches(
    client: Client, docker_client: docker.DockerClient, test_image: str, unique: Callable[[str], str], tmp_path: Path
) -> None:
    group = unique("group")
    path = context_dir(tmp_path, f"FROM {test_image}\nLABEL group={group}\nRUN echo {group} > /g\n")
    dangling = structured(await client.call_tool("docker_build_image", {"path": path}))
    assert dangling["tags"] == []
    keep_tag = f"{unique('keep')}:1"
    (tmp_path / "Dockerfile").write_text(f"FROM {test_image}\nLABEL group={group}\nRUN echo keep-{group} > /g\n")
    kept = structured(await client.call_tool("docker_build_image", {"path": str(tmp_path), "tag": keep_tag}))

    filters = {"label": [f"{TEST_LABEL}={TEST_LABEL_VALUE}", f"group={group}"]}
    result = structured(await client.call_tool("docker_prune_images", {"filters": filters}))
    assert f"deleted {dangling['id'].removeprefix('sha256:')[:12]}" in result["removed"]
    assert result["count"] == len(result["removed"])
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(dangling["id"])
    assert docker_client.images.get(keep_tag).id == kept["id"]
    assert docker_client.images.get(test_image)

    everything = structured(await client.call_tool("docker_prune_images", {"all": True, "filters": filters}))
    assert f"untagged {keep_tag}" in everything["removed"]
    assert everything["space_reclaimed"] >= 0
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(keep_tag)
    assert docker_client.images.get(test_image)

    text = error_text(
        await client.call_tool("docker_prune_images", {"all": True, "filters": {**filters, "dangling": "true"}})
    )
    assert "not both" in text


@pytest.mark.parametrize("mode", MODES)
async def test_progress_notifications_over_stdio(
    mode: str,
    docker_client: docker.DockerClient,
    test_image: str,
    unique: Callable[[str], str],
    tmp_path: Path,
    registry: str,
) -> None:
    """Progress reaches a client as real `notifications/progress` messages, in both protocol eras
    (the in-memory client of the 2026 era calls the callback directly, without JSON-RPC)."""
    repo = f"{registry}/{unique('wire')}"
    path = context_dir(tmp_path, f"FROM {test_image}\nRUN echo {uuid.uuid4().hex} > /marker\n")
    build, push, pull = Progress(), Progress(), Progress()
    async with Client(stdio_params(ANY_REGISTRY), mode=mode) as c:
        built = structured(
            await c.call_tool("docker_build_image", {"path": path, "tag": f"{repo}:1"}, progress_callback=build)
        )
        pushed = structured(await c.call_tool("docker_push_image", {"image": f"{repo}:1"}, progress_callback=push))
        structured(await c.call_tool("docker_remove_image", {"image": f"{repo}:1"}))
        pulled = structured(await c.call_tool("docker_pull_image", {"image": f"{repo}:1"}, progress_callback=pull))
    assert any(m.startswith("Step 2/3 : RUN" if built["builder"] == "classic" else "[2/2] RUN") for m in build.messages)
    assert any("Pushed" in m for m in push.messages)
    assert any("Pull complete" in m or "Already exists" in m for m in pull.messages), pull.messages
    assert pulled["digest"] == pushed["digest"]
    assert docker_client.images.get(f"{repo}:1").id == built["id"]


async def test_registry_credentials_come_from_the_docker_config(
    docker_client: docker.DockerClient,
    test_image: str,
    unique: Callable[[str], str],
    tmp_path: Path,
    auth_registry: str,
) -> None:
    from tests.registry import TEST_PASSWORD, TEST_USER

    ref = f"{auth_registry}/{unique('private')}:1"
    docker_client.images.get(test_image).tag(ref)
    anonymous = tmp_path / "anonymous"
    anonymous.mkdir()
    logged_in = tmp_path / "logged-in"
    logged_in.mkdir()
    token = base64.b64encode(f"{TEST_USER}:{TEST_PASSWORD}".encode()).decode()
    (logged_in / "config.json").write_text(json.dumps({"auths": {auth_registry: {"auth": token}}}))

    async with Client(stdio_params({"DOCKER_CONFIG": str(anonymous), **ANY_REGISTRY}), mode="legacy") as c:
        text = error_text(await c.call_tool("docker_push_image", {"image": ref}))
        assert "Push failed" in text and "docker login" in text

    # No MCP_DOCKER_ALLOWED_REGISTRIES: the registry the config has credentials for is allowed.
    async with Client(stdio_params({"DOCKER_CONFIG": str(logged_in)}), mode="legacy") as c:
        pushed = structured(await c.call_tool("docker_push_image", {"image": ref}))
        docker_client.images.remove(ref)
        pulled = structured(await c.call_tool("docker_pull_image", {"image": ref}))
    assert pulled["digest"] == pushed["digest"]
    assert docker_client.images.get(ref).id == docker_client.images.get(test_image).id

    async with Client(stdio_params({"DOCKER_CONFIG": str(anonymous)}), mode="legacy") as c:
        docker_client.images.remove(ref)
        text = error_text(await c.call_tool("docker_pull_image", {"image": ref}))
        assert "docker login" in text, text
