"""FHIRPath Patch (https://hl7.org/fhir/R4/fhirpatch.html): a ``Parameters`` body of ``operation``
parts (``type`` add | insert | delete | replace | move, ``path``, ``name``, ``value``, ``index``,
``source``, ``destination``) applied to a copy of the resource: a failed operation changes nothing.

The FHIRPath subset the patch paths need: ``Type.element.element``, indexers ``[n]``,
``where(<path> = '<literal>')`` (also ``!=``, literals quoted, numbers, ``true``/``false``),
``first()`` and ``last()``. A path naming a repeating element is told from the R4 schema.
"""

from __future__ import annotations

import copy
import gzip
import importlib.resources
import re
from functools import cache
from typing import Any

import orjson

from .errors import BadRequest
from .errors import Unprocessable

OPERATIONS = ("add", "insert", "delete", "replace", "move")
_STEP = re.compile(r"\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<call>\((?P<arg>.*?)\))?|\[(?P<index>\d+)\])")
_WHERE = re.compile(
    r"^\s*(?P<path>[A-Za-z_][A-Za-z0-9_.]*)\s*(?P<op>=|!=)\s*(?P<lit>'(?:[^'\\]|\\.)*'|-?\d+(?:\.\d+)?|true|false)\s*$"
)


@cache
def _definitions() -> dict[str, Any]:
    data = importlib.resources.files("fhir_server.schema").joinpath("fhir.schema.json.gz")
    return orjson.loads(gzip.decompress(data.read_bytes()))["definitions"]  # type: ignore[no-any-return]


def _element(type_: str | None, name: str) -> tuple[bool, str | None]:
    """(repeats, element type) of ``type_.name`` per the R4 schema; (False, None) when unknown."""
    prop = ((_definitions().get(type_ or "") or {}).get("properties") or {}).get(name) or {}
    repeats = prop.get("type") == "array"
    ref = (prop.get("items") or {}).get("$ref") if repeats else prop.get("$ref")
    return repeats, ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


class Slot:
    """Where one selected value lives: ``parent[key]`` (``index`` into it when it repeats)."""

    def __init__(self, parent: Any, key: str | None, index: int | None, type_: str | None) -> None:
        self.parent, self.key, self.index, self.type = parent, key, index, type_

    @property
    def value(self) -> Any:
        if self.key is None:
            return self.parent
        held = self.parent[self.key]
        return held[self.index] if self.index is not None else held


def _split(path: str) -> list[str]:
    """Top-level dot-separated steps (dots inside ``where(...)`` kept)."""
    steps, depth, current = [], 0, ""
    for char in path:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "." and depth == 0:
            steps.append(current)
            current = ""
        else:
            current += char
    steps.append(current)
    return [s.strip() for s in steps]


def _literal(text: str) -> Any:
    if text.startswith("'"):
        return text[1:-1].replace("\\'", "'")
    if text in ("true", "false"):
        return text == "true"
    return float(text) if "." in text else int(text)


def select(resource: dict[str, Any], path: str) -> list[Slot]:
    """The slots ``path`` selects in ``resource``; 400 outside the supported subset."""
    steps = _split(path)
    type_ = resource.get("resourceType")
    if not steps or steps[0] != type_:
        raise BadRequest(f"FHIRPath Patch path '{path}' must start with the resource type {type_}")
    slots = [Slot(resource, None, None, type_)]
    for step in steps[1:]:
        if not step:
            raise BadRequest(f"FHIRPath Patch path '{path}' has an empty step")
        pos = 0
        while pos < len(step):
            m = _STEP.match(step, pos)
            if m is None or m.end() == pos:
                raise BadRequest(f"FHIRPath Patch path '{path}': '{step}' is outside the supported FHIRPath subset")
            pos = m.end()
            slots = _apply_step(slots, m, path)
    return slots


def _apply_step(slots: list[Slot], m: re.Match[str], path: str) -> list[Slot]:
    if m.group("index") is not None:
        n = int(m.group("index"))
        return [slots[n]] if n < len(slots) else []
    name, call = m.group("name"), m.group("call")
    if call is None:
        out = []
        for slot in slots:
            value = slot.value
            if isinstance(value, dict) and name in value:
                _repeats, child_type = _element(slot.type, name)
                held = value[name]
                if isinstance(held, list):
                    out += [Slot(value, name, i, child_type) for i in range(len(held))]
                else:
                    out.append(Slot(value, name, None, child_type))
        return out
    if name == "first":
        return slots[:1]
    if name == "last":
        return slots[-1:]
    if name == "where":
        cond = _WHERE.match(m.group("arg") or "")
        if cond is None:
            raise BadRequest(f"FHIRPath Patch path '{path}': where({m.group('arg')}) is not supported")
        want, negate = _literal(cond.group("lit")), cond.group("op") == "!="
        return [s for s in slots if (want in _values(s.value, cond.group("path"))) != negate]
    raise BadRequest(f"FHIRPath Patch path '{path}': {name}() is not supported")


def _values(node: Any, path: str) -> list[Any]:
    current = [node]
    for name in path.split("."):
        nxt: list[Any] = []
        for item in current:
            if isinstance(item, dict) and name in item:
                held = item[name]
                nxt += held if isinstance(held, list) else [held]
        current = nxt
    return current


