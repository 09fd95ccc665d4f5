"""Smaller tool schemas for tools/list: a model's context is a budget (see tests/e2e/test_budget.py).

Input schemas keep every parameter, type, description, default and constraint, minus pydantic's
generated titles, `default: null` and the docstrings of nested models; an optional parameter (not
required, no default) is published without its `null` alternative, since leaving it out says the same
(the server still accepts an explicit null); other `anyOf [T, null]` are written as `type: [T, "null"]`.

Output schemas name each top-level field and nothing more: the field names tell a model what comes
back, the structured content itself carries the values, and docs/API.md gives every field's type and
meaning. The server still validates every result against the full pydantic model.
"""

from __future__ import annotations

from typing import Any

_NAMED_CHILDREN = ("properties", "$defs", "patternProperties")


def compact_input(schema: Any, _names: bool = False) -> Any:
    """Drop generated titles; fold optional types; keep descriptions, defaults and constraints."""
    if isinstance(schema, list):
        return [compact_input(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if _names:  # a mapping of property names to schemas: every key is a name, keep them all
        return {name: compact_input(sub) for name, sub in schema.items()}
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if (key == "title" and isinstance(value, str)) or (key == "default" and value is None):
            continue
        out[key] = compact_input(value, _names=key in _NAMED_CHILDREN)
    any_of = out.get("anyOf")
    if isinstance(any_of, list) and len(any_of) == 2 and {"type": "null"} in any_of:
        other = next(item for item in any_of if item != {"type": "null"})
        if isinstance(other, dict) and isinstance(other.get("type"), str):
            merged = {k: v for k, v in out.items() if k != "anyOf"}
            merged.update(other)
            merged["type"] = [other["type"], "null"]
            return merged
    return out


def _without_null(prop: dict[str, Any]) -> dict[str, Any]:
    """An optional property's schema without its null alternative (leaving it out is how to say null)."""
    if "default" in prop:
        return prop
    kind = prop.get("type")
    if isinstance(kind, list) and "null" in kind:
        rest = [k for k in kind if k != "null"]
        return {**prop, "type": rest[0] if len(rest) == 1 else rest}
    options = prop.get("anyOf")
    if isinstance(options, list) and {"type": "null"} in options:
        rest = [o for o in options if o != {"type": "null"}]
        if len(rest) == 1:
            return {**{k: v for k, v in prop.items() if k != "anyOf"}, **rest[0]}
        return {**prop, "anyOf": rest}
    return prop


def optional_without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """Apply `_without_null` to the optional properties of an object schema and of its nested models
    (whose own docstrings are dropped: the parameter that uses them says what they are for)."""
    required = set(schema.get("required", []))
    out = dict(schema)
    if isinstance(schema.get("properties"), dict):
        out["properties"] = {
            name: prop if name in required or not isinstance(prop, dict) else _without_null(prop)
            for name, prop in schema["properties"].items()
        }
    if isinstance(schema.get("$defs"), dict):
        out["$defs"] = {
            name: optional_without_null({k: v for k, v in sub.items() if k != "description"})
            for name, sub in schema["$defs"].items()
        }
    return out


def shallow_output(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    """The top-level fields, by name (an empty schema each: any value validates)."""
    if not schema:
        return schema
    return {"type": "object", "properties": {name: {} for name in schema.get("properties") or {}}}
