"""Parse a search's (name, value) pairs once, into a frozen ``SearchRequest`` of plain data.

https://hl7.org/fhir/R4/search.html: parameter types pick modifier or prefix parsing from the
``MODIFIERS`` table and ``values.PREFIXES``; commas OR values, repeated parameters AND them;
chains (``subject:Patient.name``), reverse chains (``_has``) and the result parameters
(``_sort _count _include _revinclude _total _summary _elements``) parse here too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from . import paging
from . import values as v
from .errors import SearchError
from .registry import ParamDef
from .registry import Registry

__all__ = ["MODIFIERS", "Criterion", "Has", "Include", "SearchRequest", "SortKey", "parse"]

MODIFIERS: dict[str, frozenset[str]] = {
    "string": frozenset({"exact", "contains", "missing"}),
    "token": frozenset({"not", "text", "of-type", "missing"}),
    "reference": frozenset({"identifier", "missing"}),  # plus :[type]
    "date": frozenset({"missing"}),
    "number": frozenset({"missing"}),
    "quantity": frozenset({"missing"}),
    "uri": frozenset({"below", "above", "missing"}),
    "composite": frozenset({"missing"}),
}
SUMMARY = frozenset({"true", "text", "data", "count", "false"})
TOTAL = frozenset({"none", "estimate", "accurate"})
#: parameters that shape the answer but do not filter
RESULT = frozenset({"_sort", "_count", "_include", "_revinclude", "_total", "_summary", "_elements", "_page", "_type"})
#: accepted and ignored: the REST layer handles them
PASSED = frozenset({"_format", "_pretty"})
MAX_CHAIN = 3


@dataclass(frozen=True)
class Has:
    """``_has:type:ref:...``: resources of ``type`` whose ``ref`` points here and match ``inner``."""

    type: str
    ref: str
    inner: Criterion


@dataclass(frozen=True)
class Criterion:
    """One search parameter occurrence: its values are ORed; criteria are ANDed."""

    name: str
    code: str
    type: str
    modifier: str | None = None
    values: tuple[Any, ...] = ()
    missing: bool | None = None
    chain: tuple[tuple[str, Criterion], ...] = ()  # (target type, criterion on it)
    has: Has | None = None


@dataclass(frozen=True)
class SortKey:
    code: str
    descending: bool = False


@dataclass(frozen=True)
class Include:
    """``_include`` / ``_revinclude``: ``source`` type's reference ``code`` (None: every one)."""

    source: str
    code: str | None
    target: str | None = None
    iterate: bool = False


@dataclass(frozen=True)
class SearchRequest:
    types: tuple[str, ...]
    criteria: dict[str, tuple[Criterion, ...]]
    sort: tuple[SortKey, ...] = ()
    count: int = 20
    offset: int = 0
    includes: tuple[Include, ...] = ()
    revincludes: tuple[Include, ...] = ()
    total: str = "accurate"
    summary: str | None = None
    elements: tuple[str, ...] | None = None
    applied: tuple[tuple[str, str], ...] = ()
    ignored: tuple[tuple[str, str], ...] = field(default=())


def _bad_value(name: str, value: str, reason: str) -> SearchError:
    return SearchError(f"Invalid value '{value}' for search parameter '{name}': {reason}", param=name)


def _unknown(name: str, type_: str) -> SearchError:
    return SearchError(f"Unknown search parameter '{name}' for resource type {type_}", param=name)


def _parse_values(name: str, value: str, parse_one: Callable[[str], Any]) -> tuple[Any, ...]:
    out = []
    for part in v.split_escaped(value, ","):
        try:
            out.append(parse_one(part))
        except ValueError as exc:
            raise _bad_value(name, value, str(exc)) from None
    return tuple(out)


def _component_parser(kind: str) -> Callable[[str], Any]:
    return {
        "token": v.token,
        "date": v.date,
        "number": v.number,
        "quantity": v.quantity,
    }.get(kind, v.plain)


def _value_parser(param: ParamDef, modifier: str | None) -> Callable[[str], Any]:
    if param.type == "token":
        if modifier == "text":
            return v.plain
        if modifier == "of-type":
            return v.of_type
        return v.token
    if param.type == "reference" and modifier == "identifier":
        return v.token
    if param.type == "composite":
        parsers = [_component_parser(c.type) for c in param.components]

        def composite(text: str) -> tuple[Any, ...]:
            parts = v.split_escaped(text, "$")
            if len(parts) != len(parsers):
                raise ValueError(f"a composite value has {len(parsers)} parts joined by '$'")
            return tuple(p(part) for p, part in zip(parsers, parts, strict=True))

        return composite
    return _component_parser(param.type)


