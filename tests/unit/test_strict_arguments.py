"""The SDK shape `tools/strict_arguments.py` leans on; fails loudly when the SDK changes it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mcp_docker.config import Settings
from mcp_docker.server import create_server


def test_registered_tool_refuses_unknown_arguments_through_the_sdk_model() -> None:
    server = create_server(Settings())
    tool = server._tool_manager.get_tool("docker_list_containers")
    assert tool is not None
    metadata = tool.fn_metadata
    assert tool.parameters["additionalProperties"] is False
    assert "title" not in tool.parameters
    # The SDK validates arguments with `fn_metadata.validate_arguments` -> `arg_model.model_validate`.
    assert metadata.validate_arguments({"all": True})["all"] is True
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        metadata.validate_arguments({"all": True, "privileged": True})
    # Other tools' models are untouched by one tool's setting (each has its own model class).
    other = server._tool_manager.get_tool("docker_inspect_container")
    assert other is not None and other.fn_metadata.arg_model is not metadata.arg_model
