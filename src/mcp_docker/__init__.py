"""mcp-docker: a Model Context Protocol server for the Docker engine."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mcp-docker")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"
