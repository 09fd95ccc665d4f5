"""Image tools: list, inspect, pull, build, push, tag, remove, prune, history.

Pull, push and build are long: they are `async` tools that run docker-py's blocking stream on a
worker thread and send each meaningful event back as an MCP progress notification. Registry
credentials come from the user's Docker config (docker-py reads ~/.docker/config.json and its
credential helpers), never from tool arguments.
"""

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import anyio.from_thread
import anyio.to_thread
from pydantic import Field

from mcp_docker.docker import buildx
from mcp_docker.safety.build_policy import build_failure, check_build
from mcp_docker.safety.gate_proxy import gated_engine
from mcp_docker.safety.host_paths import check_build_context
from mcp_docker.safety.levels import Level
from mcp_docker.safety.registries import check_push
from mcp_docker.state import Ctx, engine, settings
from mcp_docker.tools.declare import docker_tool
from mcp_docker.tools.image_models import (
    BuildLog,
    BuiltImage,
    ImageDetails,
    ImageHistory,
    ImageList,
    PruneResult,
    PulledImage,
    PushedImage,
    RemovedImage,
    TaggedImage,
    TransferProgress,
    history_layer,
    image_details,
    image_summary,
    prune_result,
    short_id,
)
from mcp_docker.tools.params import MANAGED_LABEL
from mcp_docker.tools.prune_questions import image_prune_question
from mcp_docker.tools.removal_questions import image_removal_question, tag_move_question
from mcp_docker.utils import validation
from mcp_docker.utils.errors import (
    EngineError,
    ValidationError,
    call_meanings,
    engine_errors,
)
from mcp_docker.utils.output import bounded_tail

ImageRef = Annotated[str, Field(description="Reference ('nginx:1.27') or id.", min_length=1)]
Filters = Annotated[
    dict[str, str | list[str]] | None,
    Field(description="Engine filters: reference ('nginx*'), dangling, label, before, since."),
]
Tag = Annotated[str | None, Field(description="Tag; default: the reference's, else 'latest'.")]


def _reference(image: str, tag: str | None) -> tuple[str, str]:
    """(repository, tag) from an image reference and an optional separate tag."""
    image = validation.image_reference(image)
    repo, ref_tag = validation.split_reference(image)
    if tag is not None and ref_tag is not None and tag != ref_tag:
        raise ValidationError(f"The reference {image!r} already has the tag {ref_tag!r}; tag={tag!r} contradicts it.")
    if "@" in repo:
        if tag is not None:
            raise ValidationError(f"The reference {image!r} has a digest; pass no tag with it.")
        repo, digest = repo.split("@", 1)
        return repo, digest
    tag = tag or ref_tag or "latest"
    validation.image_reference(f"{repo}:{tag}")
    return repo, tag


Report = Callable[[str | None], None]


class _Cancelled(Exception):
    """Raised in the worker thread once the call was cancelled, to stop reading the engine's stream."""


async def _stream_with_progress(ctx: Ctx, work: Callable[[Report], Any]) -> Any:
    """Run blocking `work(report)` on a worker thread. `work` calls `report(message)` for every engine
    event: a message becomes a progress notification, and a cancelled call stops the stream there."""
    step = 0
    cancelled = threading.Event()

    async def send(message: str) -> None:
        nonlocal step
        step += 1
        await ctx.report_progress(step, None, message)

    def report(message: str | None) -> None:
        if cancelled.is_set():
            raise _Cancelled
        if message:
            anyio.from_thread.run(send, message)

    try:
        return await anyio.to_thread.run_sync(work, report, abandon_on_cancel=True)
    finally:
        cancelled.set()


@docker_tool(Level.SAFE, "images", title="List images")
def docker_list_images(
    ctx: Ctx,
    all: Annotated[bool, Field(description="Include intermediate images.")] = False,
    filters: Filters = None,
    limit: Annotated[int, Field(description="Max images.", ge=1, le=1000)] = 50,
) -> ImageList:
    """List local images (id, tags, size, created), newest first."""
    rows = engine(ctx).api.images(all=all, filters=filters or None)
    rows.sort(key=lambda r: r.get("Created") or 0, reverse=True)
    items = [image_summary(row) for row in rows[:limit]]
    return ImageList(images=items, total=len(rows), limit=limit, truncated=len(rows) > limit)


@docker_tool(Level.SAFE, "images", title="Inspect image", subject="image")
def docker_inspect_image(
    ctx: Ctx,
    image: ImageRef,
    full: Annotated[bool, Field(description="Add the engine's raw document (env redacted).")] = False,
) -> ImageDetails:
    """An image's configuration; env values redacted."""
    data = engine(ctx).api.inspect_image(image)
    return image_details(data, redact=settings(ctx).redact_env, full=full)


