"""The MCP Bundle's entry point: the `mcp-docker` command of the bundled project.

A host that runs the entry point itself (`uv run server/main.py`) gets the same server as the
manifest's `mcp_config` (`uv run ... mcp-docker`). It lives outside `src/mcp_docker/` on purpose: a
script run from inside the package would put that folder first on `sys.path`, where the package's own
`docker/` would hide the docker SDK.
"""

import sys

from mcp_docker.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
