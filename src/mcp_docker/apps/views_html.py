"""The HTML of each view: one self-contained document, the shared script and style inlined at load time."""

from __future__ import annotations

import functools
import html
import re
from importlib import resources

from mcp.server.apps import ResourceCsp

CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
    "connect-src 'none'; font-src 'none'; frame-src 'none'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'"
)
"""What every view may do: run its own inline script and style, nothing from the network."""

RESOURCE_CSP = ResourceCsp(connect_domains=[], resource_domains=[], frame_domains=[], base_uri_domains=[])
"""The same promise in the spec's form (`_meta.ui.csp`): no origin at all is needed."""


def _read(name: str) -> str:
    return resources.files("mcp_docker.apps").joinpath("views", name).read_text(encoding="utf-8")


_HEAD = re.compile(r"\A<!--HEAD ([^>]*)-->\n")
"""A view file starts with `<!--HEAD title-->`, which becomes the document's opening and head."""


def _head(title: str) -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
    )


@functools.cache
def view_html(name: str) -> str:
    """The document for view `name` (containers, logs, stats, compose, confirm)."""
    text = _read(f"{name}.html")
    match = _HEAD.match(text)
    if match is None:
        raise ValueError(f"views/{name}.html must start with <!--HEAD title-->")
    return (
        (_head(match.group(1)) + text[match.end() :])
        .replace("/*BASE_CSS*/", _read("base.css"))
        .replace("/*BRIDGE_JS*/", _read("bridge.js"))
    )
