"""The questions put to the user before a prune: what it would remove now, counted and bounded.

The engine has no dry run, so the lists are worked out from what it reports (unused = no container,
stopped or running, refers to it) with the same filters the prune gets (`label`, `label!`, `until`).
They are what a prune would remove at the moment of asking; the question says so.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from mcp_docker.safety.confirmation import bounded_list, quote
from mcp_docker.tools.params import normalise_filters
from mcp_docker.tools.removal_questions import short
from mcp_docker.utils.output import human_size, parse_time

if TYPE_CHECKING:
    from mcp_docker.docker.client import Engine

ANONYMOUS = "com.docker.volume.anonymous"
"""Label the engine (API >= 1.42) puts on anonymous volumes; its volume prune removes only those unless
the filter all=true is given."""
_STOPPED = ("exited", "created", "dead")


def _matches(labels: dict[str, str] | None, created: float | None, flt: dict[str, list[str]]) -> bool:
    labels = labels or {}
    for item in flt.get("label", []):
        key, sep, value = item.partition("=")
        if key not in labels or (sep and labels[key] != value):
            return False
    for item in flt.get("label!", []):
        key, sep, value = item.partition("=")
        if key in labels and (not sep or labels[key] == value):
            return False
    for item in flt.get("until", []):
        limit = parse_time(item, "until")
        if created is not None and limit is not None and created >= limit:
            return False
    return True


def _yes(values: list[str] | None) -> bool:
    return values is not None and len(values) > 0 and str(values[-1]).lower() in ("1", "true")


def _image_candidates(eng: Engine, flt: dict[str, list[str]], everything: bool, used: set[str]) -> list[str]:
    rows = eng.api.images()
    out: list[str] = []
    total = 0
    for row in rows:
        tags = [t for t in row.get("RepoTags") or [] if t != "<none>:<none>"]
        if row["Id"] in used or (tags and not everything) or not _matches(row.get("Labels"), row.get("Created"), flt):
            continue
        total += row.get("Size") or 0
        out.append(f"{', '.join(quote(t) for t in tags[:2]) or short(row['Id'])} ({human_size(row.get('Size'))})")
    out.sort()
    if out:
        out.append(f"about {human_size(total)} in all")
    return out


def _anonymous(volume: dict[str, Any]) -> bool:
    """The engine labels anonymous volumes since API 1.42; before that their names are 64 hex digits."""
    return ANONYMOUS in (volume.get("Labels") or {}) or bool(re.fullmatch(r"[0-9a-f]{64}", volume.get("Name", "")))


def _volume_candidates(eng: Engine, flt: dict[str, list[str]], used: set[str], named_too: bool) -> list[str]:
    rows = eng.api.volumes().get("Volumes") or []
    return sorted(
        quote(v["Name"][:12] if _anonymous(v) else v["Name"])
        for v in rows
        if v["Name"] not in used
        and (named_too or _anonymous(v))
        and _matches(v.get("Labels"), None, {k: x for k, x in flt.items() if k != "all"})
    )


def _used_volumes(rows: list[dict[str, Any]]) -> set[str]:
    return {m["Name"] for r in rows for m in r.get("Mounts") or [] if m.get("Type") == "volume" and m.get("Name")}


def _section(title: str, items: list[str]) -> str:
    if not items:
        return f"{title}: none now."
    counted = [i for i in items if not i.startswith("about ")]
    return f"{title} ({len(counted)}): {bounded_list(items)}."


def image_prune_question(eng: Engine, arguments: dict[str, Any]) -> str:
    flt = normalise_filters(arguments.get("filters")) or {}
    everything = bool(arguments.get("all")) or (bool(flt.get("dangling")) and not _yes(flt.get("dangling")))
    used = {r["ImageID"] for r in eng.api.containers(all=True)}
    what = "every image no container uses" if everything else "dangling (untagged) images no container uses"
    return "\n".join(
        [
            f"Prune images: remove {what}{_filtered(flt)}?",
            _section("Would be removed now", _image_candidates(eng, flt, everything, used)),
            "Their unused parent layers go with them; an image comes back only by pulling or building it again.",
        ]
    )


def volume_prune_question(eng: Engine, arguments: dict[str, Any]) -> str:
    flt = normalise_filters(arguments.get("filters")) or {}
    used = _used_volumes(eng.api.containers(all=True))
    named_too = bool(arguments.get("all")) or _yes(flt.get("all"))
    what = "volumes, named ones too (all=true)," if named_too else "anonymous volumes (named ones are kept)"
    return "\n".join(
        [
            f"Prune volumes: remove the {what} no container uses{_filtered(flt)}?",
            _section("Would be removed now", _volume_candidates(eng, flt, used, named_too)),
            "Lost for good: every file in them.",
        ]
    )


def system_prune_question(eng: Engine, arguments: dict[str, Any]) -> str:
    flt = normalise_filters(arguments.get("filters")) or {}
    everything = bool(arguments.get("all"))
    rows = eng.api.containers(all=True)
    gone = [r for r in rows if r.get("State") in _STOPPED and _matches(r.get("Labels"), r.get("Created"), flt)]
    kept = [r for r in rows if r not in gone]
    networks = []
    for n in eng.api.networks():
        if n.get("Name") in ("bridge", "host", "none") or n.get("Scope") == "swarm":
            continue
        detail = eng.api.inspect_network(n["Id"])
        if not detail.get("Containers") and _matches(detail.get("Labels"), None, flt):
            networks.append(quote(detail["Name"]))
    lines = [
        f"Prune the engine{_filtered(flt)}: stopped containers, unused networks, "
        f"{'every unused image' if everything else 'dangling images'}"
        f"{', unused anonymous volumes' if arguments.get('volumes') else ''} and the build cache?",
        "Would be removed now:",
        _section("- containers (with their writable layers)", sorted(quote(r["Names"][0].lstrip("/")) for r in gone)),
        _section("- networks", sorted(networks)),
        _section("- images", _image_candidates(eng, flt, everything, {r["ImageID"] for r in kept})),
    ]
    if arguments.get("volumes"):
        vflt = {k: v for k, v in flt.items() if k != "until"}
        lines.append(
            _section("- volumes (every file in them)", _volume_candidates(eng, vflt, _used_volumes(kept), False))
        )
    lines.append(
        "- build cache: not touched (filters were given)."
        if flt
        else f"- build cache: {'all of it' if everything else 'the unused entries'}."
    )
    return "\n".join(lines)


def _filtered(flt: dict[str, list[str]]) -> str:
    return f" matching {quote(flt)}" if flt else ""
