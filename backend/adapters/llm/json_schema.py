"""A pydantic model's JSON schema with every ``$ref`` inlined, for APIs that take a self-contained schema.

Bedrock tool ``inputSchema`` and OpenAI ``response_format.json_schema`` accept JSON Schema, but not every model
or server behind them resolves ``$defs`` references; our response models are small and not recursive, so the
references are expanded in place.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model.model_json_schema()`` without ``$defs``/``$ref`` (raises ValueError on a recursive model)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def expand(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                key = ref.removeprefix("#/$defs/")
                if key in seen:
                    raise ValueError(f"recursive schema at {key}")
                merged = {**defs[key], **{k: v for k, v in node.items() if k != "$ref"}}
                return expand(merged, (*seen, key))
            return {k: expand(v, seen) for k, v in node.items()}
        if isinstance(node, list):
            return [expand(v, seen) for v in node]
        return node

    result = expand(schema, ())
    assert isinstance(result, dict)
    return result
