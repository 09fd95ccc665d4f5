"""Validators for what a model passes in: names, references, ports, sizes. Pure functions, clear errors."""

from __future__ import annotations

import re

from mcp_docker.utils.errors import ValidationError

_CONTAINER_NAME = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
# Docker's reference grammar, simplified: [registry[:port]/]path[:tag][@digest]
_IMAGE_REF = re.compile(
    r"^(?:(?P<registry>localhost(?::\d+)?|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+(?::\d+)?|[a-zA-Z0-9-]+:\d+)/)?"
    r"(?P<path>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}))?$"
)
_IMAGE_ID = re.compile(r"^(sha256:)?[0-9a-f]{12,64}$")
_PORT = re.compile(r"^(\d{1,5})(?:-(\d{1,5}))?(?:/(tcp|udp|sctp))?$")
_MEMORY = re.compile(r"^(\d+(?:\.\d+)?)\s*([bkmgt]?)(?:i?b)?$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def container_name(name: str) -> str:
    if not name or len(name) > 253 or not _CONTAINER_NAME.match(name):
        raise ValidationError(
            f"Invalid container name {name!r}: use letters, digits, '_', '.' and '-', starting with a letter or digit."
        )
    return name.lstrip("/")


def image_reference(ref: str) -> str:
    """Check an image reference (`name[:tag][@digest]`, with an optional registry) or an image id."""
    ref = ref.strip()
    if _IMAGE_ID.match(ref) or (len(ref) <= 512 and _IMAGE_REF.match(ref)):
        return ref
    raise ValidationError(
        f"Invalid image reference {ref!r}: expected e.g. 'nginx', 'nginx:1.27', "
        "'registry.example.com:5000/team/app:v1' or an image id."
    )


def split_reference(ref: str) -> tuple[str, str | None]:
    """`repo[:tag]` into (repo, tag); a registry port is not a tag; a digest stays with the repo."""
    if "@" in ref:
        return ref, None
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        return ref[:colon], ref[colon + 1 :]
    return ref, None


def port_number(value: int | str, what: str = "port") -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError(f"Invalid {what} {value!r}: expected a number from 1 to 65535.") from None
    if not 1 <= number <= 65535:
        raise ValidationError(f"Invalid {what} {value!r}: expected a number from 1 to 65535.")
    return number


def container_port(spec: str | int) -> str:
    """`80`, `80/tcp`, `53/udp` or a range `8000-8010/tcp`; returned as `N[/proto]`."""
    text = str(spec).strip().lower()
    match = _PORT.match(text)
    if not match:
        raise ValidationError(f"Invalid container port {spec!r}: expected e.g. '80', '80/tcp' or '53/udp'.")
    port_number(match.group(1), "container port")
    if match.group(2):
        port_number(match.group(2), "container port")
    return text


def host_binding(value: int | str | None) -> tuple[str, int | None]:
    """A host side of a port mapping: `8080`, `'127.0.0.1:8080'`, `'0.0.0.0:8080'`, or None (any port).

    Without an address the port is published on 127.0.0.1 only: publishing on every interface must
    be asked for explicitly (`'0.0.0.0:8080'`).
    """
    if value is None or value == "":
        return "127.0.0.1", None
    if isinstance(value, int):
        return "127.0.0.1", port_number(value, "host port")
    text = value.strip()
    host, sep, port = text.rpartition(":")
    if not sep:
        return "127.0.0.1", port_number(text, "host port")
    host = host.strip("[]")
    if not host:
        host = "127.0.0.1"
    return host, (port_number(port, "host port") if port else None)


def memory_bytes(value: str | int) -> int:
    """`512m`, `1g`, `1.5GiB`, `1048576` → bytes."""
    if isinstance(value, int):
        number = value
    else:
        match = _MEMORY.match(value.strip())
        if not match:
            raise ValidationError(f"Invalid memory size {value!r}: expected e.g. '512m', '2g' or bytes.")
        number = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    if number < 6 * 1024 * 1024:
        raise ValidationError(f"Memory size {value!r} is below the engine's minimum of 6 MiB.")
    return number


def restart_policy(value: str) -> dict[str, str | int]:
    """`no`, `always`, `unless-stopped`, `on-failure` or `on-failure:N` → the API's RestartPolicy."""
    name, _, count = value.strip().partition(":")
    if name not in ("no", "always", "unless-stopped", "on-failure"):
        raise ValidationError(
            f"Invalid restart policy {value!r}: use no, always, unless-stopped, on-failure or on-failure:N."
        )
    if count:
        if name != "on-failure" or not count.isdigit():
            raise ValidationError(f"Invalid restart policy {value!r}: only on-failure takes a count (on-failure:3).")
        return {"Name": name, "MaximumRetryCount": int(count)}
    return {"Name": name}


_VOLUME_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")


def container_path(path: str, what: str = "container path") -> str:
    """A path inside a container: absolute, without NUL or newline."""
    if not path.startswith("/") or any(c in path for c in "\x00\n\r"):
        raise ValidationError(f"Invalid {what} {path!r}: expected an absolute path such as '/data'.")
    return path


def volume_name(name: str) -> str:
    """A named volume: letters, digits, '_', '.', '-', at least two characters, starting alphanumeric."""
    if not _VOLUME_NAME.match(name) or len(name) > 255:
        raise ValidationError(
            f"Invalid volume name {name!r}: use letters, digits, '_', '.' and '-' (2+ characters, starting with a "
            "letter or digit); a host path must start with '/'."
        )
    return name


# Arguments that name or locate something (objects, references, paths, users, modes): no control or
# invisible characters at all. Any other argument (commands, environment values, label values...)
# may hold tabs and newlines, but never a NUL; dictionary keys are always names.
NAME_ARGUMENTS = frozenset(
    {
        "container", "image", "volume", "network", "name", "path", "dockerfile", "project_dir", "files",
        "project_name", "services", "service", "node", "task", "repository", "tag", "target", "workdir",
        "working_dir", "user", "platform", "driver", "aliases", "ipv4_address", "network_mode", "pid_mode",
        "ipc_mode", "uts_mode", "userns_mode", "cgroupns", "restart_policy", "mem_limit", "cap_add", "devices",
        "security_opt", "ports", "mounts", "volumes", "since", "until", "host", "secret", "config",
    }
)  # fmt: skip
_NUL = "\x00"
_NAME_BAD = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f"
    "\ufeff\uffa0\ufff9-\ufffb\U000e0000-\U000e0fff]"
)


