"""Smaller tool schemas for tools/list: a model's context is a budget (see tests/e2e/test_budget.py).

Input schemas keep every parameter, type, description, default and constraint, minus pydantic's
generated titles, `default: null`, the docstrings of nested models and each description's final full
stop; an optional parameter (not required, no default) is published without its `null` alternative,
since leaving it out says the same (the server still accepts an explicit null); other `anyOf [T, null]`
are written as `type: [T, "null"]`. A nested model used once is written in place (no `$defs`/`$ref`),
and an `anyOf` whose branches differ by type (a string or a list of strings) is written as one schema
with a list of types: each keyword there applies to one type only (`items` to arrays,
`additionalProperties` to objects), so the same values validate. tests/unit/test_schema_compaction.py
checks this against the full schemas with sample values.

Output schemas name each top-level field, as `required` (each result has them all: structured content
is the whole model dumped, null fields included), and nothing more: the field names tell a model what
comes back, the structured content itself carries the values, and docs/API.md gives every field's type
and meaning. The server still validates every result against the full pydantic model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

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
        if key == "description" and isinstance(value, str) and value.endswith(".") and not value.endswith(".."):
            out[key] = value[:-1]  # a parameter's description is a phrase: its full stop says nothing
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


_KEYWORDS_OF = {
    "array": {"items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains"},
    "object": {"properties", "additionalProperties", "required", "patternProperties", "propertyNames"},
    "string": {"minLength", "maxLength", "pattern", "format"},
    "number": {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"},
    "boolean": set(),
    "null": set(),
}
_FAMILY = {"integer": "number"}


def _typed_union(branches: list[Any]) -> dict[str, Any] | None:
    """`anyOf` branches as one schema with a list of types, when that validates the same values:
    each branch is one type (no two of the same family) with only keywords that apply to that type."""
    merged: dict[str, Any] = {}
    types: list[str] = []
    families: set[str] = set()
    for branch in branches:
        kind = branch.get("type") if isinstance(branch, dict) else None
        if not isinstance(kind, str) or kind not in _KEYWORDS_OF.keys() | _FAMILY.keys():
            return None
        family = _FAMILY.get(kind, kind)
        rest = {k: v for k, v in branch.items() if k != "type"}
        if family in families or not set(rest) <= _KEYWORDS_OF[family]:
            return None
        families.add(family)
        types.append(kind)
        merged.update(rest)
    return {"type": types, **merged}


def _merge_unions(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_merge_unions(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _merge_unions(value) for key, value in schema.items()}
    options = out.get("anyOf")
    if isinstance(options, list) and not {"type", "$ref"} & out.keys():
        union = _typed_union(options)
        if union is not None and not (union.keys() - {"type"}) & out.keys():
            return {**{k: v for k, v in out.items() if k != "anyOf"}, **union}
    return out


def _references(schema: Any, counts: dict[str, int]) -> None:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            counts[ref] = counts.get(ref, 0) + 1
        for value in schema.values():
            _references(value, counts)
    elif isinstance(schema, list):
        for item in schema:
            _references(item, counts)


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    if isinstance(schema, list):
        return [_inline(item, defs) for item in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref in defs:
        return {**_inline(defs[ref], defs), **{k: v for k, v in schema.items() if k != "$ref"}}
    return {key: _inline(value, defs) for key, value in schema.items()}


def inline_and_merge(schema: dict[str, Any]) -> dict[str, Any]:
    """Nested models referenced once written in place, then `anyOf` unions of types merged."""
    defs = schema.get("$defs")
    out = dict(schema)
    if isinstance(defs, dict):
        counts: dict[str, int] = {}
        _references(schema, counts)
        once = {
            f"#/$defs/{name}": sub
            for name, sub in defs.items()
            if counts.get(f"#/$defs/{name}") == 1 and not _refers_to(sub, f"#/$defs/{name}", defs)
        }
        kept = {name: sub for name, sub in defs.items() if f"#/$defs/{name}" not in once}
        out = {k: _inline(v, once) for k, v in schema.items() if k != "$defs"}
        if kept:
            out = {"$defs": {name: _inline(sub, once) for name, sub in kept.items()}, **out}
    merged: dict[str, Any] = _merge_unions(out)
    return merged


def _refers_to(schema: Any, ref: str, defs: dict[str, Any], seen: frozenset[str] = frozenset()) -> bool:
    """Whether `schema` reaches `ref` through its own references (a recursive model stays in `$defs`)."""
    counts: dict[str, int] = {}
    _references(schema, counts)
    for target in counts:
        if target == ref:
            return True
        name = target.removeprefix("#/$defs/")
        if target not in seen and name in defs and _refers_to(defs[name], ref, defs, seen | {target}):
            return True
    return False


def shallow_output(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    """The top-level fields, by name, as `required`: every one is in each result (structured content is
    the whole model dumped, null fields included) and any value validates."""
    if not schema:
        return schema
    names = list(schema.get("properties") or {})
    return {"type": "object", "required": names} if names else {"type": "object"}


def field_names(model: type[BaseModel]) -> dict[str, Any]:
    """`shallow_output` of `model`'s JSON schema, read off its fields without generating that schema."""
    names = [field.alias or name for name, field in model.model_fields.items()]
    return {"type": "object", "required": names} if names else {"type": "object"}
