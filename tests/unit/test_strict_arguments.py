"""Strict arguments and compacted schemas on the SDK's registered tools (`tools/strict_arguments.py`)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mcp_docker.config import Settings
from mcp_docker.sdk_internals import argument_model, published_schemas, registered_tool
from mcp_docker.server import create_server


def test_registered_tool_refuses_unknown_arguments_through_the_sdk_model() -> None:
    server = create_server(Settings())
    tool = registered_tool(server, "docker_list_containers")
    assert tool is not None
    metadata = tool.fn_metadata
    parameters, _ = published_schemas(tool)
    assert parameters["additionalProperties"] is False
    assert "title" not in parameters
    # The SDK validates arguments with `fn_metadata.validate_arguments` -> `arg_model.model_validate`.
    assert metadata.validate_arguments({"all": True})["all"] is True
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        metadata.validate_arguments({"all": True, "privileged": True})
    # Other tools' models are untouched by one tool's setting (each has its own model class).
    other = registered_tool(server, "docker_inspect_container")
    assert other is not None and argument_model(other) is not argument_model(tool)


def test_a_tool_that_does_not_return_a_model_is_refused_at_registration() -> None:
    """Results are validated against the returned model (set after an unstructured registration):
    a tool declared to return anything else fails loudly, never serves without validation."""
    from mcp_docker.safety.levels import Level
    from mcp_docker.tools.declare import ToolSpec

    def docker_example(ctx: object) -> dict[str, int]:
        return {}

    spec = ToolSpec(name="docker_example", fn=docker_example, level=Level.SAFE, toolset="system", title="Example")
    with pytest.raises(TypeError, match="docker_example must be declared to return a pydantic model"):
        spec.result_model()