def _parts(parameter: dict[str, Any]) -> dict[str, Any]:
    """An operation's parts by name: values unwrapped (``value[x]``, or a complex value from parts)."""
    out: dict[str, Any] = {}
    for part in parameter.get("part") or []:
        if not isinstance(part, dict) or not isinstance(part.get("name"), str):
            raise BadRequest("FHIRPath Patch: each operation part needs a name")
        out[part["name"]] = _value(part)
    return out


def _value(part: dict[str, Any]) -> Any:
    for key, value in part.items():
        if key.startswith("value") and key != "value":
            return value
    if "resource" in part:
        return part["resource"]
    if part.get("part"):
        return {p["name"]: _value(p) for p in part["part"] if isinstance(p, dict) and "name" in p}
    return None


def operations(body: Any) -> list[dict[str, Any]]:
    """The operations of a FHIRPath Patch Parameters body (400 when malformed)."""
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise BadRequest("A FHIRPath Patch body is a Parameters resource")
    out = []
    for n, parameter in enumerate(body.get("parameter") or []):
        if not isinstance(parameter, dict) or parameter.get("name") != "operation":
            raise BadRequest(f"FHIRPath Patch: Parameters.parameter[{n}] must be an 'operation'")
        op = _parts(parameter)
        if op.get("type") not in OPERATIONS:
            raise BadRequest(f"FHIRPath Patch: operation type '{op.get('type')}' is not one of {', '.join(OPERATIONS)}")
        if not isinstance(op.get("path"), str):
            raise BadRequest("FHIRPath Patch: every operation needs a path")
        out.append(op)
    if not out:
        raise BadRequest("A FHIRPath Patch holds at least one operation")
    return out


def _one(slots: list[Slot], op: dict[str, Any]) -> Slot:
    if len(slots) != 1:
        raise Unprocessable(f"FHIRPath Patch {op['type']}: path '{op['path']}' selects {len(slots)} elements, not one")
    return slots[0]


def _list_of(slots: list[Slot], op: dict[str, Any]) -> tuple[list[Any], int | None]:
    """The list a repeating path selects (and, for a single selected item, its index)."""
    if not slots:
        raise Unprocessable(f"FHIRPath Patch {op['type']}: path '{op['path']}' selects nothing")
    first = slots[0]
    if first.index is None or any(s.parent is not first.parent or s.key != first.key for s in slots):
        raise Unprocessable(f"FHIRPath Patch {op['type']}: path '{op['path']}' is not a list")
    return first.parent[first.key], None


def _index(op: dict[str, Any], name: str, size: int) -> int:
    value = op.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= size:
        raise Unprocessable(f"FHIRPath Patch {op['type']}: {name} {value!r} is out of range (0..{size})")
    return value


def _apply(resource: dict[str, Any], op: dict[str, Any]) -> None:
    kind, slots = op["type"], select(resource, op["path"])
    if kind == "add":
        container = _one(slots, op)
        target, name = container.value, op.get("name")
        if not isinstance(target, dict) or not isinstance(name, str):
            raise Unprocessable(f"FHIRPath Patch add: '{op['path']}' must select one element and name a child")
        repeats, _ = _element(container.type, name)
        if repeats or isinstance(target.get(name), list):
            target.setdefault(name, []).append(op.get("value"))
        elif name in target:
            raise Unprocessable(f"FHIRPath Patch add: {op['path']}.{name} already has a value (use replace)")
        else:
            target[name] = op.get("value")
    elif kind == "insert":
        items, _ = _list_of(slots, op) if slots else (None, None)
        if items is None:
            raise Unprocessable(f"FHIRPath Patch insert: '{op['path']}' selects nothing")
        items.insert(_index(op, "index", len(items)), op.get("value"))
    elif kind == "delete":
        if not slots:
            return  # deleting nothing is no error (fhirpatch.html)
        slot = _one(slots, op)
        if slot.key is None:
            raise Unprocessable("FHIRPath Patch delete: the resource itself cannot be deleted")
        held = slot.parent[slot.key]
        if slot.index is not None:
            del held[slot.index]
            if not held:
                del slot.parent[slot.key]
        else:
            del slot.parent[slot.key]
    elif kind == "replace":
        slot = _one(slots, op)
        if slot.key is None:
            raise Unprocessable("FHIRPath Patch replace: the resource itself cannot be replaced")
        if slot.index is not None:
            slot.parent[slot.key][slot.index] = op.get("value")
        else:
            slot.parent[slot.key] = op.get("value")
    else:  # move
        items, _ = _list_of(slots, op)
        source = _index(op, "source", len(items) - 1)
        destination = _index(op, "destination", len(items) - 1)
        items.insert(destination, items.pop(source))


def apply(resource: dict[str, Any], body: Any) -> dict[str, Any]:
    """``resource`` patched (a copy); nothing changes when one operation fails."""
    patched = copy.deepcopy(resource)
    for op in operations(body):
        _apply(patched, op)
    return patched


def touched_paths(body: Any) -> set[str]:
    """The paths a patch changes (``DocumentReference.securityLabel``...), for the consent rules."""
    out = set()
    for op in operations(body):
        path = op["path"] + (f".{op['name']}" if op["type"] == "add" and op.get("name") else "")
        out.add(re.sub(r"\.(where|first|last)\(.*?\)|\[\d+\]", "", path))
    return out
