"""Schema shapes that today's tools do not publish but a new tool's model may (tools/schema_compaction.py):
an optional reference, unions of several types, nested models without properties, recursive models.
Each compacted schema must validate exactly the values the full one does."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from mcp_docker.tools.schema_compaction import compact_input, inline_and_merge, optional_without_null

VALUES: list[Any] = [None, True, 0, 1.5, "", "x", [], ["a"], [1], {}, {"n": 1}, {"n": "x"}, {"next": {"n": 1}}]


def _same_values(full: dict[str, Any], compacted: dict[str, Any], prop: str) -> None:
    """Wrapped as a required property, every value validates the same against both (an absent value is
    the optional case the compaction is allowed to change)."""

    def wrap(schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {prop: schema["properties"][prop]},
            "required": [prop],
            **({"$defs": schema["$defs"]} if "$defs" in schema else {}),
        }

    before, after = Draft202012Validator(wrap(full)), Draft202012Validator(wrap(compacted))
    for value in VALUES:
        assert before.is_valid({prop: value}) == after.is_valid({prop: value}), value


NODE = {"type": "object", "properties": {"n": {"type": "integer"}}}


def test_an_optional_reference_is_published_without_null() -> None:
    full = {
        "type": "object",
        "properties": {"node": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}], "title": "Node"}},
        "$defs": {"Node": {**NODE, "description": "A node.", "title": "Node"}},
    }
    compacted = compact_input(full)
    assert compacted["properties"]["node"] == {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]}  # kept
    published = optional_without_null(compacted)
    assert published["properties"]["node"] == {"$ref": "#/$defs/Node"}
    assert "description" not in published["$defs"]["Node"]  # the nested model's docstring is dropped
    for value in VALUES[1:]:  # only null (said by leaving the argument out) is no longer accepted
        assert Draft202012Validator({**full, "required": ["node"]}).is_valid({"node": value}) == (
            Draft202012Validator({**published, "required": ["node"]}).is_valid({"node": value})
        )


@pytest.mark.parametrize(
    ("prop", "published"),
    [
        ({"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]},
         {"anyOf": [{"type": "string"}, {"type": "integer"}]}),
        ({"type": ["string", "integer", "null"]}, {"type": ["string", "integer"]}),
        ({"type": "string"}, {"type": "string"}),
        ({"type": ["string", "null"], "default": None}, {"type": ["string", "null"], "default": None}),
    ],
    ids=["union-of-three", "type-list", "not-nullable", "with-default"],
)  # fmt: skip
def test_optional_unions_lose_only_their_null(prop: dict[str, Any], published: dict[str, Any]) -> None:
    out = optional_without_null({"type": "object", "properties": {"p": prop, "r": prop}, "required": ["r"]})
    assert out["properties"]["p"] == published
    assert out["properties"]["r"] == prop  # a required property keeps its null


def test_nested_models_without_properties_keep_their_shape() -> None:
    schema = {"$defs": {"Free": {"type": "object", "description": "Any mapping.", "additionalProperties": True}}}
    assert optional_without_null(schema) == {"$defs": {"Free": {"type": "object", "additionalProperties": True}}}


def test_a_recursive_model_stays_in_defs() -> None:
    node = {"type": "object", "properties": {"n": {"type": "integer"}, "next": {"$ref": "#/$defs/Node"}}}
    full = {"type": "object", "properties": {"root": {"$ref": "#/$defs/Node"}}, "$defs": {"Node": node}}
    # referenced twice (root and itself): kept anyway; the point is the self-reference
    merged = inline_and_merge(full)
    assert merged["$defs"]["Node"] == node and merged["properties"]["root"] == {"$ref": "#/$defs/Node"}
    _same_values(full, merged, "root")


def test_models_that_refer_to_each_other_stay_in_defs() -> None:
    a = {"type": "object", "properties": {"n": {"type": "integer"}, "next": {"$ref": "#/$defs/B"}}}
    b = {"type": "object", "properties": {"next": {"$ref": "#/$defs/A"}}}
    leaf = {"type": "object", "properties": {"n": {"type": "string"}}}
    full = {
        "type": "object",
        "properties": {"root": {"$ref": "#/$defs/A"}, "leaf": {"$ref": "#/$defs/Leaf"}},
        "$defs": {"A": a, "B": b, "Leaf": leaf},
    }
    merged = inline_and_merge(full)
    # A and B are each referenced once, but through each other: inlining would never end
    assert set(merged["$defs"]) == {"A", "B"}
    assert merged["properties"]["leaf"] == leaf  # a model used once and not recursive is written in place
    _same_values(full, merged, "root")
    _same_values(full, merged, "leaf")


def test_a_chain_of_models_is_written_in_place_and_a_union_with_a_reference_stays_a_union() -> None:
    leaf = {"type": "object", "properties": {"n": {"type": "integer"}}}
    outer = {"type": "object", "properties": {"next": {"$ref": "#/$defs/Leaf"}}}
    either = {"anyOf": [{"$ref": "#/$defs/Shared"}, {"type": "string"}]}
    full = {
        "type": "object",
        "properties": {"root": {"$ref": "#/$defs/Outer"}, "a": either, "b": either},
        "$defs": {"Outer": outer, "Leaf": leaf, "Shared": leaf},
    }
    merged = inline_and_merge(full)
    assert merged["properties"]["root"] == {"type": "object", "properties": {"next": leaf}}
    assert merged["properties"]["a"] == either  # a branch without a type: no list of types can say it
    assert set(merged["$defs"]) == {"Shared"}  # used twice: kept once
    for prop in ("root", "a"):
        _same_values(full, merged, prop)
