"""What every part of the engine gate shares: the request, the facts it may look up, the refusal, and
the field-by-field walk over a request body against an allow-list.

See `engine_gate.py` for the gate itself and docs/SECURITY.md for the table of allowed fields.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from mcp_docker.config import Settings
from mcp_docker.utils.errors import UnsafeOperation

NEVER = "nothing (it is never allowed)"


class GateRefusal(UnsafeOperation):
    """An engine request the gate refused: `field` is the part of the request refused, `setting` the
    operator setting that would allow it (or `NEVER`). Nothing of the request reached the engine."""

    def __init__(self, what: str, field: str, setting: str = NEVER) -> None:
        self.what = what
        self.field = field
        self.setting = setting
        if setting == NEVER:
            hint = "No setting allows it; leave it out."
        else:
            hint = f"The server's operator can allow it with {setting}; otherwise leave it out."
        super().__init__(f"Refused by mcp-docker: {what} [{field}]. Nothing was sent to the engine.", hint)


@dataclass(frozen=True)
class EngineRequest:
    """One engine API request as it is really sent: method, path without the `/v1.xx` prefix, query
    (every value of every parameter), decoded JSON body (None when there is none)."""

    method: str
    path: str
    query: Mapping[str, list[str]] = field(default_factory=dict)
    body: Any = None
    upgrade: bool = False
    """The request asks for a connection upgrade or hijack (attach, exec start, BuildKit session)."""
    version: str | None = None
    """The API version of the path's `/v1.xx` prefix (None without one)."""

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


class Facts(Protocol):
    """What the gate may look up on the engine (each returns the engine's inspect document, or None
    when the object does not exist)."""

    def container(self, ref: str) -> dict[str, Any] | None: ...
    def network(self, ref: str) -> dict[str, Any] | None: ...
    def volume(self, name: str) -> dict[str, Any] | None: ...
    def service(self, ref: str) -> dict[str, Any] | None: ...
    def info(self) -> dict[str, Any]: ...


Checker = Callable[[Any, str], None]
"""Checks one field's value; the second argument is the field's path in the request (for messages)."""


def is_zero(value: Any) -> bool:
    """null, false, 0, "", [] and {}: what a Go client sends for a field it leaves at its default, so
    the engine must read it as "not asked for"."""
    return value is None or value is False or value == 0 or value == "" or value == [] or value == {}


def check_fields(body: Any, allowed: Mapping[str, Checker | None], where: str) -> None:
    """Every field of `body` must be on `allowed` (None: any value is safe; else its checker runs on a
    value that is not zero). A field not on the list is refused by name, unless its value is zero."""
    if body is None:
        return
    if not isinstance(body, Mapping):
        raise GateRefusal(f"{where} must be an object", where)
    # The engine (Go's encoding/json) matches field names case-insensitively: so does the gate.
    names = {name.lower(): name for name in allowed}
    for key, value in body.items():
        path = f"{where}.{key}"
        name = names.get(str(key).lower())
        if name is None:
            if is_zero(value):
                continue
            raise GateRefusal(f"field {path} is not on the allow-list of fields the server lets through", path)
        checker = allowed[name]
        if checker is not None and not is_zero(value):
            checker(value, path)


def only(*values: Any, setting: str = NEVER, what: str = "") -> Checker:
    """A checker that allows only the given values (strings compared case-insensitively)."""
    normal = {v.lower() if isinstance(v, str) else v for v in values}

    def check(value: Any, path: str) -> None:
        probe = value.strip().lower() if isinstance(value, str) else value
        if probe not in normal:
            shown = ", ".join(repr(v) for v in values)
            raise GateRefusal(f"{what or path} = {value!r} (allowed by default: {shown})", path, setting)

    return check


def refused(what: str, setting: str = NEVER) -> Checker:
    """A checker that refuses any non-zero value."""

    def check(value: Any, path: str) -> None:
        raise GateRefusal(f"{what}: {value!r}"[:300], path, setting)

    return check


def flag(what: str, allowed: Callable[[Settings], bool], setting: str, settings: Settings) -> Checker:
    """A checker for a field allowed only when an operator setting says so."""

    def check(value: Any, path: str) -> None:
        if not allowed(settings):
            raise GateRefusal(f"{what}: {value!r}"[:300], path, setting)

    return check


def each(inner: Checker) -> Checker:
    """Apply `inner` to every item of a list."""

    def check(value: Any, path: str) -> None:
        if not isinstance(value, list):
            raise GateRefusal(f"{path} must be a list", path)
        for i, item in enumerate(value):
            inner(item, f"{path}[{i}]")

    return check


def fields(allowed: Mapping[str, Checker | None]) -> Checker:
    """A checker for a nested object with its own allow-list."""

    def check(value: Any, path: str) -> None:
        check_fields(value, allowed, path)

    return check