@docker_tool(Level.MODERATE, "images", title="Pull image", subject="image", idempotent=True, open_world=True)
async def docker_pull_image(
    ctx: Ctx,
    image: Annotated[str, Field(description="e.g. 'nginx:1.27', 'registry:5000/app'.")],
    tag: Tag = None,
    platform: Annotated[str | None, Field(description="e.g. 'linux/arm64'.")] = None,
) -> PulledImage:
    """Pull an image with progress; credentials: the server user's `docker login`."""
    repo, tag = _reference(image, tag)
    api = engine(ctx).api
    reference = f"{repo}@{tag}" if ":" in tag else f"{repo}:{tag}"

    def work(report: Report) -> PulledImage:
        progress = TransferProgress("pull")
        with engine_errors("image", reference, call="pull"):
            for event in api.pull(repo, tag=tag, stream=True, decode=True, platform=platform):
                report(progress.feed(event))
            data = api.inspect_image(reference)
        return PulledImage(
            image=reference,
            id=data["Id"],
            digest=progress.digest,
            size=int(data.get("Size") or 0),
            status=progress.status,
            layers=len(progress.layers),
        )

    result: PulledImage = await _stream_with_progress(ctx, work)
    return result


@docker_tool(Level.MODERATE, "images", title="Push image", subject="image", idempotent=True, open_world=True)
async def docker_push_image(
    ctx: Ctx,
    image: Annotated[str, Field(description="Local image named for its registry: 'registry:5000/app'.")],
    tag: Tag = None,
) -> PushedImage:
    """Push a local image with progress; credentials: the server user's `docker login`."""
    repo, tag = _reference(image, tag)
    if ":" in tag:
        raise ValidationError("Push a tag, not a digest: pass the image's repository:tag.")
    check_push(repo, settings(ctx))  # only to allowed registries (safety/registries.py)
    api = engine(ctx).api
    reference = f"{repo}:{tag}"

    def work(report: Report) -> PushedImage:
        progress = TransferProgress("push")
        with engine_errors("image", reference):
            api.inspect_image(reference)
        with engine_errors("image", reference, call="push"):
            for event in api.push(repo, tag=tag, stream=True, decode=True):
                report(progress.feed(event))
        return PushedImage(
            image=reference,
            digest=progress.digest,
            size=progress.size,
            layers=len(progress.layers),
            layers_pushed=len(progress.pushed),
        )

    result: PushedImage = await _stream_with_progress(ctx, work)
    return result


def _context_dir(path: str) -> Path:
    context = Path(path).expanduser()
    if not context.is_absolute():
        raise ValidationError(f"The build context {path!r} must be an absolute path on the server's machine.")
    if not context.is_dir():
        raise ValidationError(f"The build context {path!r} is not a directory on the server's machine.")
    return context.resolve()


@docker_tool(Level.MODERATE, "images", title="Build image")
async def docker_build_image(
    ctx: Ctx,
    path: Annotated[str, Field(description="Absolute context directory on the server.")],
    tag: Annotated[str | list[str] | None, Field(description="Name(s), e.g. 'app:1.0'.")] = None,
    dockerfile: Annotated[str | None, Field(description="Path relative to the context.")] = None,
    buildargs: Annotated[dict[str, str] | None, Field(description="ARG values.")] = None,
    target: Annotated[str | None, Field(description="Stage to stop at.")] = None,
    nocache: Annotated[bool, Field(description="No build cache.")] = False,
) -> BuiltImage:
    """Build an image from a server-side context under an allowed root, with progress; a failure names the step."""
    tags = [tag] if isinstance(tag, str) else list(tag or [])
    tags = [validation.image_reference(t) for t in tags]
    context = _context_dir(path)
    check_build_context(str(context), settings(ctx))
    # Build policy (safety/build_policy.py): Dockerfile inside the context, no network or unsandboxed steps.
    checked = check_build(context, dockerfile, settings(ctx), buildargs=buildargs)
    dockerfile = str(checked.relative_to(context))
    eng = engine(ctx)
    api = eng.api
    limit = settings(ctx).max_output_bytes
    # buildx talks to the engine through the engine gate's private socket, like Compose (safety/gate_proxy.py).
    async with gated_engine(eng) as gate:
        env = {**buildx.cli_environment(eng), **gate.env}
        choice = settings(ctx).builder

        def buildkit(report: Report) -> BuiltImage:
            done = buildx.buildkit_build(
                env, context, report, limit, tags=tags, dockerfile=dockerfile, buildargs=buildargs,
                target=target, nocache=nocache, labels={MANAGED_LABEL: "true"},
            )  # fmt: skip
            text, truncated = bounded_tail(done.log, limit)
            return BuiltImage(
                id=done.image_id, tags=tags, builder="buildkit", steps=done.steps, log_tail=text, truncated=truncated
            )

        def work(report: Report) -> BuiltImage:
            if buildx.use_buildkit(choice, env):  # probes `docker buildx` once: on this worker thread
                return buildkit(report)
            log = BuildLog()
            with call_meanings("build"):
                stream = _build_stream(api, log, tags, context, dockerfile, buildargs, target, nocache)
                for event in stream:
                    report(log.feed(event))
            if log.error is not None or log.image_id is None:
                raise EngineError(  # engine text fenced as data (build_policy.build_failure)
                    build_failure(log.step, log.error, log.step_output(), limit),
                    "Fix the Dockerfile or the context and build again.",
                )
            for extra in tags[1:]:
                repo, extra_tag = validation.split_reference(extra)
                api.tag(log.image_id, repo, extra_tag or "latest")
            text, truncated = bounded_tail(log.text(), limit)
            return BuiltImage(
                id=log.image_id, tags=tags, builder="classic", steps=log.steps, log_tail=text, truncated=truncated
            )

        result: BuiltImage = await _stream_with_progress(ctx, work)
        if gate.refusals:  # the CLI asked the engine for something the gate does not allow
            raise gate.refusals[0]
    return result


