"""The JSON Schema of the spec language (`archc schema`), generated from the pydantic models.

Editors use it through yaml-language-server (the `# yaml-language-server: $schema=…` line that
opens every zoo spec) for completion, hovers and live errors. It is JSON Schema draft-07, the
draft that server handles best. Every op and built-in block gets its schema from its own model
(arguments, types, bounds, defaults, descriptions), so a new op or block appears here without
an edit; this module only adds what the models cannot say:

- a node is a bare op name or a one-key mapping `op: {arguments}`, and its mapping may also
  carry the structural keys `name`, `from`, `repeat` and `when`;
- any argument value, at any depth of a list (`kernel: [3, $k]`), may be a `$expression`;
- arguments Keras lets you broadcast (`kernel: 3` for `[3, 3]`) accept their short forms,
  found by asking the model's own validator which forms it takes.

What a schema cannot know: the names of blocks defined under `blocks:` (or in the file an
`extends` names). So a node key that is not a built-in op or block is accepted as a possible
user block with any arguments, in files that have `blocks:` or `extends:`; in every other
file nodes must be built-in ops and blocks. A mistyped op in a file with user blocks is left to
`archc check`, which also checks user blocks' parameters, `from` targets and shapes.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, models_json_schema
from pydantic_core import SchemaValidator

from .blocks import BLOCKS
from .grammar import EXPRESSION_REF, NAME_PATTERN, NODE_NAME_PATTERN, STRUCTURAL, STRUCTURAL_KEYS
from .ops import OPS
from .spec.model import PARAM_TYPES, SpecFile

DRAFT = "http://json-schema.org/draft-07/schema#"
DEFS = "#/definitions/"
EXPR = EXPRESSION_REF
assert EXPR["$ref"].startswith(DEFS)
_ANNOTATIONS = ("title", "description", "default", "examples")

# No title or description: editors would show them beside every argument's own on hover.
_EXPRESSION = {
    "$comment": "A $expression over `params` (inside a block also over its parameters), e.g. "
    '`$classes`, `$filters * 4`, `"$max(8, round(c * alpha))"`; see docs/language.md.',
    "type": "string",
    "pattern": r"^\$",
}


class _Draft7(GenerateJsonSchema):
    """pydantic's generator, writing draft-07 arrays and the short forms of broadcast args."""

    schema_dialect = DRAFT

    def tuple_schema(self, schema: Any) -> JsonSchemaValue:
        out = super().tuple_schema(schema)
        prefix = out.pop("prefixItems", None)  # draft 2020-12; draft-07 says `items: [...]`
        if prefix is None:
            return out
        if "items" not in out and all(p == prefix[0] for p in prefix):
            out["items"] = prefix[0]  # fixed length, one item type: minItems = maxItems
        else:
            out["additionalItems"] = out.pop("items", False)
            out["items"] = prefix
        return out

    def dict_schema(self, schema: Any) -> JsonSchemaValue:
        out = super().dict_schema(schema)
        if "patternProperties" in out:  # dict[Name, X]: a key that is no Name is refused too
            out.setdefault("additionalProperties", False)
        return out

    def function_before_schema(self, schema: Any) -> JsonSchemaValue:
        """A before-validator takes more than its result's schema says (`kernel: 3` for
        [3, 3]); where the model names no input type, offer every shorter nesting of the
        result that the validator itself accepts."""
        if self.mode == "validation" and schema.get("json_schema_input_schema"):
            return super().function_before_schema(schema)
        full = self.generate_inner(schema["schema"])
        forms = list(self._broadcast_forms(schema))
        return {"anyOf": [*forms, full]} if forms else full

    def _broadcast_forms(self, schema: Any) -> Iterator[JsonSchemaValue]:
        dims, leaf = [], schema["schema"]
        while leaf.get("type") == "tuple" and "variadic_item_index" not in leaf:
            items = leaf["items_schema"]
            if not items or any(i != items[0] for i in items):
                break
            dims.append(len(items))
            leaf = items[0]
        sample = _sample(leaf)
        if not dims or sample is None:
            return
        try:
            validator = SchemaValidator(schema)
        except Exception:  # a schema that needs outer definitions: offer the full form only
            return
        for depth in range(len(dims)):  # 0: a scalar, 1: the innermost list, …
            value, form = sample, self.generate_inner(leaf)
            for n in reversed(dims[len(dims) - depth :]):
                value = [value] * n
                form = {"type": "array", "items": form, "minItems": n, "maxItems": n}
            try:
                validator.validate_python(value)
            except ValidationError:
                continue
            yield form


