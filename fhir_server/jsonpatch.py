"""JSON Patch (RFC 6902) applied to a copy of a resource, with FHIR-friendly error paths."""

from __future__ import annotations

import copy
from typing import Any

from .errors import BadRequest
from .errors import Unprocessable

OPS = ("add", "remove", "replace", "move", "copy", "test")


def _tokens(pointer: str) -> list[str]:
    """RFC 6901 pointer -> reference tokens."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise BadRequest(f"JSON Pointer '{pointer}' must start with '/'")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _index(container: list[Any], token: str, pointer: str, *, for_add: bool) -> int:
    if token == "-" and for_add:
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise Unprocessable(f"JSON Pointer '{pointer}': '{token}' is not an array index")
    index = int(token)
    if index > len(container) or (index == len(container) and not for_add):
        raise Unprocessable(f"JSON Pointer '{pointer}': index {index} is out of range")
    return index


def _walk(doc: Any, tokens: list[str], pointer: str) -> Any:
    """The node at ``tokens`` below ``doc``; 422 when it does not exist."""
    node = doc
    for token in tokens:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, pointer, for_add=False)]
        else:
            raise Unprocessable(f"JSON Pointer '{pointer}' does not exist in the resource")
    return node


def _parent(doc: Any, pointer: str) -> tuple[Any, str]:
    tokens = _tokens(pointer)
    if not tokens:
        raise Unprocessable("The whole resource cannot be the target of this operation")
    return _walk(doc, tokens[:-1], pointer), tokens[-1]


def _get(doc: Any, pointer: str) -> Any:
    return _walk(doc, _tokens(pointer), pointer)


def _add(doc: Any, pointer: str, value: Any) -> None:
    parent, token = _parent(doc, pointer)
    if isinstance(parent, dict):
        parent[token] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, token, pointer, for_add=True), value)
    else:
        raise Unprocessable(f"JSON Pointer '{pointer}': the parent is not an object or array")


def _remove(doc: Any, pointer: str) -> Any:
    parent, token = _parent(doc, pointer)
    if isinstance(parent, dict):
        if token not in parent:
            raise Unprocessable(f"JSON Pointer '{pointer}' does not exist in the resource")
        return parent.pop(token)
    if isinstance(parent, list):
        return parent.pop(_index(parent, token, pointer, for_add=False))
    raise Unprocessable(f"JSON Pointer '{pointer}' does not exist in the resource")


def _operation(op: Any, position: int) -> tuple[str, str, dict[str, Any]]:
    if not isinstance(op, dict) or op.get("op") not in OPS or not isinstance(op.get("path"), str):
        raise BadRequest(f"JSON Patch operation {position} needs 'op' (one of {', '.join(OPS)}) and a string 'path'")
    if op["op"] in ("add", "replace", "test") and "value" not in op:
        raise BadRequest(f"JSON Patch operation {position} ('{op['op']}') needs a 'value'")
    if op["op"] in ("move", "copy") and not isinstance(op.get("from"), str):
        raise BadRequest(f"JSON Patch operation {position} ('{op['op']}') needs a string 'from'")
    return op["op"], op["path"], op


def apply(resource: dict[str, Any], patch: Any) -> dict[str, Any]:
    """Apply ``patch`` to a deep copy of ``resource``; the original is never touched."""
    if not isinstance(patch, list):
        raise BadRequest("A JSON Patch document is a JSON array of operations")
    doc = copy.deepcopy(resource)
    for position, raw in enumerate(patch):
        name, path, op = _operation(raw, position)
        if name == "add":
            _add(doc, path, copy.deepcopy(op["value"]))
        elif name == "remove":
            _remove(doc, path)
        elif name == "replace":
            _remove(doc, path)
            _add(doc, path, copy.deepcopy(op["value"]))
        elif name == "move":
            if path.startswith(op["from"] + "/"):
                raise Unprocessable(f"JSON Patch operation {position}: cannot move a value into itself")
            _add(doc, path, _remove(doc, op["from"]))
        elif name == "copy":
            _add(doc, path, copy.deepcopy(_get(doc, op["from"])))
        elif _get(doc, path) != op["value"]:
            raise Unprocessable(f"JSON Patch test failed at '{path}'", expression=[path])
    return doc


def touched_paths(patch: list[dict[str, Any]]) -> set[str]:
    """Every pointer a (valid) patch writes or reads from."""
    paths = {op["path"] for op in patch}
    return paths | {op["from"] for op in patch if "from" in op}
