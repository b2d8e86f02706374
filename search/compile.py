"""Compile criteria and the consent Policy into MongoDB filters (plain dicts), and sort specs.

Small builders (``and_``, ``or_``, ``nor``) only ever put user input in values, never in keys,
operators or unescaped regular expressions. Chains and ``_has`` need the ids of other
resources: the caller passes ``lookup(collection, filter, field)``, which runs that one
query (already carrying ``deleted: false`` and the target type's policy) and returns the
``_id`` values (``field`` None) or the ``idx.<field>`` values of the matches. Semantics:
https://hl7.org/fhir/R4/search.html.
"""
from __future__ import annotations

import re
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from typing import Any
from typing import Callable
from typing import Protocol

from consent.predicate import After
from consent.predicate import And
from consent.predicate import AnyOf
from consent.predicate import Empty
from consent.predicate import Not
from consent.predicate import Or
from consent.predicate import Predicate

from . import normalize
from .errors import SearchError
from .extract import PREFIX_MAX
from .parse import Criterion
from .parse import SortKey
from .registry import ParamDef
from .registry import Registry
from .values import DateValue
from .values import OfTypeValue
from .values import QuantityValue
from .values import TokenValue

__all__ = ["NEVER", "Lookup", "and_", "base_filter", "criteria_filter", "nor", "or_", "policy_filter", "sort_spec"]

Filter = dict[str, Any]
NEVER: Filter = {"_id": {"$in": []}}
LIVE: Filter = {"deleted": False}
PolicyFor = Callable[[str], Predicate]


class Lookup(Protocol):
    def __call__(self, collection: str, filter: Filter, field: str | None) -> list[str]: ...


# builders ---------------------------------------------------------------------------------------
def and_(*terms: Filter) -> Filter:
    kept: list[Filter] = []
    for t in terms:
        if t == NEVER:
            return NEVER
        if list(t) == ["$and"]:
            kept += t["$and"]
        elif t:
            kept.append(t)
    if not kept:
        return {}
    return kept[0] if len(kept) == 1 else {"$and": kept}


def or_(*terms: Filter) -> Filter:
    kept = [t for t in terms if t != NEVER]
    if any(t == {} for t in kept):
        return {}
    if not kept:
        return NEVER
    return kept[0] if len(kept) == 1 else {"$or": kept}


def nor(term: Filter) -> Filter:
    if term == NEVER:
        return {}
    if term == {}:
        return NEVER
    return {"$nor": [term]}


def _in(field: str, values: list[Any]) -> Filter:
    if not values:
        return NEVER
    return {field: values[0]} if len(values) == 1 else {field: {"$in": values}}


def _starts(text: str) -> dict[str, str]:
    return {"$regex": "^" + re.escape(text)}


# consent ----------------------------------------------------------------------------------------
def policy_filter(predicate: Predicate, prefix: str = "acl") -> Filter:
    """A consent Predicate over ``<prefix>.<path>`` as a MongoDB filter (``evaluate``'s semantics)."""
    if isinstance(predicate, AnyOf):
        return _in(f"{prefix}.{predicate.path}", list(predicate.values))
    if isinstance(predicate, Empty):
        path = f"{prefix}.{predicate.path}"
        return {"$or": [{path: None}, {path: {"$size": 0}}]}  # {path: None} also matches a missing path
    if isinstance(predicate, After):
        return {f"{prefix}.{predicate.path}": {"$gt": predicate.instant}}
    if isinstance(predicate, And):
        return and_(*(policy_filter(t, prefix) for t in predicate.terms))
    if isinstance(predicate, Or):
        return or_(*(policy_filter(t, prefix) for t in predicate.terms))
    if isinstance(predicate, Not):
        return nor(policy_filter(predicate.term, prefix))
    raise TypeError(f"not a consent predicate: {predicate!r}")


def base_filter(resource_type: str, policy_for: PolicyFor, *criteria: Filter) -> Filter:
    """Every query on ``resource_type``: live documents matching ``criteria`` that the policy lets
    through. The criteria come ahead of the policy: an engine that evaluates an AND in order
    (SQLite does) then tests the policy's array conditions only on the documents that match."""
    return and_(LIVE, *criteria, policy_filter(policy_for(resource_type)))


