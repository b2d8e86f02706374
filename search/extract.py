"""Index extraction at write time: a resource's search values, normalized, as the ``idx`` field.

Layout (every key absent when the resource has no value, so ``:missing`` is an ``$exists``):

- string ``code``: folded values (lower case, no accents); ``code:p``: their prefixes up to
  ``PREFIX_MAX`` characters (starts-with as an equality, which every engine indexes);
  ``code:x``: the exact values.
- token ``code``: ``c``, ``s|c`` (or ``|c`` without a system) and ``s|`` per coding;
  ``code:t``: folded display / text; ``code:ot``: ``typesystem|typecode|value`` of identifiers.
- reference ``code``: ``Type/id`` (relative), absolute URLs and canonicals as written;
  ``code:i``: the Reference.identifier tokens.
- date ``code``: ``{lo, hi}`` (a list of them for multi-valued parameters), fixed-width UTC.
- number ``code``: a float (list when multi-valued); quantity ``code``: ``{v, s, c, u}`` (list).
- uri ``code``: the values as written.
- composite ``code``: a list of ``{"0": component value, "1": ...}`` combinations.

https://hl7.org/fhir/R4/search.html
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from . import normalize
from .registry import ParamDef
from .registry import Registry
from .registry import Route
from .registry import RouteStep

__all__ = ["index_values", "reference_values", "walk"]

PRIMITIVES = frozenset(
    [
        "boolean",
        "integer",
        "string",
        "decimal",
        "uri",
        "url",
        "canonical",
        "base64Binary",
        "instant",
        "date",
        "dateTime",
        "time",
        "code",
        "oid",
        "id",
        "markdown",
        "unsignedInt",
        "positiveInt",
        "uuid",
    ]
)
_NAME_PARTS = ("family", "given", "text", "prefix", "suffix")
_ADDRESS_PARTS = ("line", "city", "district", "state", "postalCode", "country", "text")
PREFIX_MAX = 32
_QUANTITY_TYPES = frozenset({"Quantity", "Age", "Duration", "Count", "Distance", "SimpleQuantity", "MoneyQuantity"})


def _suffix_type(key: str) -> str:
    suffix = key[5:]
    low = suffix[:1].lower() + suffix[1:]
    return low if low in PRIMITIVES else suffix


def reference_type(ref: dict[str, Any]) -> str | None:
    """The resource type a Reference points at, from its reference string or its ``type``."""
    text = ref.get("reference")
    if isinstance(text, str) and not text.startswith("#"):
        parts = [p for p in text.split("/") if p]
        if "_history" in parts:
            parts = parts[: parts.index("_history")]
        if len(parts) >= 2 and parts[-2][:1].isupper():
            return parts[-2]
    t = ref.get("type")
    return t if isinstance(t, str) else None


def _children(node: Any, step: RouteStep) -> Iterator[tuple[Any, str | None]]:
    if not isinstance(node, dict):
        return
    if step.key == "value[x]":
        for key, value in node.items():
            if key.startswith("value") and key[5:6].isupper():
                yield from ((v, _suffix_type(key)) for v in (value if isinstance(value, list) else [value]))
        return
    value = node.get(step.key)
    if value is None:
        return
    items = value if isinstance(value, list) else [value]
    if step.index is not None:
        items = items[step.index : step.index + 1]
    for item in items:
        if step.ext is not None and not (isinstance(item, dict) and item.get("url") == step.ext):
            continue
        if step.eq is not None and not (isinstance(item, dict) and item.get(step.eq[0]) == step.eq[1]):
            continue
        if step.has_ext is not None and not (
            isinstance(item, dict)
            and any(isinstance(e, dict) and e.get("url") == step.has_ext for e in item.get("extension", ()))
        ):
            continue
        if step.is_type and not (isinstance(item, dict) and reference_type(item) in step.is_type):
            continue
        yield item, None


def walk(node: Any, route: Route) -> list[tuple[Any, str]]:
    """The (value, element type) pairs a route reaches from ``node``."""
    current: list[tuple[Any, str | None]] = [(node, None)]
    for step in route.steps:
        current = [child for value, _ in current for child in _children(value, step)]
        if not current:
            return []
    return [(v, t or route.type) for v, t in current]


# per parameter type: (value, element type) -> normalized entries ---------------------------------
def _strings(value: Any, type_: str) -> list[str]:
    if isinstance(value, str):
        return [value] if type_ in PRIMITIVES else []
    if not isinstance(value, dict):
        return []
    parts = _NAME_PARTS if type_ == "HumanName" else _ADDRESS_PARTS if type_ == "Address" else ()
    out: list[str] = []
    for part in parts:
        v = value.get(part)
        out += [x for x in (v if isinstance(v, list) else [v]) if isinstance(x, str)]
    return out


def _codings(value: Any, type_: str) -> Iterator[tuple[str | None, str, str | None]]:
    """(system, code, display) triples of a token-typed value."""
    if isinstance(value, bool):
        yield None, "true" if value else "false", None
    elif isinstance(value, (str, int, float)):
        yield None, str(value), None
    elif isinstance(value, dict):
        if type_ == "CodeableConcept" or "coding" in value:
            for coding in value.get("coding", ()):
                if isinstance(coding, dict):
                    yield from _codings(coding, "Coding")
        elif type_ == "Identifier" or type_ == "ContactPoint":
            if isinstance(value.get("value"), str):
                yield value.get("system"), value["value"], None
        elif isinstance(value.get("code"), str):
            yield value.get("system"), value["code"], value.get("display")


def _texts(value: Any, type_: str) -> list[str]:
    if not isinstance(value, dict):
        return []
    out = [value["text"]] if isinstance(value.get("text"), str) else []
    if type_ == "Identifier" and isinstance(value.get("type"), dict):
        out += _texts(value["type"], "CodeableConcept")
    for coding in value.get("coding", ()) if type_ != "Identifier" else ():
        if isinstance(coding, dict) and isinstance(coding.get("display"), str):
            out.append(coding["display"])
    if isinstance(value.get("display"), str):
        out.append(value["display"])
    return out


def token_forms(system: str | None, code: str) -> list[str]:
    """The stored forms of one coding: ``c``, ``s|c`` (or ``|c``), ``s|``."""
    if system:
        return [code, f"{system}|{code}", f"{system}|"]
    return [code, f"|{code}"]


def _ranges(value: Any, type_: str) -> list[dict[str, str]]:
    try:
        if isinstance(value, str) and type_ in ("date", "dateTime", "instant"):
            lo, hi = normalize.date_range(value)
            return [{"lo": lo, "hi": hi}]
        if isinstance(value, dict) and type_ == "Period":
            start, end = value.get("start"), value.get("end")
            if start is None and end is None:
                return []
            lo = normalize.date_range(start)[0] if isinstance(start, str) else normalize.MIN_INSTANT
            hi = normalize.date_range(end)[1] if isinstance(end, str) else normalize.MAX_INSTANT
            return [{"lo": lo, "hi": hi}]
        if isinstance(value, dict) and type_ == "Timing":
            out: list[dict[str, str]] = []
            for event in value.get("event", ()):
                out += _ranges(event, "dateTime")
            bounds = value.get("repeat", {}).get("boundsPeriod") if isinstance(value.get("repeat"), dict) else None
            if bounds:
                out += _ranges(bounds, "Period")
            return out
    except ValueError:
        return []
    return []


def reference_values(value: Any, type_: str) -> list[str]:
    """Stored forms of a reference-typed value: ``Type/id``, absolute URL or canonical."""
    if isinstance(value, str):  # canonical / uri
        return [value] + ([value.split("|", 1)[0]] if "|" in value else [])
    if not isinstance(value, dict) or type_ not in ("Reference", "*"):
        return []
    text = value.get("reference")
    if not isinstance(text, str) or not text or text.startswith("#"):
        return []
    if "/_history/" in text:
        text = text.split("/_history/", 1)[0]
    return [text]


def _quantities(value: Any, type_: str) -> list[dict[str, Any]]:
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("value"), (int, float))
        or isinstance(value.get("value"), bool)
    ):
        return []
    if type_ == "Money":
        return [
            {
                "v": float(value["value"]),
                "s": "urn:iso:std:iso:4217",
                "c": value.get("currency"),
                "u": value.get("currency"),
            }
        ]
    if type_ not in _QUANTITY_TYPES and type_ != "*":
        return []
    return [{"v": float(value["value"]), "s": value.get("system"), "c": value.get("code"), "u": value.get("unit")}]


def _uris(value: Any, type_: str) -> list[str]:
    return [value] if isinstance(value, str) else []


def _numbers(value: Any, type_: str) -> list[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return []
    return [float(value)]


def _deceased(resource: dict[str, Any]) -> list[str]:
    # Patient.deceased.exists() and Patient.deceased != false
    flag = resource.get("deceasedBoolean")
    return ["true" if ("deceasedDateTime" in resource or flag is True) else "false"]


def _unique(values: list[Any]) -> list[Any]:
    seen: list[Any] = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen


def _param_values(param: ParamDef, values: list[tuple[Any, str]], out: dict[str, Any], key: str) -> None:
    """Fill ``out[key...]`` with the normalized entries of ``values`` for one parameter."""
    kind = param.type
    if kind == "string":
        raw = _unique([s for v, t in values for s in _strings(v, t) if s])
        if raw:
            folded = _unique([normalize.fold(s) for s in raw])
            out[key] = folded
            out[key + ":p"] = sorted({f[:n] for f in folded for n in range(1, min(len(f), PREFIX_MAX) + 1)})
            out[key + ":x"] = raw
    elif kind == "token":
        forms: list[str] = []
        texts: list[str] = []
        of_type: list[str] = []
        for v, t in values:
            for system, code, display in _codings(v, t):
                forms += token_forms(system, code)
                if display:
                    texts.append(display)
            texts += _texts(v, t)
            if t == "Identifier" and isinstance(v, dict) and isinstance(v.get("value"), str):
                for tsys, tcode, _ in _codings(v.get("type"), "CodeableConcept"):
                    of_type.append(f"{tsys or ''}|{tcode}|{v['value']}")
        if forms:
            out[key] = _unique(forms)
        if texts:
            out[key + ":t"] = _unique([normalize.fold(x) for x in texts])
        if of_type:
            out[key + ":ot"] = _unique(of_type)
    elif kind == "reference":
        refs = _unique([r for v, t in values for r in reference_values(v, t)])
        if refs:
            out[key] = refs
        idents = [
            f
            for v, t in values
            if isinstance(v, dict) and isinstance(v.get("identifier"), dict)
            for s, c, _ in _codings(v["identifier"], "Identifier")
            for f in token_forms(s, c)
        ]
        if idents:
            out[key + ":i"] = _unique(idents)
    elif kind == "date":
        ranges = _unique([r for v, t in values for r in _ranges(v, t)])
        if ranges:
            out[key] = ranges if param.multi or len(ranges) > 1 else ranges[0]
    elif kind == "number":
        nums = _unique([n for v, t in values for n in _numbers(v, t)])
        if nums:
            out[key] = nums if param.multi or len(nums) > 1 else nums[0]
    elif kind == "quantity":
        qs = _unique([q for v, t in values for q in _quantities(v, t)])
        if qs:
            out[key] = qs if param.multi or len(qs) > 1 else qs[0]
    elif kind == "uri":
        uris = _unique([u for v, t in values for u in _uris(v, t)])
        if uris:
            out[key] = uris


def component_value(kind: str, values: list[tuple[Any, str]]) -> list[Any]:
    """The alternatives one composite component takes, each in its stored form."""
    if kind == "token":
        return [token_forms(s, c) for v, t in values for s, c, _ in _codings(v, t)]
    if kind == "reference":
        return [[r] for v, t in values for r in reference_values(v, t)]
    if kind == "string":
        return [normalize.fold(s) for v, t in values for s in _strings(v, t)]
    if kind == "date":
        return [r for v, t in values for r in _ranges(v, t)]
    if kind == "quantity":
        return [q for v, t in values for q in _quantities(v, t)]
    if kind == "number":
        return [n for v, t in values for n in _numbers(v, t)]
    return [[u] for v, t in values for u in _uris(v, t)]


def _composite(param: ParamDef, resource: dict[str, Any]) -> list[dict[str, Any]]:
    combos: list[dict[str, Any]] = []
    for i, root in enumerate(param.routes):
        for element, _ in walk(resource, root):
            per_component = [
                component_value(comp.type, [p for r in comp.routes[i] for p in walk(element, r)])
                for comp in param.components
            ]
            for combo in itertools.product(*per_component):
                combos.append({str(n): v for n, v in enumerate(combo)})
    return _unique(combos)


def index_values(registry: Registry, resource_type: str, resource: dict[str, Any]) -> dict[str, Any]:
    """The ``idx`` document field of ``resource``: every parameter's normalized search values."""
    out: dict[str, Any] = {}
    for code, param in registry.params(resource_type).items():
        if param.field is not None:
            continue
        if param.type == "composite":
            combos = _composite(param, resource)
            if combos:
                out[code] = combos
            continue
        if param.routes and param.routes[0].type == "deceased":
            if resource_type == "Patient":
                out[code] = _deceased(resource)
            continue
        values = [pair for route in param.routes for pair in walk(resource, route)]
        if values:
            _param_values(param, values, out, code)
    return out
