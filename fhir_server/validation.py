"""Strict validation of FHIR R4 resources, answered as OperationOutcome issues.

Four layers, reported together:

1. the official R4 JSON Schema (https://hl7.org/fhir/R4/json.html#schema) against the type's own
   definition; each nested resource (contained, Bundle entries, Parameters) against its own;
2. the JSON rules the schema misses (https://hl7.org/fhir/R4/json.html): no empty or null
   values, repeating primitives aligned with their `_` twin, extensions with a url and either a
   value or children (ext-1), narrative as an XHTML div without active content (txt-1),
   contained resources without contained or version metadata (dom-2, dom-4);
3. once those pass, fhir.resources R4B models (required elements, one value per choice, real
   dates) for the types whose elements R4B shares with R4;
4. the profiles claimed in meta.profile, asked for, or required by configuration (`profiles`).
"""

from __future__ import annotations

import functools
import gzip
import importlib.resources
import os
import re
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import pydantic
from fhir.resources.R4B import get_fhir_model_class
from jsonschema import Draft6Validator
from jsonschema.exceptions import ValidationError

import profiles as profile_docs
from fhir_server import identifiers
from fhir_server.errors import Unprocessable
from fhir_server.errors import issue

Issue = dict[str, Any]
Path = tuple[str | int, ...]