def criterion(registry: Registry, type_: str, name: str, value: str, depth: int = 0) -> Criterion:
    """Parse one filtering parameter ``name=value`` for ``type_``."""
    if name.startswith("_has:"):
        return _has(registry, type_, name, value, depth)
    head, dot, rest = name.partition(".")
    code, colon, modifier_text = head.partition(":")
    modifier = modifier_text if colon else None
    param = registry.param(type_, code)
    if param is None:
        raise _unknown(name, type_)
    if dot:
        return _chain(registry, type_, name, param, modifier, rest, value, depth)
    if modifier is not None and modifier not in MODIFIERS.get(param.type, frozenset()):
        is_type = param.type == "reference" and modifier in registry.by_type
        if not is_type or (param.targets and modifier not in param.targets):
            raise SearchError(
                f"Unsupported modifier ':{modifier}' on search parameter '{code}' ({param.type})", param=name
            )
    if modifier == "of-type" and not any(r.type == "Identifier" for r in param.routes):
        raise SearchError(f"':of-type' applies to identifiers only, not to '{code}'", param=name)
    if modifier == "missing":
        if value not in ("true", "false"):
            raise _bad_value(name, value, ":missing takes true or false")
        return Criterion(name, code, param.type, modifier, missing=value == "true")
    parsed = _parse_values(name, value, _value_parser(param, modifier))
    return Criterion(name, code, param.type, modifier, parsed)


def _chain(
    registry: Registry, type_: str, name: str, param: ParamDef, modifier: str | None, rest: str, value: str, depth: int
) -> Criterion:
    if param.type != "reference":
        raise SearchError(f"'{param.code}' is not a reference parameter and cannot be chained", param=name)
    if depth + 1 > MAX_CHAIN:
        raise SearchError(f"Chains are limited to {MAX_CHAIN} levels: '{name}'", param=name)
    if modifier is not None and modifier not in registry.by_type:
        raise SearchError(f"'{modifier}' is not a resource type (in '{name}')", param=name)
    targets = (modifier,) if modifier else param.targets
    links: list[tuple[str, Criterion]] = []
    for target in targets:
        head = rest.partition(".")[0].partition(":")[0]
        if registry.param(target, head) is None:
            continue
        links.append((target, criterion(registry, target, rest, value, depth + 1)))
    if not links:
        raise SearchError(f"Unknown chained search parameter '{rest}' in '{name}' for {type_}", param=name)
    return Criterion(name, param.code, "reference", modifier, chain=tuple(links))


def _has(registry: Registry, type_: str, name: str, value: str, depth: int) -> Criterion:
    parts = name.split(":", 3)
    if len(parts) < 4 or not all(parts):
        raise SearchError(f"'{name}' is not _has:Type:reference:parameter", param=name)
    _, source, ref, inner_name = parts
    if depth + 1 > MAX_CHAIN:
        raise SearchError(f"_has is limited to {MAX_CHAIN} levels: '{name}'", param=name)
    ref_param = registry.param(source, ref)
    if ref_param is None or ref_param.type != "reference":
        raise SearchError(f"'{ref}' is not a reference parameter of {source} (in '{name}')", param=name)
    if ref_param.targets and type_ not in ref_param.targets:
        raise SearchError(f"{source}.{ref} does not refer to {type_} (in '{name}')", param=name)
    inner = criterion(registry, source, inner_name, value, depth + 1)
    return Criterion(name, "_has", "has", has=Has(source, ref, inner))


def _include(registry: Registry, name: str, value: str, types: tuple[str, ...]) -> list[Include]:
    iterate = name.partition(":")[2] in ("iterate", "recurse")
    if name.partition(":")[2] not in ("", "iterate", "recurse"):
        raise SearchError(f"Unsupported modifier in '{name}'", param=name)
    if value == "*":
        if name.startswith("_revinclude"):
            raise _bad_value(name, value, "_revinclude takes Type:parameter[:targetType]")
        return [Include(t, None, None, iterate) for t in types]
    parts = value.split(":")
    if len(parts) not in (2, 3) or parts[0] not in registry.by_type:
        raise _bad_value(name, value, "expected Type:parameter[:targetType] or *")
    source, code = parts[0], parts[1]
    target = parts[2] if len(parts) == 3 else None
    if code == "*":
        return [Include(source, None, target, iterate)]
    param = registry.param(source, code)
    if param is None or param.type != "reference":
        raise _bad_value(name, value, f"'{code}' is not a reference parameter of {source}")
    if target is not None and (target not in registry.by_type or (param.targets and target not in param.targets)):
        raise _bad_value(name, value, f"{source}.{code} cannot refer to '{target}'")
    return [Include(source, code, target, iterate)]


