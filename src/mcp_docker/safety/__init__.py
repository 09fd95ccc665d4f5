"""Everything the server decides about safety, one module per decision.

- `levels`: SAFE / MODERATE / DESTRUCTIVE, the MCP annotations derived from them, and which tools the
  settings offer;
- `confirmation`: asking the user before a destructive call;
- `container_policy`: what a container may ask of the host (privileges, namespaces, devices, mounts);
- `exec_policy`: how commands are split and when a shell is refused;
- `host_paths`: the root policy for every host path (bind mounts, build contexts, copies);
- `compose_policy`: the container policy applied to a resolved Compose project;
- `audit`: the JSON-lines record of state-changing calls.
"""
