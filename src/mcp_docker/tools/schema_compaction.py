"""Smaller tool schemas for tools/list: a model's context is a budget (see tests/e2e/test_budget.py).

Input schemas keep every parameter, type, description and default, minus pydantic's generated
titles and `default: null`, with `anyOf [T, null]` written as `type: [T, "null"]`. Output schemas keep each top-level
field and its JSON type; nested structure is left to the structured content itself (the server
still validates every result against the full pydantic model).
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


def _json_type(prop: dict[str, Any]) -> list[str]:
    if "$ref" in prop:
        return ["object"]
    if "anyOf" in prop:
        types: list[str] = []
        for option in prop["anyOf"]:
            types.extend(t for t in _json_type(option) if t not in types)
        return types
    kind = prop.get("type")
    if isinstance(kind, list):
        return [str(k) for k in kind]
    return [str(kind)] if kind else []


def shallow_output(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    """Top-level fields with their JSON types; no nested definitions."""
    if not schema:
        return schema
    props: dict[str, Any] = {}
    for name, prop in (schema.get("properties") or {}).items():
        types = _json_type(prop)
        props[name] = {"type": types[0] if len(types) == 1 else types} if types else {}
    return {"type": "object", "properties": props}