# per parameter type -----------------------------------------------------------------------------
def _token_form(value: TokenValue) -> str:
    if not value.has_system:
        return value.code or ""
    if value.code is None:
        return f"{value.system}|"
    return f"{value.system or ''}|{value.code}"


def _date_cond(value: DateValue, lo: str, hi: str, now: datetime) -> Filter:
    q_lo, q_hi = value.lo, value.hi
    eq = and_({lo: {"$gte": q_lo}}, {hi: {"$lte": q_hi}})
    p = value.prefix
    if p == "eq":
        return eq
    if p == "ne":
        return or_({lo: {"$lt": q_lo}}, {hi: {"$gt": q_hi}})
    if p == "gt":
        return {hi: {"$gt": q_hi}}
    if p == "lt":
        return {lo: {"$lt": q_lo}}
    if p == "ge":
        return or_({hi: {"$gt": q_hi}}, eq)
    if p == "le":
        return or_({lo: {"$lt": q_lo}}, eq)
    if p == "sa":
        return {lo: {"$gt": q_hi}}
    if p == "eb":
        return {hi: {"$lt": q_lo}}
    # ap: overlap with the search range widened by 10% of its distance from now (at least a day)
    start = datetime.fromisoformat(q_lo.replace("Z", "+00:00"))
    delta = max(abs(now - start) * 0.1, timedelta(days=1))
    try:
        wide_lo = normalize.fmt_instant(start - delta)
    except OverflowError:
        wide_lo = normalize.MIN_INSTANT
    try:
        wide_hi = normalize.fmt_instant(datetime.fromisoformat(q_hi.replace("Z", "+00:00")) + delta)
    except OverflowError:
        wide_hi = normalize.MAX_INSTANT
    return and_({lo: {"$lte": wide_hi}}, {hi: {"$gte": wide_lo}})


def _number_cond(prefix: str, value: float, lo: float, hi: float, path: str) -> Filter:
    if prefix == "eq":
        return {path: {"$gte": lo, "$lt": hi}}
    if prefix == "ne":
        return or_({path: {"$lt": lo}}, {path: {"$gte": hi}})
    if prefix in ("gt", "sa"):
        return {path: {"$gt": value}}
    if prefix in ("lt", "eb"):
        return {path: {"$lt": value}}
    if prefix == "ge":
        return {path: {"$gte": value}}
    if prefix == "le":
        return {path: {"$lte": value}}
    margin = abs(value) * 0.1
    return {path: {"$gte": value - margin, "$lte": value + margin}}


def _quantity_cond(value: QuantityValue, path: str) -> Filter:
    sep = "." if path else ""
    terms = [_number_cond(value.prefix, value.value, value.lo, value.hi, f"{path}{sep}v")]
    if value.system:
        terms.append({f"{path}{sep}s": value.system})
    if value.code:
        terms.append(or_({f"{path}{sep}c": value.code}, {f"{path}{sep}u": value.code}))
    return and_(*terms)


def _dnf(flt: Filter) -> list[list[Filter]]:
    """``flt`` as an OR of ANDs of plain field conditions (it holds only $and / $or)."""
    if list(flt) == ["$or"]:
        return [conj for term in flt["$or"] for conj in _dnf(term)]
    if list(flt) == ["$and"]:
        out: list[list[Filter]] = [[]]
        for term in flt["$and"]:
            out = [a + b for a in out for b in _dnf(term)]
        return out
    return [[flt]]


def _merge(conj: list[Filter]) -> Filter:
    merged: dict[str, Any] = {}
    for term in conj:
        for key, cond in term.items():
            if key in merged and isinstance(merged[key], dict) and isinstance(cond, dict):
                merged[key] = {**merged[key], **cond}
            else:
                merged[key] = cond
    return merged


def _elem_match(field: str, inner: Filter) -> Filter:
    """One element of ``field`` satisfying ``inner``: an OR of ``$elemMatch`` over plain
    documents (no $and / $or inside, which not every MongoDB implementation accepts)."""
    if inner in ({}, NEVER):
        return inner
    return or_(*({field: {"$elemMatch": _merge(conj)}} for conj in _dnf(inner)))


