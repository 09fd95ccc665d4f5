"""Start-up stays light: building the server imports neither docker-py nor its transports.

docker-py pulls in requests, urllib3 and paramiko (its ssh transport), about 0.5 s on a loaded
2-core machine; it is imported on the first engine call (the start-up benchmark,
tests/performance/startup_bench.py, measures the rest). A module-level `import docker` anywhere on
the start-up path (tools, apps, resources, safety) fails this test.
"""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from typing import Any

import pytest

HEAVY = ("docker", "paramiko", "requests", "urllib3", "yaml", "re2")  # yaml, re2: on the first Compose call, grep
PROGRAM = f"""
import sys
from typing import Any

import pytest
from mcp_docker.config import Settings
from mcp_docker.server import create_server
create_server(Settings())
loaded = [m for m in {HEAVY!r} if m in sys.modules]
assert not loaded, f"imported at start-up: {{loaded}}"
"""


def test_building_the_server_imports_no_engine_library() -> None:
    env = {**os.environ, "MCP_DOCKER_LOG_LEVEL": "WARNING"}
    every = "containers,images,networks,volumes,system,compose,files,swarm"
    for toolsets in ("", every):  # the default toolsets, and every toolset
        run_env = {**env, "MCP_DOCKER_TOOLSETS": toolsets} if toolsets else env
        done = subprocess.run([sys.executable, "-c", PROGRAM], env=run_env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]


def test_registration_generates_no_output_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK would generate each tool's full nested output schema at registration (half its cost);
    this server publishes only the field names, so tools are registered unstructured and given their
    output model after (`sdk_internals.validate_output_with`): only argument schemas are generated."""
    from pydantic.json_schema import GenerateJsonSchema

    from mcp_docker.config import TOOLSETS, Settings
    from mcp_docker.server import create_server
    from mcp_docker.tools import all_tools

    titles: list[str] = []
    generate = GenerateJsonSchema.generate

    def counting(self: GenerateJsonSchema, schema: Any, mode: Any = "validation") -> Any:
        result = generate(self, schema, mode)
        titles.append(str(result.get("title")))
        return result

    monkeypatch.setattr(GenerateJsonSchema, "generate", counting)
    create_server(Settings(toolsets=list(TOOLSETS)))
    outputs = {spec.result_model().__name__ for spec in all_tools().values()}
    assert len(titles) >= len(outputs)  # the argument schemas were generated (and counted)
    assert not outputs & set(titles), sorted(outputs & set(titles))


def test_tools_and_their_models_carry_no_string_annotations() -> None:
    """Annotations written as strings (`from __future__ import annotations`) are compiled and evaluated
    at start: by pydantic for every field of every model class, by the SDK for every tool parameter
    (three times each). Written as objects they cost nothing more than the import; so the tool and model
    modules do without the future import. Only a model's reference to itself stays a string."""
    from pydantic import BaseModel

    from mcp_docker.config import TOOLSETS, Settings
    from mcp_docker.server import create_server
    from mcp_docker.tools import all_tools

    create_server(Settings(toolsets=list(TOOLSETS)))
    found: list[str] = []
    for spec in all_tools().values():
        for fn in (spec.fn, spec.fn_without_token):
            if fn is None:
                continue
            signature = inspect.signature(fn)
            annotations = [p.annotation for p in signature.parameters.values()] + [signature.return_annotation]
            found += [f"{spec.name}: {a!r}" for a in annotations if isinstance(a, str)]
    models: list[type[BaseModel]] = []
    pending = [BaseModel]
    while pending:
        for sub in pending.pop().__subclasses__():
            if sub not in models:
                models.append(sub)
                pending.append(sub)
    ours = [m for m in models if m.__module__.startswith("mcp_docker.")]
    assert len(ours) > 50  # the tools' models were found (and checked)
    for model in ours:
        for name, annotation in vars(model).get("__annotations__", {}).items():
            if isinstance(annotation, str) and model.__name__ not in annotation:
                found.append(f"{model.__module__}.{model.__name__}.{name}: {annotation!r}")
    assert not found, found
