"""Unknown tool arguments are refused, not dropped, and the published schemas are compacted, on the
SDK's record of each registered tool (reached through `sdk_internals`).

The SDK builds each tool's argument model and its JSON schema at registration. Rather than build a
second, stricter model class and generate its schema again (a third of the registration cost),
the SDK's own model validates with `extra="forbid"` (pydantic's per-call setting) and the published
schema gains `additionalProperties: false`. tests/unit/test_library_shapes.py fails loudly when
the SDK's shape changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from mcp_docker.sdk_internals import (
    argument_model,
    publish_schemas,
    published_schemas,
    registered_tool,
    validate_output_with,
)
from mcp_docker.tools.schema_compaction import (
    compact_input,
    field_names,
    inline_and_merge,
    optional_without_null,
    shallow_output,
)

if TYPE_CHECKING:
    from mcp.server import MCPServer

_validate = BaseModel.model_validate.__func__  # type: ignore[attr-defined]


def _forbidding(cls: type[BaseModel], obj: Any, **kwargs: Any) -> BaseModel:
    kwargs.setdefault("extra", "forbid")
    result: BaseModel = _validate(cls, obj, **kwargs)
    return result


def make_strict(server: MCPServer, name: str, output_model: type[BaseModel] | None = None) -> None:
    """The registered tool `name` refuses arguments it does not take; its schemas are compacted.

    `output_model`: for a tool registered with `structured_output=False` (no output schema generated),
    the model its results are validated against; the published output schema names its fields."""
    tool = registered_tool(server, name)
    if tool is None:  # pragma: no cover - just registered
        return
    model = argument_model(tool)
    model.model_validate = classmethod(_forbidding)  # type: ignore[method-assign,assignment,arg-type]
    parameters, output = published_schemas(tool)
    if output_model is None:  # the SDK generated the full output schema: shrink it
        fields = shallow_output(output)
    else:
        validate_output_with(tool, output_model)
        fields = field_names(output_model)
    # Published schemas only; results are still validated against the full output model.
    publish_schemas(
        tool,
        inline_and_merge(optional_without_null(compact_input({**parameters, "additionalProperties": False}))),
        fields,
    )
