"""Translate search plans and consent predicates into MongoDB filters over the stored documents
(``idx.<key>`` search values, ``acl.<path>`` access attributes; docs/contracts.md).

Chains and ``_has`` first run their nested query (live, matching, under the nested type's
policy) for the ids or reference values it yields; the outer filter then holds them. Values only
ever become filter values, never keys, operators or unescaped regular expressions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from consent.predicate import After
from consent.predicate import And as PAnd
from consent.predicate import AnyOf
from consent.predicate import Empty
from consent.predicate import Not as PNot
from consent.predicate import Or as POr
from consent.predicate import Predicate
from search import plan
from search.extract import PREFIX_MAX
from search.plan import AllOf
from search.plan import Cmp
from search.plan import Cond
from search.plan import OneOf
from search.plan import SortBy
from search.plan import Where

from ..port import PolicyFor

Filter = dict[str, Any]
NEVER: Filter = {"_id": {"$in": []}}
LIVE: Filter = {"deleted": False}
#: runs one nested query: (collection, filter, idx key or None for ``_id``) -> values
Lookup = Callable[[str, Filter, str | None], list[str]]
_OPS = {"lt": "$lt", "le": "$lte", "gt": "$gt", "ge": "$gte"}
COLUMNS = {"id": "_id", "ts": "ts"}


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


def policy_filter(predicate: Predicate, prefix: str = "acl") -> Filter:
    """A consent predicate over ``<prefix>.<path>`` (``consent.predicate.evaluate``'s semantics)."""
    if isinstance(predicate, AnyOf):
        return _in(f"{prefix}.{predicate.path}", list(predicate.values))
    if isinstance(predicate, Empty):
        path = f"{prefix}.{predicate.path}"
        return {"$or": [{path: None}, {path: {"$size": 0}}]}  # {path: None} also matches a missing path
    if isinstance(predicate, After):
        return {f"{prefix}.{predicate.path}": {"$gt": predicate.instant}}
    if isinstance(predicate, PAnd):
        return and_(*(policy_filter(t, prefix) for t in predicate.terms))
    if isinstance(predicate, POr):
        return or_(*(policy_filter(t, prefix) for t in predicate.terms))
    if isinstance(predicate, PNot):
        return nor(policy_filter(predicate.term, prefix))
    raise TypeError(f"not a consent predicate: {predicate!r}")


def _compare(field: str, cmp: Cmp, kind: str) -> Filter:
    op, value = cmp.op, cmp.value
    if op == "eq":
        return {field: value}
    if op == "in":
        return _in(field, list(value))
    if op in _OPS:
        return {field: {_OPS[op]: value}}
    if op == "prefix":
        if kind == "string" and not field.endswith(":x") and len(value) <= PREFIX_MAX and "." not in field[4:]:
            return {f"{field}:p": value}  # the extracted prefixes: an equality every engine indexes
        return {field: {"$regex": "^" + re.escape(value)}}
    if op == "contains":
        return {field: {"$regex": re.escape(value)}}
    if op == "word":
        return {field: {"$regex": r"(^|\s)" + re.escape(value)}}
    raise ValueError(f"unknown operator {op!r}")


def _cond(prefix: str, cond: Cond, kind: str) -> Filter:
    """``cond`` on dotted paths under ``prefix`` (one value, or the fields inside ``$elemMatch``)."""
    if isinstance(cond, AllOf):
        return and_(*(_cond(prefix, t, kind) for t in cond.terms))
    if isinstance(cond, OneOf):
        return or_(*(_cond(prefix, t, kind) for t in cond.terms))
    path = ".".join(p for p in (prefix, cond.part) if p)
    return _compare(path, cond, kind)


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
    """One element of ``field`` satisfying ``inner``: an OR of ``$elemMatch`` over plain documents
    (no $and / $or inside, which not every MongoDB implementation accepts)."""
    if inner in ({}, NEVER):
        return inner
    return or_(*({field: {"$elemMatch": _merge(conj)}} for conj in _dnf(inner)))


def _elem_scalar(field: str, inner: Filter) -> Filter:
    """A condition on one element of a list of scalars (``{x: {...}}`` -> ``$elemMatch``)."""
    if "$or" in inner:
        return or_(*(_elem_scalar(field, t) for t in inner["$or"]))
    if "$and" in inner:
        return {field: {"$elemMatch": _merge([{"x": t["x"]} for t in inner["$and"]])["x"]}}
    return {field: {"$elemMatch": inner["x"]}}


class Translator:
    """Plans into filters; nested queries run through ``lookup`` under ``policy_for``."""

    def __init__(self, policy_for: PolicyFor, lookup: Lookup):
        self.policy_for = policy_for
        self.lookup = lookup

    def live(self, type_: str | None, where: Where) -> Filter:
        """Every query on ``type_``: live, matching ``where``, then the type's policy (criteria
        first: an engine evaluating an AND in order tests the policy on the matches only)."""
        policy = policy_filter(self.policy_for(type_ or "Patient"))
        return and_(LIVE, self.where(type_, where), policy)

    def where(self, type_: str | None, node: Where) -> Filter:
        if isinstance(node, plan.And):
            return and_(*(self.where(type_, t) for t in node.terms))
        if isinstance(node, plan.Or):
            return or_(*(self.where(type_, t) for t in node.terms))
        if isinstance(node, plan.Not):
            return nor(self.where(type_, node.term))
        if isinstance(node, plan.Value):
            return self._value(node)
        if isinstance(node, plan.Exists):
            return {f"idx.{node.key}": {"$exists": True}}
        if isinstance(node, plan.Column):
            return _cond_column(COLUMNS[node.name], node.cond)
        if isinstance(node, plan.Attr):
            return policy_filter(node.predicate)
        if isinstance(node, plan.Refers):
            sub = self.live(node.target, node.where)
            if sub == NEVER:
                return NEVER
            forms = sorted({f"{node.target}/{id_}" for id_ in self.lookup(node.target, sub, None)})
            return _in(f"idx.{node.key}", forms)
        if isinstance(node, plan.ReferredBy):
            sub = self.live(node.source, node.where)
            if sub == NEVER or type_ is None:
                return NEVER
            prefix = f"{type_}/"
            ids = {r[len(prefix) :] for r in self.lookup(node.source, sub, node.key) if r.startswith(prefix)}
            return _in("_id", sorted(ids))
        raise TypeError(f"not a plan node: {node!r}")

    def _value(self, node: plan.Value) -> Filter:
        field = f"idx.{node.key}"
        cond = node.cond
        if node.kind == "composite":
            return _elem_match(field, _cond("", cond, node.kind))
        if node.kind == "number" and node.multi:
            return _elem_scalar(field, _cond("x", cond, node.kind))
        if node.multi and node.kind in ("date", "quantity"):
            return _elem_match(field, _cond("", cond, node.kind))
        return _cond(field, cond, node.kind)


def _cond_column(field: str, cond: Cond) -> Filter:
    if isinstance(cond, AllOf):
        return and_(*(_cond_column(field, t) for t in cond.terms))
    if isinstance(cond, OneOf):
        return or_(*(_cond_column(field, t) for t in cond.terms))
    return _compare(field, cond, "column")


def sort_spec(sort: tuple[SortBy, ...]) -> list[tuple[str, int]]:
    """MongoDB sort keys, always ending with ``_id`` so pages are stable."""
    spec: list[tuple[str, int]] = []
    for by in sort:
        if by.kind == "column":
            path = COLUMNS[by.key]
        elif by.kind == "date":
            path = f"idx.{by.key}.lo"
        elif by.kind == "quantity":
            path = f"idx.{by.key}.v"
        else:
            path = f"idx.{by.key}"
        if all(p != path for p, _ in spec):
            spec.append((path, -1 if by.descending else 1))
    if all(p != "_id" for p, _ in spec):
        spec.append(("_id", 1))
    return spec