def check_arguments(arguments: dict[str, object]) -> None:
    """Refuse a NUL byte in any argument, and control or invisible characters in names, references and
    paths (see NAME_ARGUMENTS) and in every dictionary key, before anything reaches the engine."""
    for key, value in arguments.items():
        _check_value(f"argument '{key}'", value, key in NAME_ARGUMENTS)


def _check_value(where: str, value: object, strict: bool) -> None:
    if isinstance(value, str):
        _check_string(where, value, strict)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_value(f"{where} (item {i})", item, strict)
    elif isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str):
                _check_string(f"key {k!r} of {where}", k, strict=True)
            _check_value(f"{where} (key {k!r})", v, strict)


def _check_string(where: str, text: str, strict: bool) -> None:
    if _NUL in text:
        raise ValidationError(
            f"Invalid {where}: it contains a NUL byte (\\x00) at position {text.index(_NUL)}. "
            "Remove it; nothing was sent to the engine."
        )
    if strict:
        bad = _NAME_BAD.search(text)
        if bad is not None:
            char = bad.group(0)
            raise ValidationError(
                f"Invalid {where}: it contains the control or invisible character U+{ord(char):04X} at "
                f"position {bad.start()}, which no name, reference or path may hold. Remove it; nothing was sent "
                "to the engine."
            )