def _build_stream(
    api: Any,
    log: BuildLog,
    tags: list[str],
    context: Path,
    dockerfile: str | None,
    buildargs: dict[str, str] | None,
    target: str | None,
    nocache: bool,
) -> Any:
    return api.build(
        path=str(context),
        tag=tags[0] if tags else None,
        dockerfile=dockerfile,
        buildargs=buildargs or None,
        target=target,
        nocache=nocache,
        rm=True,
        forcerm=True,
        labels={MANAGED_LABEL: "true"},
        decode=True,
    )


@docker_tool(
    Level.MODERATE,
    "images",
    title="Tag image",
    subject="image",
    idempotent=True,
    destructive_hint=True,  # it may move an existing name to another image
    confirm=tag_move_question,
    conditional=True,
)
def docker_tag_image(
    ctx: Ctx,
    image: ImageRef,
    repository: Annotated[str, Field(description="e.g. 'localhost:5000/app'.")],
    tag: Annotated[str | None, Field(description="New tag.")] = None,
) -> TaggedImage:
    """Give a local image another repository:tag; moving a name off another image needs confirmation."""
    image = validation.image_reference(image)
    repo, tag = _reference(repository, tag)
    if ":" in tag:
        raise ValidationError("The new name must be repository[:tag], without a digest.")
    api = engine(ctx).api
    data = api.inspect_image(image)
    api.tag(data["Id"], repo, tag, force=True)
    after = api.inspect_image(data["Id"])
    return TaggedImage(id=short_id(data["Id"]), tag=f"{repo}:{tag}", tags=after.get("RepoTags") or [])


@docker_tool(Level.DESTRUCTIVE, "images", title="Remove image", subject="image", confirm=image_removal_question)
def docker_remove_image(
    ctx: Ctx,
    image: ImageRef,
    force: Annotated[
        bool, Field(description="Even if a stopped container uses it or it has several repositories.")
    ] = False,
) -> RemovedImage:
    """Remove a local image or one of its tags; deletes the layers nothing else uses."""
    rows = engine(ctx).api.remove_image(image, force=force)
    untagged = [r["Untagged"] for r in rows if r.get("Untagged")]
    deleted = [short_id(r["Deleted"]) for r in rows if r.get("Deleted")]
    return RemovedImage(image=image, untagged=untagged, deleted=deleted)


@docker_tool(Level.DESTRUCTIVE, "images", title="Prune images", confirm=image_prune_question)
def docker_prune_images(
    ctx: Ctx,
    all: Annotated[bool, Field(description="Every unused image, not only dangling.")] = False,
    filters: Annotated[
        dict[str, str | list[str]] | None,
        Field(description="e.g. {'label!': 'keep'}, {'until': '24h'}."),
    ] = None,
) -> PruneResult:
    """Remove unused (by default dangling) images; returns them and the space reclaimed."""
    prune_filters: dict[str, Any] = dict(filters or {})
    if "dangling" in prune_filters and all:
        raise ValidationError("Pass either all=true or a 'dangling' filter, not both.")
    if all:
        prune_filters["dangling"] = "false"
    result = engine(ctx).api.prune_images(filters=prune_filters or None)
    deleted: list[str] = []
    for row in result.get("ImagesDeleted") or []:
        if row.get("Untagged"):
            deleted.append(f"untagged {row['Untagged']}")
        if row.get("Deleted"):
            deleted.append(f"deleted {short_id(row['Deleted'])}")
    return prune_result(deleted, result.get("SpaceReclaimed"))


@docker_tool(Level.SAFE, "images", title="Image history", subject="image")
def docker_image_history(ctx: Ctx, image: ImageRef) -> ImageHistory:
    """An image's layers, newest first: instruction and size."""
    rows = engine(ctx).api.history(image)
    layers = [history_layer(row) for row in rows]
    return ImageHistory(image=image, layers=layers, total_size=sum(layer.size for layer in layers))
