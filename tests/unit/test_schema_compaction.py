"""The published schemas say the same as the full ones (tools/schema_compaction.py): the same values
validate, every output field is named; checked on every tool of every toolset, with no engine."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel

from mcp_docker.config import TOOLSETS, Settings
from mcp_docker.server import create_server
from mcp_docker.tools.schema_compaction import compact_input, inline_and_merge, optional_without_null

SAMPLES: list[Any] = [
    None,
    True,
    0,
    1,
    -1,
    1.5,
    "",
    "x",
    "host",
    [],
    ["a"],
    ["a", 1],
    [1],
    {},
    {"a": "b"},
    {"a": 1},
    {"a": None},
    {"a": ["b"]},
    {"a": [1]},
    {"a": {"bind": "/x"}},
    {"a": {"bind": "/x", "mode": "ro"}},
    {"a": {"bind": 1}},
    {"a": {"mode": "ro"}},
    {"a": {"bind": "/x", "other": 1}},
    [{"target": "/x"}],
    [{"target": ""}],
    [{"type": "bind", "source": "/h", "target": "/x", "read_only": True}],
    [{"type": "nfs", "target": "/x"}],
    [{"target": "/x", "driver_opts": {"o": "size=1m"}}],
    [{"target": "/x", "driver_opts": {"o": 1}}],
    [{"target": "/x", "other": 1}],
    [{}],
    ["a", {"target": "/x"}],
]
"""Values of every shape the tools take (and wrong ones): strings, numbers, lists, mappings, mounts."""


def _server_tools() -> dict[str, Any]:
    server = create_server(Settings(toolsets=list(TOOLSETS), destructive="confirm"))
    return {t.name: t for t in server._tool_manager.list_tools()}


TOOLS = _server_tools()


def _before_merge(tool: Any) -> dict[str, Any]:
    """The published schema as it was before nested models were inlined and type unions merged."""
    raw = tool.fn_metadata.arg_model.model_json_schema(by_alias=True)
    before: dict[str, Any] = optional_without_null(compact_input({**raw, "additionalProperties": False}))
    return before


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_each_parameter_accepts_the_same_values(name: str) -> None:
    tool = TOOLS[name]
    before = _before_merge(tool)
    published = tool.parameters
    assert published == inline_and_merge(before)
    assert set(published["properties"]) == set(before["properties"])  # no parameter lost
    assert published.get("required", []) == before.get("required", [])
    assert published["additionalProperties"] is False
    defs = before.get("$defs", {})
    for prop, schema in before["properties"].items():
        full = Draft202012Validator({**schema, "$defs": defs})
        small = Draft202012Validator(published["properties"][prop])
        for value in SAMPLES:
            assert full.is_valid(value) == small.is_valid(value), (prop, value)


def test_the_create_container_forms_are_written_in_place() -> None:
    """volumes (list, mapping of strings or bind objects) and mounts take what they took, without $defs."""
    schema = TOOLS["docker_create_container"].parameters
    assert "$defs" not in schema and "$ref" not in str(schema)
    volumes = Draft202012Validator(schema["properties"]["volumes"])
    assert volumes.is_valid(["data:/data:ro"]) and volumes.is_valid({"data": "/data"})
    assert volumes.is_valid({"data": {"bind": "/data", "mode": "ro"}})
    assert not volumes.is_valid({"data": {"mode": "ro"}})  # bind is required
    assert not volumes.is_valid([{"bind": "/data"}])  # list items are strings
    mounts = Draft202012Validator(schema["properties"]["mounts"])
    assert mounts.is_valid([{"type": "tmpfs", "target": "/run"}])
    assert not mounts.is_valid([{"type": "tmpfs"}])  # target is required
    assert not mounts.is_valid([{"target": "/run", "unknown": 1}])


def test_unions_that_keywords_could_blur_stay_unions() -> None:
    """Two numeric branches (their bounds would apply to both) and branches with their own descriptions
    are not merged."""
    numbers = {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "number", "maximum": 0.5}]}
    assert inline_and_merge({"type": "object", "properties": {"n": numbers}})["properties"]["n"] == numbers
    described = {"anyOf": [{"type": "string", "description": "a"}, {"type": "integer"}]}
    assert inline_and_merge({"type": "object", "properties": {"d": described}})["properties"]["d"] == described
    recursive = {
        "type": "object",
        "$defs": {"Node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/Node"}}}},
        "properties": {"root": {"$ref": "#/$defs/Node"}},
    }
    assert inline_and_merge(recursive) == recursive  # a model that refers to itself stays in $defs


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_output_schema_names_every_field_of_the_result_model(name: str) -> None:
    tool = TOOLS[name]
    model = tool.fn_metadata.output_model
    if not (isinstance(model, type) and issubclass(model, BaseModel)):  # an app's helper: a mapping or nothing
        assert name.startswith("docker_app_") and tool.output_schema in (None, {"type": "object"})
        return
    assert tool.output_schema == {"type": "object", "required": list(model.model_fields)}
    # Structured content is `model_dump(mode="json")` (tools/declare.to_result): every field, nulls too.
    assert all(not field.exclude for field in model.model_fields.values())


@pytest.mark.parametrize("name", sorted(n for n in TOOLS if not n.startswith("docker_app_")))
def test_output_model_is_the_one_the_sdk_would_derive(name: str) -> None:
    """Tools are registered unstructured (no full output schema generated) and given their output model
    afterwards: it is the model the SDK derives from the return annotation, and the published field
    list is what shrinking the SDK's full schema would give."""
    from mcp.server.mcpserver.utilities.func_metadata import func_metadata

    from mcp_docker.tools.schema_compaction import field_names, shallow_output

    tool = TOOLS[name]
    derived = func_metadata(tool.fn, skip_names=["ctx", *tool.resolved_params], structured_output=True)
    assert tool.fn_metadata.output_model is derived.output_model
    assert tool.fn_metadata.wrap_output is derived.wrap_output is False
    assert tool.output_schema == field_names(derived.output_model)
    assert field_names(derived.output_model) == shallow_output(derived.output_schema)