_INT32_MAX = 2**31 - 1
# Official patterns rewritten: a pattern never applies to a JSON number or boolean, so the
# integer types become JSON Schema integers with their R4 ranges; the string pattern
# forbids Unicode spaces (French text is full of no-break spaces): forbid control
# characters instead, as R4 datatypes.html#string says.
_REWRITES: dict[str, dict[str, Any]] = {
    "^true|false$": {},
    "^-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?$": {},
    "^-?([0]|([1-9][0-9]*))$": {"type": "integer", "minimum": -(2**31), "maximum": _INT32_MAX},
    "^[1-9][0-9]*$": {"type": "integer", "minimum": 1, "maximum": _INT32_MAX},
    "^[0]|([1-9][0-9]*)$": {"type": "integer", "minimum": 0, "maximum": _INT32_MAX},
    "^[ \\r\\n\\t\\S]+$": {"pattern": "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]+$"},
}
_SHARED_PATTERNS = {"^\\S*$": "uri", "^[ \\r\\n\\t\\S]+$": "string"}
_HINTS = {
    "date": "YYYY, YYYY-MM or YYYY-MM-DD",
    "dateTime": "YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a time zone",
    "instant": "YYYY-MM-DDThh:mm:ss[.fff] with a time zone",
    "time": "hh:mm:ss",
    "id": "1 to 64 letters, digits, '-' or '.'",
    "code": "no leading, trailing or repeated whitespace",
    "uri": "no whitespace",
    "string": "no control characters",
    "oid": "urn:oid: then dotted digits",
    "uuid": "urn:uuid: then a lowercase UUID",
    "base64Binary": "base64",
}
# R4B types whose elements differ from R4 (Evidence and EvidenceVariable were redesigned):
# the R4 schema alone judges them. Types R4B lacks are skipped the same way.
_R4B_DIFFERENT = frozenset({"Evidence", "EvidenceVariable"})
_CORE_PROFILE = "http://hl7.org/fhir/StructureDefinition/"
_XHTML_DIV = re.compile(r"""\s*<div\s[^>]*xmlns\s*=\s*["']http://www\.w3\.org/1999/xhtml["']""")
_ACTIVE = re.compile(
    r"<\s*/?\s*(script|style|iframe|frame|frameset|object|embed|applet|form|input|button|"
    r"textarea|select|base|link|meta|head|body|html)\b|<[^>]*\son[a-z]+\s*=|"
    r"""=\s*["']?\s*(javascript|vbscript):""",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Schema:
    definitions: dict[str, Any]
    types: frozenset[str]
    ordered_types: tuple[str, ...]
    holders: frozenset[str]  # elements holding a resource: contained, Bundle.entry.resource...


@functools.cache
def _schema() -> _Schema:
    """The shipped R4 schema, without descriptions, with the rewrites above (≈ 60 ms, once)."""
    data = importlib.resources.files("fhir_server.schema").joinpath("fhir.schema.json.gz")
    raw = orjson.loads(gzip.decompress(data.read_bytes()))
    titles = dict(_SHARED_PATTERNS)
    for name, definition in raw["definitions"].items():
        if name[0].islower() and "pattern" in definition:
            titles.setdefault(definition["pattern"], name)
    definitions = _adapt(raw["definitions"], titles)
    types = tuple(ref["$ref"].rsplit("/", 1)[1] for ref in raw["oneOf"])
    holders = frozenset(name for name, _ in _properties_of(definitions, "ResourceList"))
    for name, owner in _properties_of(definitions, "canonical"):
        # The official schema forgets the `_` twin of canonical elements (json.html allows it).
        repeats = owner["properties"][name].get("type") == "array"
        element = {"$ref": "#/definitions/Element"}
        owner["properties"].setdefault(f"_{name}", {"type": "array", "items": element} if repeats else element)
    for name, definition in definitions.items():
        if "properties" in definition:
            definition["type"] = "object"  # missing from every official definition
        else:
            definition.setdefault("title", name)
    definitions["xhtml"] = {"type": "string", "title": "xhtml"}
    # Nested resources are validated each against its own type (see _structure_issues).
    definitions["ResourceList"] = {
        "type": "object",
        "required": ["resourceType"],
        "properties": {"resourceType": {"enum": list(types)}},
    }
    for definition in definitions.values():
        _link(definition, definitions)
    return _Schema(definitions, frozenset(types), types, holders)


def _properties_of(definitions: Mapping[str, Any], target: str) -> list[tuple[str, dict[str, Any]]]:
    """(element name, owning definition) of every element whose type is the definition `target`."""
    ref = f"#/definitions/{target}"
    return [
        (name, definition)
        for definition in definitions.values()
        for name, prop in definition.get("properties", {}).items()
        if ref in (prop.get("$ref"), prop.get("items", {}).get("$ref"))
    ]


def _link(node: Any, definitions: Mapping[str, Any]) -> None:
    """Replace each {"$ref": "#/definitions/X"} by X itself: the graph becomes cyclic, and
    validation skips jsonschema's reference resolution (4 times faster)."""
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in list(children):
        if isinstance(child, dict) and "$ref" in child:
            node[key] = definitions[child["$ref"].rsplit("/", 1)[1]]
        else:
            _link(child, definitions)


def _adapt(node: Any, titles: Mapping[str, str]) -> Any:
    if isinstance(node, list):
        return [_adapt(item, titles) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _adapt(v, titles) for k, v in node.items() if not (k == "description" and isinstance(v, str))}
    pattern = out.get("pattern")
    if isinstance(pattern, str):
        out["title"] = titles.get(pattern, "value")
        if pattern in _REWRITES:
            del out["pattern"]
            out.update(_REWRITES[pattern])
    return out


_validators: dict[str, Draft6Validator] = {}


def _validator(resource_type: str) -> Draft6Validator:
    """The schema validator of one type, built on first use and kept."""
    found = _validators.get(resource_type)
    if found is None:
        found = _validators[resource_type] = Draft6Validator(_schema().definitions[resource_type])
    return found


@functools.cache
def _model(resource_type: str) -> type[pydantic.BaseModel] | None:
    if resource_type in _R4B_DIFFERENT:
        return None
    try:
        return get_fhir_model_class(resource_type)
    except ValueError:
        return None


def supported_types() -> tuple[str, ...]:
    """Every resource type of the R4 schema (146), in the schema's order."""
    return _schema().ordered_types


def validate(
    resource: object,
    resource_type: str,
    *,
    profiles: Sequence[str] = (),
    required_profiles: Mapping[str, Sequence[str]] | None = None,
) -> list[Issue]:
    """OperationOutcome issues for `resource` read as a `resource_type`; no error means valid.

    Profiles checked: meta.profile, then `profiles`, then `required_profiles[resource_type]`
    (the app's REQUIRED_PROFILES). An unknown claimed profile is a warning; an unknown asked
    or required one is an error.
    """
    root: Path = (resource_type,)
    if resource_type not in _schema().types:
        return [_error("not-supported", f"'{resource_type}' is not an R4 resource type", root)]
    if not isinstance(resource, dict):
        return [_error("structure", "a resource must be a JSON object", root)]
    issues = _structure_issues(resource, resource_type, root) or _model_issues(resource, resource_type)
    issues += identifiers.issues(resource, resource_type)  # by their system, claimed profile or not
    insisted = [*profiles, *(required_profiles or {}).get(resource_type, ())]
    return issues + _profile_issues(resource, resource_type, insisted)


def raise_for_issues(issues: Sequence[Issue]) -> None:
    """Raise Unprocessable (422) with all `issues` when one of them is an error."""
    errors = [found for found in issues if found["severity"] in ("fatal", "error")]
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise Unprocessable(errors[0]["diagnostics"] + more, issues=list(issues))


def check_required_profiles(required: Mapping[str, Sequence[str]]) -> None:
    """Raise ValueError when REQUIRED_PROFILES names an unknown profile or one of another type."""
    for resource_type, urls in required.items():
        for url in urls:
            doc = profile_docs.get(url)
            if doc is None:
                raise ValueError(f"REQUIRED_PROFILES: unknown profile {url}")
            if doc.type != resource_type:
                raise ValueError(f"REQUIRED_PROFILES: {url} constrains {doc.type}, not {resource_type}")


def _structure_issues(resource: dict[str, Any], resource_type: str, path: Path) -> list[Issue]:
    """Schema and JSON rules for one resource and, recursively, the resources it holds."""
    out = [found for error in _validator(resource_type).iter_errors(resource) for found in _from_schema(error, path)]
    nested: list[tuple[Path, dict[str, Any]]] = []
    out.extend(_walk(resource, path, nested))
    for where, inner in nested:
        inner_type = inner.get("resourceType")
        if not isinstance(inner_type, str) or inner_type not in _schema().types:
            continue  # reported by the ResourceList stub
        if where[-2] == "contained":
            out.extend(_contained_rules(inner, where))
        out.extend(_structure_issues(inner, inner_type, where))
    return _unique(out)


def _from_schema(error: ValidationError, prefix: Path) -> Iterator[Issue]:
    where = prefix + tuple(error.absolute_path)
    value: Any = error.instance
    rule: Any = error.validator_value
    kind = error.validator
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    if (value is None or value == "") and where[-1] != "resourceType":
        return  # judged by _walk (a null may align primitive arrays)
    shown = _show(value)
    if kind == "additionalProperties":
        known = schema.get("properties", {})
        for key in value:
            if key not in known:
                yield _error("structure", f"unknown element '{key}'", (*where, key))
    elif kind == "required":
        for key in rule:
            if key not in value:
                yield _error("required", "required element missing", (*where, key))
    elif kind in ("type", "enum") and isinstance(value, list) and rule != "array":
        yield _error("structure", "must be a single value, not an array (this element does not repeat)", where)
    elif kind == "type":
        if rule == "array":
            yield _error("structure", "must be an array (this element repeats)", where)
        else:
            yield _error("structure", f"{shown} is not {_a(schema.get('title') or rule)}", where)
    elif kind == "pattern":
        name = schema.get("title", "value")
        hint = f" ({_HINTS[name]})" if name in _HINTS else ""
        yield _error("value", f"{shown} is not a valid {name}{hint}", where)
    elif kind == "enum" and where[-1] == "resourceType":
        yield _error("code-invalid", f"{shown} is not an R4 resource type", where)
    elif kind == "enum":
        yield _error("code-invalid", f"{shown} is not one of: {', '.join(map(str, rule))}", where)
    elif kind == "const":
        yield _error("invalid", f"resourceType must be '{rule}', not {shown}", where)
    elif kind in ("minimum", "maximum"):
        bound = "below the minimum" if kind == "minimum" else "above the maximum"
        yield _error("value", f"{shown} is {bound} {rule} of {_a(schema.get('title', 'number'))}", where)
    else:
        yield _error("invalid", error.message[:200], where)


def _walk(node: Any, path: Path, nested: list[tuple[Path, dict[str, Any]]]) -> Iterator[Issue]:
    """The json.html rules on one value; collects the nested resources into `nested`."""
    if not isinstance(node, dict):
        return
    if not node:
        yield _error("structure", "an object must not be empty", path)
    for key, value in node.items():
        where = (*path, key)
        if value is None:
            yield _error("structure", "null is not a value (leave the element out)", where)
        elif value == "":
            yield _error("value", "must not be an empty string (leave the element out)", where)
        elif isinstance(value, list):
            yield from _walk_array(node, key, value, where, nested)
        elif key == "div" and isinstance(value, str):
            yield from _narrative(value, where)
        else:
            yield from _descend(value, where, nested)


def _descend(value: Any, where: Path, nested: list[tuple[Path, dict[str, Any]]]) -> Iterator[Issue]:
    holder = where[-2] if isinstance(where[-1], int) else where[-1]
    if isinstance(value, dict) and "resourceType" in value and holder in _schema().holders:
        nested.append((where, value))
    else:
        yield from _walk(value, where, nested)


def _walk_array(
    owner: dict[str, Any], key: str, items: list[Any], where: Path, nested: list[tuple[Path, dict[str, Any]]]
) -> Iterator[Issue]:
    if not items:
        yield _error("structure", "an array must not be empty (leave the element out)", where)
        return
    twin_key = key[1:] if key.startswith("_") else f"_{key}"
    twin = owner.get(twin_key)
    if isinstance(twin, list) and len(twin) != len(items) and not key.startswith("_"):
        yield _error("structure", f"'{key}' and '{twin_key}' must have the same length", where)
    for index, item in enumerate(items):
        at = (*where, index)
        if item is None:
            if not (isinstance(twin, list) and index < len(twin) and twin[index] is not None):
                yield _error("structure", f"null is only allowed to align '{key}' with '{twin_key}'", at)
        elif item == "":
            yield _error("value", "must not be an empty string", at)
        else:
            if key in ("extension", "modifierExtension") and isinstance(item, dict):
                yield from _extension(item, at)
            yield from _descend(item, at, nested)


def _extension(extension: dict[str, Any], where: Path) -> Iterator[Issue]:
    """Extension.url 1..1 and ext-1 (https://hl7.org/fhir/R4/extensibility.html)."""
    if "url" not in extension:
        yield _error("required", "an extension needs a url", (*where, "url"))
    values = list(dict.fromkeys(key.lstrip("_") for key in extension if key.lstrip("_").startswith("value")))
    if len(values) > 1:
        yield _error("invariant", f"only one of value[x] may be present, not {', '.join(values)}", where)
    elif values and "extension" in extension:
        yield _error("invariant", "an extension has a value[x] or nested extensions, not both (ext-1)", where)
    elif not values and "extension" not in extension:
        yield _error("invariant", "an extension needs a value[x] or nested extensions (ext-1)", where)


def _narrative(div: str, where: Path) -> Iterator[Issue]:
    """The xhtml type and txt-1 (https://hl7.org/fhir/R4/narrative.html): no active content."""
    if not _XHTML_DIV.match(div):
        yield _error("value", 'the narrative must be a <div xmlns="http://www.w3.org/1999/xhtml"> element', where)
    elif found := _ACTIVE.search(div):
        yield _error("value", f"the narrative must not contain {found.group(0).strip()!r} (txt-1)", where)


def _contained_rules(resource: dict[str, Any], where: Path) -> Iterator[Issue]:
    """dom-2 and dom-4 (https://hl7.org/fhir/R4/domainresource.html#invs)."""
    if "contained" in resource:
        yield _error("invariant", "a contained resource must not contain resources (dom-2)", (*where, "contained"))
    meta = resource.get("meta")
    for key in ("versionId", "lastUpdated"):
        if isinstance(meta, dict) and key in meta:
            yield _error("invariant", f"a contained resource has no meta.{key} (dom-4)", (*where, "meta", key))


def _model_issues(resource: dict[str, Any], resource_type: str) -> list[Issue]:
    model = _model(resource_type)
    if model is None:
        return []
    try:
        model.model_validate(resource)
    except pydantic.ValidationError as exc:
        return [
            found
            for error in exc.errors()
            if error["type"] != "extra_forbidden"  # the R4 schema knows R4's element names
            and (found := _from_model(error, resource, resource_type))
        ]
    return []


def _from_model(error: Any, resource: dict[str, Any], resource_type: str) -> Issue | None:
    """One R4B error located in the instance, or None when R4 allows what R4B refused."""
    path: list[str | int] = [resource_type]
    node: Any = resource
    loc, kind = error["loc"], error["type"]
    missing = "missing" in kind
    for index, part in enumerate(loc):
        if (isinstance(node, dict) and isinstance(part, str) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            node = node[part]  # type: ignore[index]  # a str part for a dict, an int for a list (checked just above)
        elif missing and index == len(loc) - 1 and isinstance(node, dict) and isinstance(part, str):
            if f"_{part}" in node:
                return None  # json.html: an extended primitive may have no value
            path.append(part)
            break
        else:
            break
        path.append(part)
        if isinstance(node, dict) and "resourceType" in node and _model(str(node["resourceType"])) is None:
            return None
    where = tuple(path)
    message = error["msg"].removeprefix("Value error, ")
    if missing:
        return _error("required", "required element missing", where)
    if message.startswith("Any of one field value is expected from this list"):
        choices = re.findall(r"'(\w+)'", message.split("]", 1)[0])
        present = [name for name in choices if isinstance(node, dict) and name in node]
        base = os.path.commonprefix(choices)  # noqa: RUF071 -- element names, not paths: a prefix of characters
        return _error("invariant", f"only one of {base}[x] may be present, not {', '.join(present)}", where)
    if isinstance(node, (dict, list)):
        return _error("value", message, where)
    return _error("value", f"{_show(node)} is invalid: {message[:1].lower()}{message[1:]}", where)


def _profile_issues(resource: dict[str, Any], resource_type: str, insisted: Sequence[str]) -> list[Issue]:
    meta = resource.get("meta")
    claimed = meta.get("profile") if isinstance(meta, dict) else None
    claimed_urls = [url for url in claimed if isinstance(url, str)] if isinstance(claimed, list) else []
    out: list[Issue] = []
    root: Path = (resource_type,)
    for canonical in dict.fromkeys([*claimed_urls, *insisted]):
        url = canonical.split("|", 1)[0]
        if url == _CORE_PROFILE + resource_type:
            continue  # the base definition, checked above
        doc = profile_docs.get(url)
        if doc is None:
            text = f"profile {url} is unknown to this server"
            if canonical in insisted:
                out.append(_error("not-supported", text, root))
            else:
                out.append(issue("warning", "not-supported", f"{resource_type}: {text}: not checked", [resource_type]))
        elif doc.type != resource_type:
            out.append(_error("invalid", f"profile {url} constrains {doc.type}, not {resource_type}", root))
        else:
            out.extend(_error(v.code, v.message, root + v.path) for v in doc.check(resource))
    return out


def _unique(issues: Iterable[Issue]) -> list[Issue]:
    return list({found["diagnostics"]: found for found in issues}.values())


def _error(code: str, message: str, path: Path) -> Issue:
    where = _expression(path)
    return issue("error", code, f"{where}: {message}", [where])


def _expression(path: Path) -> str:
    """FHIRPath-like: Patient.name[0].given[1]."""
    return "".join(
        f"[{part}]" if isinstance(part, int) else (part if index == 0 else f".{part}")
        for index, part in enumerate(path)
    )


def _show(value: Any) -> str:
    try:
        text = repr(value) if isinstance(value, str) else orjson.dumps(value).decode()
    except orjson.JSONEncodeError:  # an integer beyond 64 bits
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _a(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeioAEIO" or noun.startswith("un") else f"a {noun}"
