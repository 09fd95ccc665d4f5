"""Parameter types and helpers that several tool modules share: one definition each."""

import re
import shlex
from typing import Annotated

from pydantic import Field

from mcp_docker.safety.exec_policy import check_command_string
from mcp_docker.utils.errors import ValidationError
from mcp_docker.utils.output import clean_text

MANAGED_LABEL = "mcp-docker.managed"
"""The label on every object the server creates."""

ContainerRef = Annotated[str, Field(description="Name, id or id prefix.", min_length=1)]
Filters = Annotated[
    dict[str, str | list[str]] | None,
    Field(description="Engine filters, e.g. {'label': ['app=web']}."),
]
Limit = Annotated[int, Field(description="Max items.", ge=1, le=1000)]


def normalise_filters(filters: dict[str, str | list[str]] | None) -> dict[str, list[str]] | None:
    if not filters:
        return None
    return {key: value if isinstance(value, list) else [value] for key, value in filters.items()}


def command_argv(command: list[str] | str, what: str) -> list[str]:
    if isinstance(command, str):
        check_command_string(command)
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise ValidationError(f"Cannot split {what} {command!r}: {exc}. Pass a list of arguments.") from None
    else:
        argv = list(command)
    if not argv:
        raise ValidationError(f"The {what} is empty.")
    return argv


_OBJECT_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")


def object_name(name: str, kind: str) -> str:
    """A network or volume name: letters, digits, '_', '.', '-', starting with a letter or digit."""
    if not name or len(name) > 255 or not _OBJECT_NAME.match(name):
        raise ValidationError(
            f"Invalid {kind} name {name!r}: use letters, digits, '_', '.' and '-', starting with a letter or digit."
        )
    return name


def clean_labels(labels: dict[str, str] | None) -> dict[str, str]:
    return {clean_text(k): clean_text(v) for k, v in (labels or {}).items()}