def _scoped(field: str, multi: bool, build: Callable[[str], Filter]) -> Filter:
    """``build`` over element paths: inside ``$elemMatch`` when the values are a list of
    objects (so one value satisfies every part), else on dotted paths."""
    if multi:
        return _elem_match(field, build(""))
    return build(field)


def _dotted(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


class _Compiler:
    def __init__(self, registry: Registry, policy_for: PolicyFor, lookup: Lookup, base_url: str, now: datetime):
        self.registry = registry
        self.policy_for = policy_for
        self.lookup = lookup
        self.base_url = base_url.rstrip("/")
        self.now = now

    def criteria(self, type_: str, criteria: tuple[Criterion, ...]) -> Filter:
        return and_(*(self.criterion(type_, c) for c in criteria))

    def criterion(self, type_: str, c: Criterion) -> Filter:
        if c.has is not None:
            return self._has(type_, c)
        param = self.registry.param(type_, c.code)
        if param is None:
            raise SearchError(f"Unknown search parameter '{c.name}' for resource type {type_}", param=c.name)
        if c.chain:
            return self._chain(param, c)
        if c.missing is not None:
            return self._missing(param, c.missing)
        if c.modifier == "not":  # none of the values (gender:not=male,female)
            return nor(or_(*(self.value(type_, param, None, v) for v in c.values)))
        return or_(*(self.value(type_, param, c.modifier, v) for v in c.values))

    def _missing(self, param: ParamDef, missing: bool) -> Filter:
        if param.field is not None:
            return NEVER if missing else {}
        return {f"idx.{param.code}": {"$exists": not missing}}

    def _chain(self, param: ParamDef, c: Criterion) -> Filter:
        forms: list[str] = []
        for target, inner in c.chain:
            sub = base_filter(target, self.policy_for, self.criterion(target, inner))
            if sub == NEVER:
                continue
            forms += [f"{target}/{id_}" for id_ in self.lookup(target, sub, None)]
        return _in(f"idx.{param.code}", sorted(set(forms)))

    def _has(self, type_: str, c: Criterion) -> Filter:
        assert c.has is not None
        has = c.has
        sub = base_filter(has.type, self.policy_for, self.criterion(has.type, has.inner))
        if sub == NEVER:
            return NEVER
        prefix = f"{type_}/"
        ids = {r[len(prefix):] for r in self.lookup(has.type, sub, has.ref) if r.startswith(prefix)}
        return _in("_id", sorted(ids))

    def value(self, type_: str, param: ParamDef, modifier: str | None, value: Any) -> Filter:
        field = param.field or f"idx.{param.code}"
        kind = param.type
        if kind == "string":
            if modifier == "exact":
                return {f"{field}:x": value}
            if modifier == "contains":
                return {field: {"$regex": re.escape(normalize.fold(value))}}
            folded = normalize.fold(value)
            if len(folded) <= PREFIX_MAX:
                return {f"{field}:p": folded}
            return {field: _starts(folded)}
        if kind == "token":
            return self._token(param, field, modifier, value)
        if kind == "reference":
            if modifier == "identifier":
                return {f"{field}:i": _token_form(value)}
            return _in(field, self._reference_forms(param, modifier, value))
        if kind == "date":
            if param.field is not None:
                return _date_cond(value, param.field, param.field, self.now)
            return _scoped(field, param.multi, lambda p: _date_cond(value, _dotted(p, "lo"), _dotted(p, "hi"), self.now))
        if kind == "number":
            if param.multi:
                inner = _number_cond(value.prefix, value.value, value.lo, value.hi, "x")
                return _elem_scalar(field, inner)
            return _number_cond(value.prefix, value.value, value.lo, value.hi, field)
        if kind == "quantity":
            return _scoped(field, param.multi, lambda p: _quantity_cond(value, p))
        if kind == "uri":
            if modifier == "below":
                return {field: _starts(value)}
            if modifier == "above":
                return _in(field, _uri_ancestors(value))
            return {field: value}
        if kind == "composite":
            return _elem_match(field, self._composite(param, value))
        raise SearchError(f"Search parameter '{param.code}' of type {kind} is not supported", param=param.code)

    def _token(self, param: ParamDef, field: str, modifier: str | None, value: Any) -> Filter:
        if modifier == "text":
            return {f"{field}:t": {"$regex": r"(^|\s)" + re.escape(normalize.fold(value))}}
        if modifier == "of-type":
            assert isinstance(value, OfTypeValue)
            return {f"{field}:ot": f"{value.type_system}|{value.type_code}|{value.value}"}
        if param.field == "_id":
            positive = {"_id": value.code} if value.code else NEVER
        else:
            positive = {field: _token_form(value)}
        return positive

    def _reference_forms(self, param: ParamDef, modifier: str | None, value: str) -> list[str]:
        text = value
        if self.base_url and text.startswith(self.base_url + "/"):
            text = text[len(self.base_url) + 1:]
        if "/_history/" in text:
            text = text.split("/_history/", 1)[0]
        if ":" in text:  # absolute URL, urn, canonical
            forms = [text]
        elif "/" in text:
            forms = [text]
            if modifier and not text.startswith(modifier + "/"):
                forms = []
        elif modifier:
            forms = [f"{modifier}/{text}"]
        else:
            forms = [f"{t}/{text}" for t in (param.targets or tuple(self.registry.by_type))]
        return forms

    def _composite(self, param: ParamDef, parts: tuple[Any, ...]) -> Filter:
        terms: list[Filter] = []
        for n, (comp, value) in enumerate(zip(param.components, parts, strict=True)):
            key = str(n)
            if comp.type == "token":
                terms.append({key: _token_form(value)})
            elif comp.type == "reference":
                ref = ParamDef(comp.code, "reference", "", targets=())
                terms.append(_in(key, self._reference_forms(ref, None, value)))
            elif comp.type == "string":
                terms.append({key: _starts(normalize.fold(value))})
            elif comp.type == "date":
                terms.append(_date_cond(value, f"{key}.lo", f"{key}.hi", self.now))
            elif comp.type == "quantity":
                terms.append(_quantity_cond(value, key))
            elif comp.type == "number":
                terms.append(_number_cond(value.prefix, value.value, value.lo, value.hi, key))
            else:
                terms.append({key: value})
        return and_(*terms)


def _elem_scalar(field: str, inner: Filter) -> Filter:
    """A number condition on one element of a list of scalars (``{x: {...}}`` -> ``$elemMatch``)."""
    if "$or" in inner:
        return or_(*(_elem_scalar(field, t) for t in inner["$or"]))
    return {field: {"$elemMatch": inner["x"]}}


def _uri_ancestors(uri: str) -> list[str]:
    out = [uri]
    head, sep, _ = uri.rstrip("/").rpartition("/")
    while sep and head and not head.endswith(("/", ":")):
        out.append(head)
        head, sep, _ = head.rpartition("/")
    return out


def criteria_filter(
    registry: Registry,
    resource_type: str,
    criteria: tuple[Criterion, ...],
    policy_for: PolicyFor,
    lookup: Lookup,
    *,
    base_url: str = "",
    now: datetime | None = None,
) -> Filter:
    """The complete filter of one search on ``resource_type``: live, permitted, matching."""
    compiler = _Compiler(registry, policy_for, lookup, base_url, now or datetime.now(timezone.utc))
    return base_filter(resource_type, policy_for, compiler.criteria(resource_type, criteria))


def sort_spec(registry: Registry, resource_type: str, keys: tuple[SortKey, ...]) -> list[tuple[str, int]]:
    """MongoDB sort keys for ``_sort``, always ending with ``_id`` so pages are stable."""
    spec: list[tuple[str, int]] = []
    for key in keys:
        param = registry.param(resource_type, key.code)
        if param is None:
            raise SearchError(f"Cannot sort {resource_type} by '{key.code}'", param="_sort")
        direction = -1 if key.descending else 1
        if param.field is not None:
            path = param.field
        elif param.type == "date":
            path = f"idx.{param.code}.lo"
        elif param.type == "quantity":
            path = f"idx.{param.code}.v"
        else:
            path = f"idx.{param.code}"
        if all(p != path for p, _ in spec):
            spec.append((path, direction))
    if all(p != "_id" for p, _ in spec):
        spec.append(("_id", 1))
    return spec
