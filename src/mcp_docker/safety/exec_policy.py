"""Commands: split like a shell would split words, never run by one; an explicit shell is visible."""

from __future__ import annotations

import os
import re

from mcp_docker.config import Settings
from mcp_docker.utils.errors import UnsafeOperation

SHELLS = {"sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish"}

_SHELL_CHARS = set(";|&<>\n`")


def shell_syntax(command: str) -> str | None:
    """The first piece of shell syntax in `command` outside single quotes, or None.

    Commands are split like a shell would split words, but never run by one: `;`, `|`, `&`, `<`, `>`,
    a newline, backticks, `$(...)`, `${...}` and `$VAR` would reach the program as literal text, so a
    string that uses them is refused instead of being run with a meaning nobody intended.
    """
    quote: str | None = None
    escaped = False
    for i, char in enumerate(command):
        if escaped:
            escaped = False
            continue
        if char == "\\" and quote != "'":
            escaped = True
            continue
        if quote == "'":
            if char == "'":
                quote = None
            continue
        if char == "$" and i + 1 < len(command) and (command[i + 1] in "({" or command[i + 1].isalpha()):
            return command[i : i + 2]
        if char == "`":
            return char
        if quote == '"':
            if char == '"':
                quote = None
            continue
        if char in "'\"":
            quote = char
        elif char in _SHELL_CHARS:
            return char
    return None


def check_command_string(command: str) -> None:
    found = shell_syntax(command)
    if found is not None:
        raise UnsafeOperation(
            f"Refused: the command string uses shell syntax ({found!r}), but commands are never run by a "
            "shell, so it would not do what it says. Nothing was run.",
            "Pass the program and its arguments as a list; if a shell is really wanted, pass it "
            "explicitly as a list, e.g. ['sh', '-c', '...'] (allowed unless MCP_DOCKER_ALLOW_EXEC_SHELL=false).",
        )


def explicit_shell(argv: list[str]) -> bool:
    """True when argv runs a shell with a command string (`sh -c`, `/bin/bash -ec`, `busybox sh -c`)."""
    for i, arg in enumerate(argv):
        if os.path.basename(arg) in SHELLS and any(re.fullmatch(r"-[a-z]*c[a-z]*", a) for a in argv[i + 1 :]):
            return True
    return False


def check_exec_request(argv: list[str], settings: Settings) -> None:
    """Exec runs argv directly (never through a shell on the server); an explicit shell is the caller's
    visible choice, refused only when the operator says so."""
    if explicit_shell(argv) and not settings.allow_exec_shell:
        raise UnsafeOperation(
            f"Refused: running a shell command string ({argv[:2]}...). Nothing was run.",
            "Pass the program and its arguments directly, or ask the operator to set MCP_DOCKER_ALLOW_EXEC_SHELL=true.",
        )
