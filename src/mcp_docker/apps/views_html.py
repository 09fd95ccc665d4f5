"""The HTML of each view: one self-contained document, the shared script and style inlined at load time."""

from __future__ import annotations

import functools
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


@functools.cache
def view_html(name: str) -> str:
    """The document for view `name` (containers, logs, stats, compose)."""
    html = _read(f"{name}.html")
    return (
        html.replace("<!--CSP-->", f'<meta http-equiv="Content-Security-Policy" content="{CSP}">')
        .replace("/*BASE_CSS*/", _read("base.css"))
        .replace("/*BRIDGE_JS*/", _read("bridge.js"))
    )