def _sample(leaf: Any) -> Any:
    """A value the leaf schema accepts, to probe a validator with; None: don't know one."""
    if leaf.get("type") != "int":
        return None
    if "ge" in leaf:
        return leaf["ge"]
    if "gt" in leaf:
        return leaf["gt"] + 1
    return leaf.get("le", 1)


def _inside(schema: JsonSchemaValue) -> JsonSchemaValue:
    """`schema` with every list item (and union branch's items) also taking $expressions."""
    out = dict(schema)
    if "anyOf" in out:
        out["anyOf"] = [_inside(b) for b in out["anyOf"]]
    items = out.get("items")
    if isinstance(items, dict):
        out["items"] = _with_expressions(items)
    elif isinstance(items, list):
        out["items"] = [_with_expressions(i) for i in items]
    extra = out.get("additionalProperties")
    if isinstance(extra, dict):
        out["additionalProperties"] = _with_expressions(extra)
    return out


def _with_expressions(schema: JsonSchemaValue) -> JsonSchemaValue:
    """An argument value: what `schema` accepts, or a $expression, at every level of lists."""
    inner = _inside(schema)
    if not set(inner) - set(_ANNOTATIONS):
        return inner  # accepts anything already
    if set(inner) - set(_ANNOTATIONS) == {"anyOf"}:
        if EXPR not in inner["anyOf"]:
            inner["anyOf"] = [*inner["anyOf"], EXPR]
        return inner
    notes = {k: inner.pop(k) for k in _ANNOTATIONS if k in inner}
    return {**notes, "anyOf": [inner, EXPR]}


def _ref_name(refs: dict[Any, Any], model: type[BaseModel]) -> str:
    return refs[(model, "validation")]["$ref"].removeprefix(DEFS)


def _args(definition: JsonSchemaValue, model: type[BaseModel], what: str) -> JsonSchemaValue:
    """The arguments object of an op or block, each value also taking a $expression."""
    clash = set(model.model_fields) & set(STRUCTURAL)
    if clash:  # a model bug, not a user's: say which
        kind = getattr(model, "kind", model.__name__)
        raise RuntimeError(f"{what} '{kind}' has arguments named like structural keys: {clash}")
    out = copy.deepcopy(definition)
    out["properties"] = {k: _with_expressions(v) for k, v in out.get("properties", {}).items()}
    if not out.get("required"):  # `- relu:` (null) means no arguments
        out["type"] = ["object", "null"]
    return out


def _node_form(args: JsonSchemaValue, model: Any, what: str) -> JsonSchemaValue:
    """An op's or block's mapping in a node list: its arguments plus the structural keys."""
    out = copy.deepcopy(args)
    out["title"] = model.kind
    out["description"] = out.get("description") or model.summary()
    if what == "block":
        first = ", ".join(f"`{k}`" for k in model.first_only)
        out["description"] += (
            "\n\nBuilt-in block: `repeat: n` places instances NAME_block1 … NAME_blockN"
            + (f"; only the first gets {first}." if first else ".")
        )
    out["properties"].update({k: {"$ref": f"{DEFS}key.{k}"} for k in STRUCTURAL})
    return out


def _set_items(prop: JsonSchemaValue, items: JsonSchemaValue) -> None:
    """Give the array in `prop` (itself or a branch of its anyOf) the item schema `items`."""
    for s in [prop, *prop.get("anyOf", [])]:
        if s.get("type") == "array":
            s["items"] = items


