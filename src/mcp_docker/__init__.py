"""mcp-docker: a Model Context Protocol server for the Docker engine."""

# Kept equal to pyproject.toml's version by tests/unit/test_version.py (a literal: importlib.metadata
# costs tens of milliseconds at every start).
__version__ = "0.1.0"
