"""The questions put to the user before a destructive call on one object: what exactly will be lost.

Each function takes the engine and the call's arguments and resolves the target on the engine, so an
id prefix becomes the object's name and id. Text that came from the model or the engine is quoted
(`quote`): it is data in the question, never instructions. Container removal's question is with its
tool (container_tools.py); prunes are in prune_questions.py, compose down in compose_tools.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mcp_docker.safety.confirmation import bounded_list, quote
from mcp_docker.utils import validation
from mcp_docker.utils.errors import ValidationError
from mcp_docker.utils.output import human_size

if TYPE_CHECKING:
    from mcp_docker.docker.client import Engine


def short(object_id: str) -> str:
    return object_id.removeprefix("sha256:")[:12]


def when(value: Any) -> str:
    """An engine time (RFC 3339 text or Unix seconds) as a date, for a question."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = str(value or "")
    return text[:16].replace("T", " ") + " UTC" if len(text) >= 16 else (text or "unknown")


def containers_using_image(eng: Engine, image_id: str) -> list[str]:
    rows = eng.api.containers(all=True)
    return sorted(f"{quote(r['Names'][0].lstrip('/'))} ({r['State']})" for r in rows if r.get("ImageID") == image_id)


def image_removal_question(eng: Engine, arguments: dict[str, Any]) -> str:
    ref = str(arguments["image"])
    data = eng.api.inspect_image(ref)
    tags: list[str] = data.get("RepoTags") or []
    named = ref if ref in tags else (f"{ref}:latest" if f"{ref}:latest" in tags else None)
    lines = [
        f"Remove image {quote(ref)} (id {short(data['Id'])}, tags {bounded_list([quote(t) for t in tags]) or 'none'}, "
        f"{human_size(data.get('Size'))}, created {when(data.get('Created'))})?"
    ]
    if named is not None and len(tags) > 1:
        others = [quote(t) for t in tags if t != named]
        lines.append(f"Only the tag {quote(named)} goes; the image stays under {bounded_list(others)}.")
    else:
        lines.append(
            "Lost: the image and the layers no other image uses (it comes back only by pulling or building it again)."
        )
    users = containers_using_image(eng, data["Id"])
    if users:
        hint = "force=true removes it anyway" if arguments.get("force") else "the engine refuses without force=true"
        lines.append(f"Containers made from it: {bounded_list(users)} ({hint}).")
    return "\n".join(lines)


def network_removal_question(eng: Engine, arguments: dict[str, Any]) -> str:
    data = eng.api.inspect_network(arguments["network"])
    subnets = [c.get("Subnet") for c in (data.get("IPAM") or {}).get("Config") or [] if c.get("Subnet")]
    lines = [
        f"Remove network {quote(data['Name'])} (id {short(data['Id'])}, driver {quote(data.get('Driver'))}, "
        f"scope {data.get('Scope')}{', subnet ' + ', '.join(subnets) if subnets else ''})?",
        "Lost: its configuration; containers can no longer join it or reach each other through it.",
    ]
    attached = sorted(quote(ep.get("Name") or cid[:12]) for cid, ep in (data.get("Containers") or {}).items())
    if attached:
        lines.append(f"Still attached (the removal is refused until they leave): {bounded_list(attached)}.")
    return "\n".join(lines)


def volume_removal_question(eng: Engine, arguments: dict[str, Any]) -> str:
    data = eng.api.inspect_volume(arguments["volume"])
    name = data["Name"]
    labels = data.get("Labels") or {}
    shown = bounded_list([quote(f"{k}={v}" if v else k) for k, v in labels.items()], 5)
    lines = [
        f"Remove volume {quote(name)} (driver {quote(data.get('Driver'))}, created {when(data.get('CreatedAt'))}"
        f"{', labels ' + shown if shown else ''})?",
        "Lost for good: every file in it.",
    ]
    users = sorted(
        f"{quote(r['Names'][0].lstrip('/'))} ({r['State']})"
        for r in eng.api.containers(all=True, filters={"volume": name})
    )
    if users:
        lines.append(f"Used by containers: {bounded_list(users)} (the engine refuses while they exist).")
    return "\n".join(lines)


def service_removal_question(eng: Engine, arguments: dict[str, Any]) -> str:
    from mcp_docker.tools.swarm_tools import swarm_errors

    with swarm_errors():
        data = eng.api.inspect_service(arguments["service"])
        tasks = eng.api.tasks(filters={"service": data["ID"], "desired-state": "running"})
    spec = data.get("Spec") or {}
    mode = spec.get("Mode") or {}
    how = f"{mode['Replicated'].get('Replicas', 0)} replicas" if "Replicated" in mode else "global"
    image = ((spec.get("TaskTemplate") or {}).get("ContainerSpec") or {}).get("Image", "")
    return "\n".join(
        [
            f"Remove service {quote(spec.get('Name', ''))} (id {data['ID'][:12]}, image "
            f"{quote(image.split('@')[0])}, {how})?",
            f"The swarm stops and removes its {len(tasks)} running task(s): their containers and any data inside "
            "them are lost.",
        ]
    )


def tag_move_question(eng: Engine, arguments: dict[str, Any]) -> str | None:
    """A question only when the new name already points at another image (the tag would move)."""
    try:
        image = validation.image_reference(str(arguments["image"]))
        repo, ref_tag = validation.split_reference(validation.image_reference(str(arguments["repository"])))
    except ValidationError:
        return None  # the tool body says what is wrong
    if "@" in repo:
        return None
    target = f"{repo}:{arguments.get('tag') or ref_tag or 'latest'}"
    import docker.errors

    source = eng.api.inspect_image(image)
    try:
        current = eng.api.inspect_image(target)
    except docker.errors.NotFound:
        return None
    if current["Id"] == source["Id"]:
        return None
    src_tags = [quote(t) for t in source.get("RepoTags") or []]
    lines = [
        f"Move the tag {quote(target)} from image {short(current['Id'])} (created {when(current.get('Created'))}) "
        f"to image {short(source['Id'])} ({'tags ' + bounded_list(src_tags, 5) if src_tags else 'untagged'}, "
        f"created {when(source.get('Created'))})?",
        f"Anything that later runs, builds FROM or pushes {quote(target)} gets image {short(source['Id'])} instead.",
    ]
    others = [quote(t) for t in current.get("RepoTags") or [] if t != target]
    if others:
        lines.append(f"Image {short(current['Id'])} keeps its other tags: {bounded_list(others, 5)}.")
    else:
        lines.append(f"Image {short(current['Id'])} is left without a name (dangling): an image prune deletes it.")
    users = containers_using_image(eng, current["Id"])
    if users:
        lines.append(f"Containers made from it keep it: {bounded_list(users)}.")
    return "\n".join(lines)