def _rename_refs(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        out = {k: _rename_refs(v, names) for k, v in value.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith(DEFS) and ref[len(DEFS) :] in names:
            out["$ref"] = DEFS + names[ref[len(DEFS) :]]
        return out
    if isinstance(value, list):
        return [_rename_refs(v, names) for v in value]
    return value


def spec_schema() -> dict[str, Any]:
    """The JSON Schema (draft-07) of a whole spec file."""
    models = [*OPS.values(), *BLOCKS.values(), SpecFile]
    refs, generated = models_json_schema(
        [(m, "validation") for m in models], ref_template=DEFS + "{model}",
        schema_generator=_Draft7,
    )  # fmt: skip
    pyd = generated["$defs"]  # consumed below; what is left is kept as pydantic wrote it
    renames = {"BranchItem": "branchItem", "BlockDef": "blockDef", "InputDef": "inputDef",
               "ParamDecl": "paramDecl"}  # fmt: skip
    defs: dict[str, Any] = {"expression": _EXPRESSION}
    defs.update(
        {f"key.{k.key}": {"title": k.key, "description": k.description, **k.schema}
         for k in STRUCTURAL_KEYS}
    )  # fmt: skip
    defs.update(_op_and_block_defs(pyd, {m: _ref_name(refs, m) for m in models}, renames))
    defs.update(_node_defs())
    spec = _file_schema(pyd, _ref_name(refs, SpecFile))
    defs.update({renames.get(k, k): v for k, v in pyd.items()})
    closed = {"items": {"$ref": DEFS + "knownNode"}}
    schema = {
        "$schema": DRAFT,
        "title": "archspec",
        "description": "An archcompiler spec file: a convolutional network as YAML "
        "(docs/language.md). Any argument of an op or block may be a $expression over `params`."
        " Checked fully by `archc check`.",
        **{k: v for k, v in spec.items() if k not in ("title", "description")},
        # without user blocks anywhere, a node key that is no built-in is a typo
        "if": {"not": {"anyOf": [{"required": ["blocks"]}, {"required": ["extends"]}]}},
        "then": {"properties": {"backbone": closed, "head": closed}},
        "definitions": defs,
    }
    schema = _rename_refs(schema, renames)
    return _Draft7().sort(schema)


def _op_and_block_defs(
    pyd: dict[str, Any], refs: dict[Any, str], renames: dict[str, str]
) -> dict[str, Any]:
    """`op.KIND` and `block.KIND` (node forms) and `branch.KIND` (items of `branches`)."""
    defs: dict[str, Any] = {}
    branch_ops = {k for k, m in OPS.items() if m.arity[0] <= 1}  # a branch item takes one input
    for kind, model in OPS.items():
        args = _args(pyd.pop(refs[model]), model, "op")
        defs[f"op.{kind}"] = _node_form(args, model, "op")
        if kind in branch_ops:
            branch = copy.deepcopy(args)
            branch["properties"]["name"] = {"$ref": DEFS + "branchName"}
            defs[f"branch.{kind}"] = branch
            renames[refs[model]] = f"branch.{kind}"  # BranchItem's refs point here now
    for kind, model in BLOCKS.items():
        defs[f"block.{kind}"] = _node_form(_args(pyd.pop(refs[model]), model, "block"),
                                           model, "block")  # fmt: skip
    defs["branchName"] = {
        "title": "name",
        "description": "this op's layer name, after the instance's: NAME_x",
        "type": "string",
        "pattern": NODE_NAME_PATTERN,
    }
    for form in pyd.get("BranchItem", {}).get("anyOf", []):
        if "properties" in form:
            form["properties"] = {k: v for k, v in form["properties"].items() if k in branch_ops}
    return defs


def _node_defs() -> dict[str, Any]:
    """A node: a bare name, or `key: {arguments}` keyed by a built-in or a user block."""
    known = {k: ("op", m) for k, m in OPS.items()}
    known.update({k: ("block", m) for k, m in BLOCKS.items()})
    keyed = {k: {"$ref": f"{DEFS}{w}.{k}"} for k, (w, _) in known.items()}
    bare = sorted(k for k, (_, m) in known.items() if not any(
        f.is_required() for f in m.model_fields.values()))  # fmt: skip
    one_key = {"type": "object", "minProperties": 1, "maxProperties": 1}
    defs: dict[str, Any] = {}
    defs["bareNode"] = {
        "title": "op or block without arguments",
        "description": "A built-in op or block that needs no arguments, written bare: `- relu`.",
        "type": "string",
        "enum": bare,
        "enumDescriptions": [known[k][1].summary() for k in bare],
    }
    defs["userBlockName"] = {
        "title": "user block",
        "description": "A block defined under `blocks:` (here or in the file `extends` names), "
        "written bare.",
        "type": "string",
        "pattern": NAME_PATTERN,
        "not": {"enum": sorted(known)},
    }
    defs["userBlock"] = {
        "title": "user block",
        "description": "A block defined under `blocks:` (here or in the file `extends` names); "
        "its parameters are checked by `archc check`, not by this schema. A mistyped built-in "
        "op also lands here: `archc check` reports it with a suggestion.",
        "type": ["object", "null"],
        "properties": {k: {"$ref": f"{DEFS}key.{k}"} for k in STRUCTURAL},
    }
    # if/then/else rather than anyOf, so an editor reports the mapping's own error (an
    # unknown argument) instead of "expected a string" from the bare-name branch.
    defs["node"] = {
        "title": "node",
        "description": "One op or block: `op: {arguments}`, or a bare op name (`- relu`). Any "
        "argument may be a $expression (`filters: $width * 2`, `kernel: [3, $k]`); `name`, "
        "`from`, `repeat` and `when` go with the arguments.",
        "if": {"type": "string"},
        "then": {"anyOf": [{"$ref": DEFS + "bareNode"}, {"$ref": DEFS + "userBlockName"}]},
        "else": {**one_key, "properties": keyed, "propertyNames": {"pattern": NAME_PATTERN},
                 "additionalProperties": {"$ref": DEFS + "userBlock"}},
    }  # fmt: skip
    defs["knownNode"] = {
        "title": "node",
        "description": "One built-in op or block (this file defines and extends no blocks).",
        "if": {"type": "string"},
        "then": {"$ref": DEFS + "bareNode"},
        "else": {**one_key, "properties": keyed, "additionalProperties": False},
    }
    return defs


def _file_schema(pyd: dict[str, Any], spec_ref: str) -> dict[str, Any]:
    """SpecFile's own schema (taken out of `pyd`) and BlockDef's, with node lists and params."""
    node_list = {"$ref": DEFS + "node"}
    block_def = pyd["BlockDef"]
    _set_items(block_def["properties"]["body"], node_list)
    for decl in block_def["properties"]["params"].get("patternProperties", {}).values():
        decl.pop("$ref", None)
        decl["anyOf"] = [
            {"$ref": DEFS + "ParamDecl"},
            {"type": "string", "enum": list(PARAM_TYPES),
             "description": "a type: the parameter is required"},
            {"type": ["number", "boolean", "string"],
             "description": "a default value; the parameter takes its type"},
        ]  # fmt: skip
    spec = pyd.pop(spec_ref)
    props = spec["properties"]
    for key in ("backbone", "head"):
        _set_items(props[key], node_list)
    for value in props["params"].get("patternProperties", {}).values():
        value.update(
            type=["number", "boolean", "string"],
            description="a number, true/false or a string; a $expression may use the params "
            "above it",
        )
    return spec


def schema_text() -> str:
    """The schema as the text `archc schema` prints and docs/archspec.schema.json holds."""
    return json.dumps(spec_schema(), indent=2, ensure_ascii=False) + "\n"