def _sort(registry: Registry, name: str, value: str, types: tuple[str, ...]) -> tuple[SortKey, ...]:
    keys = []
    for part in value.split(","):
        desc = part.startswith("-")
        code = part[1:] if desc else part
        for t in types:
            param = registry.param(t, code)
            if param is None or param.type in ("composite",):
                raise _bad_value(name, value, f"cannot sort {t} by '{code}'")
        keys.append(SortKey(code, desc))
    return tuple(keys)


def parse(
    registry: Registry,
    resource_types: list[str] | tuple[str, ...],
    params: list[tuple[str, str]],
    *,
    lenient: bool = False,
    default_count: int = 20,
    max_count: int = 1000,
) -> SearchRequest:
    """The SearchRequest for ``params`` over ``resource_types`` (one type, or several for ``_type``).

    Raises SearchError for an unknown parameter (unless ``lenient``: then it is skipped and
    listed in ``ignored``) and for any malformed value.
    """
    types = tuple(resource_types)
    for t in types:
        if t not in registry.by_type:
            raise SearchError(f"Unknown resource type '{t}'", param="_type")
    criteria: dict[str, list[Criterion]] = {t: [] for t in types}
    applied: list[tuple[str, str]] = []
    ignored: list[tuple[str, str]] = []
    opts: dict[str, Any] = {"count": default_count, "includes": [], "revincludes": []}
    for name, value in params:
        base = name.partition(":")[0]
        try:
            if base in PASSED:
                continue
            if base in RESULT:
                _result(registry, name, base, value, types, opts, max_count)
                if base != "_page":
                    applied.append((name, value))
                continue
            if (
                name.startswith("_")
                and not name.startswith("_has:")
                and all(registry.param(t, base) is None for t in types)
            ):
                raise SearchError(f"Unsupported search parameter '{name}'", param=name)
            if value == "":  # a parameter without a value is ignored
                continue
            parsed = [criterion(registry, t, name, value) for t in types]
        except SearchError as exc:
            unknown = exc.message.startswith(("Unknown", "Unsupported search parameter"))
            if lenient and unknown:
                ignored.append((name, exc.message))
                continue
            raise
        for t, c in zip(types, parsed, strict=True):
            criteria[t].append(c)
        applied.append((name, value))
    return SearchRequest(
        types=types,
        criteria={t: tuple(cs) for t, cs in criteria.items()},
        sort=opts.get("sort", ()),
        count=opts["count"],
        offset=opts.get("offset", 0),
        includes=tuple(opts["includes"]),
        revincludes=tuple(opts["revincludes"]),
        total=opts.get("total", "accurate"),
        summary=opts.get("summary"),
        elements=opts.get("elements"),
        applied=tuple(applied),
        ignored=tuple(ignored),
    )


def _result(
    registry: Registry, name: str, base: str, value: str, types: tuple[str, ...], opts: dict[str, Any], max_count: int
) -> None:
    if base not in ("_include", "_revinclude") and name != base:
        raise SearchError(f"Unsupported modifier in '{name}'", param=name)
    if base == "_count":
        if not value.isdigit():
            raise _bad_value(name, value, "expected a non-negative integer")
        opts["count"] = min(int(value), max_count)
    elif base == "_page":
        try:
            opts["offset"] = paging.decode(value)
        except ValueError:
            raise _bad_value(name, value, "not a page of this search") from None
    elif base == "_sort":
        opts["sort"] = _sort(registry, name, value, types)
    elif base == "_include":
        opts["includes"] += _include(registry, name, value, types)
    elif base == "_revinclude":
        opts["revincludes"] += _include(registry, name, value, types)
    elif base == "_total":
        if value not in TOTAL:
            raise _bad_value(name, value, "expected none, estimate or accurate")
        opts["total"] = value
    elif base == "_summary":
        if value not in SUMMARY:
            raise _bad_value(name, value, "expected true, text, data, count or false")
        opts["summary"] = None if value == "false" else value
    elif base == "_elements":
        elements = tuple(e.strip() for e in value.split(",") if e.strip())
        if not elements:
            raise _bad_value(name, value, "expected element names")
        opts["elements"] = elements
    elif base == "_type":
        listed = {t for t in value.split(",") if t}
        if not listed <= set(types) and not set(types) <= listed:
            raise _bad_value(name, value, "does not match the searched types")
