"""Compile parsed criteria and sort keys into a backend-neutral plan (``search.plan``).

User input only ever becomes values in the plan, never keys or operators. Chains and ``_has``
become nested plans (``Refers`` / ``ReferredBy``) that the storage adapter runs inside the same
query, each under its own type's consent policy. Semantics: https://hl7.org/fhir/R4/search.html.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from typing import Any

from . import fulltext
from . import normalize
from .errors import SearchError
from .parse import Criterion
from .parse import SortKey
from .plan import FALSE
from .plan import TRUE
from .plan import AllOf
from .plan import Cmp
from .plan import Column
from .plan import Cond
from .plan import Exists
from .plan import ReferredBy
from .plan import Refers
from .plan import SortBy
from .plan import Value
from .plan import Where
from .plan import all_of
from .plan import and_
from .plan import not_
from .plan import one_of
from .plan import or_
from .registry import ParamDef
from .registry import Registry
from .values import DateValue
from .values import OfTypeValue
from .values import QuantityValue
from .values import TokenValue

__all__ = ["compile_criteria", "reference_forms", "sort_keys"]

#: stored columns of ``ParamDef.field`` parameters
COLUMNS = {"_id": "id", "ts": "ts"}


def token_form(value: TokenValue) -> str:
    """The stored form a token search value equals (``search.extract.token_forms``)."""
    if not value.has_system:
        return value.code or ""
    if value.code is None:
        return f"{value.system}|"
    return f"{value.system or ''}|{value.code}"


def _date_cond(value: DateValue, now: datetime) -> Cond:
    """The FHIR date comparison of a search range with a stored range (parts lo, hi)."""
    q_lo, q_hi = value.lo, value.hi
    eq = all_of(Cmp("lo", "ge", q_lo), Cmp("hi", "le", q_hi))
    p = value.prefix
    if p == "eq":
        return eq
    if p == "ne":
        return one_of(Cmp("lo", "lt", q_lo), Cmp("hi", "gt", q_hi))
    if p == "gt":
        return Cmp("hi", "gt", q_hi)
    if p == "lt":
        return Cmp("lo", "lt", q_lo)
    if p == "ge":
        return one_of(Cmp("hi", "gt", q_hi), eq)
    if p == "le":
        return one_of(Cmp("lo", "lt", q_lo), eq)
    if p == "sa":
        return Cmp("lo", "gt", q_hi)
    if p == "eb":
        return Cmp("hi", "lt", q_lo)
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
    return all_of(Cmp("lo", "le", wide_hi), Cmp("hi", "ge", wide_lo))


def _number_cond(prefix: str, value: float, lo: float, hi: float, part: str) -> Cond:
    if prefix == "eq":
        return all_of(Cmp(part, "ge", lo), Cmp(part, "lt", hi))
    if prefix == "ne":
        return one_of(Cmp(part, "lt", lo), Cmp(part, "ge", hi))
    if prefix in ("gt", "sa"):
        return Cmp(part, "gt", value)
    if prefix in ("lt", "eb"):
        return Cmp(part, "lt", value)
    if prefix == "ge":
        return Cmp(part, "ge", value)
    if prefix == "le":
        return Cmp(part, "le", value)
    margin = abs(value) * 0.1
    return all_of(Cmp(part, "ge", value - margin), Cmp(part, "le", value + margin))


def _quantity_cond(value: QuantityValue, prefix: str = "") -> Cond:
    def part(name: str) -> str:
        return f"{prefix}.{name}" if prefix else name

    terms = [_number_cond(value.prefix, value.value, value.lo, value.hi, part("v"))]
    if value.system:
        terms.append(Cmp(part("s"), "eq", value.system))
    if value.code:
        terms.append(one_of(Cmp(part("c"), "eq", value.code), Cmp(part("u"), "eq", value.code)))
    return all_of(*terms)


def _one_of_values(part: str, values: list[str]) -> Cond | None:
    if not values:
        return None
    return Cmp(part, "in", tuple(values))


def reference_forms(registry: Registry, param: ParamDef, modifier: str | None, value: str, base_url: str) -> list[str]:
    """The stored forms a reference search value may equal (``Type/id``, absolute URL, canonical)."""
    text = value
    base = base_url.rstrip("/")
    if base and text.startswith(base + "/"):
        text = text[len(base) + 1 :]
    if "/_history/" in text:
        text = text.split("/_history/", 1)[0]
    if ":" in text:  # absolute URL, urn, canonical
        return [text]
    if "/" in text:
        return [text] if not modifier or text.startswith(modifier + "/") else []
    if modifier:
        return [f"{modifier}/{text}"]
    return [f"{t}/{text}" for t in (param.targets or tuple(registry.by_type))]


class _Compiler:
    def __init__(self, registry: Registry, base_url: str, now: datetime):
        self.registry = registry
        self.base_url = base_url.rstrip("/")
        self.now = now

    def criteria(self, type_: str, criteria: tuple[Criterion, ...]) -> Where:
        return and_(*_merged_ranges([self.criterion(type_, c) for c in criteria]))

    def criterion(self, type_: str, c: Criterion) -> Where:
        if c.has is not None:
            has = c.has
            return ReferredBy(has.type, has.ref, self.criterion(has.type, has.inner))
        param = self.registry.param(type_, c.code)
        if param is None:
            raise SearchError(f"Unknown search parameter '{c.name}' for resource type {type_}", param=c.name)
        if c.chain:
            return or_(*(Refers(param.code, target, self.criterion(target, inner)) for target, inner in c.chain))
        if c.missing is not None:
            if param.field is not None:
                return FALSE if c.missing else TRUE
            present = Exists(param.code, param.type)
            return not_(present) if c.missing else present
        if c.modifier == "not":  # none of the values (gender:not=male,female)
            return not_(or_(*(self.value(param, None, v) for v in c.values)))
        return or_(*(self.value(param, c.modifier, v) for v in c.values))

    def value(self, param: ParamDef, modifier: str | None, value: Any) -> Where:
        code, kind = param.code, param.type
        if param.field is not None:
            return self._column(COLUMNS[param.field], kind, value)
        if kind == "string" and code in fulltext.CODES:  # the words, at word starts, in the indexed text
            return Value(code, kind, Cmp("", "word", fulltext.words(value)))
        if kind == "string":
            folded = normalize.fold(value)
            if modifier == "exact":
                return Value(f"{code}:x", kind, Cmp("", "eq", value))
            if modifier == "contains":
                return Value(code, kind, Cmp("", "contains", folded))
            return Value(code, kind, Cmp("", "prefix", folded))
        if kind == "token":
            if modifier == "text":
                return Value(f"{code}:t", kind, Cmp("", "word", normalize.fold(value)))
            if modifier == "of-type":
                assert isinstance(value, OfTypeValue)
                return Value(f"{code}:ot", kind, Cmp("", "eq", f"{value.type_system}|{value.type_code}|{value.value}"))
            return Value(code, kind, Cmp("", "eq", token_form(value)))
        if kind == "reference":
            if modifier == "identifier":
                return Value(f"{code}:i", kind, Cmp("", "eq", token_form(value)))
            cond = _one_of_values("", reference_forms(self.registry, param, modifier, value, self.base_url))
            return FALSE if cond is None else Value(code, kind, cond)
        if kind == "date":
            return Value(code, kind, _date_cond(value, self.now), param.multi)
        if kind == "number":
            return Value(code, kind, _number_cond(value.prefix, value.value, value.lo, value.hi, ""), param.multi)
        if kind == "quantity":
            return Value(code, kind, _quantity_cond(value), param.multi)
        if kind == "uri":
            if modifier == "below":
                return Value(code, kind, Cmp("", "prefix", value))
            if modifier == "above":
                return Value(code, kind, Cmp("", "in", tuple(_uri_ancestors(value))))
            return Value(code, kind, Cmp("", "eq", value))
        if kind == "composite":
            return Value(code, kind, self._composite(param, value), True)
        raise SearchError(f"Search parameter '{code}' of type {kind} is not supported", param=code)

    def _column(self, column: str, kind: str, value: Any) -> Where:
        if kind == "date":
            return Column(column, _date_cond(value, self.now))
        if isinstance(value, TokenValue):
            return Column(column, Cmp("", "eq", value.code)) if value.code else FALSE
        return Column(column, Cmp("", "eq", value))

    def _composite(self, param: ParamDef, parts: tuple[Any, ...]) -> Cond:
        terms: list[Cond] = []
        for n, (comp, value) in enumerate(zip(param.components, parts, strict=True)):
            key = str(n)
            if comp.type == "token":
                terms.append(Cmp(key, "eq", token_form(value)))
            elif comp.type == "reference":
                ref = ParamDef(comp.code, "reference", "", targets=())
                forms = reference_forms(self.registry, ref, None, value, self.base_url)
                terms.append(_one_of_values(key, forms) or Cmp(key, "in", ()))
            elif comp.type == "string":
                terms.append(Cmp(key, "prefix", normalize.fold(value)))
            elif comp.type == "date":
                terms.append(_prefixed(_date_cond(value, self.now), key))
            elif comp.type == "quantity":
                terms.append(_quantity_cond(value, key))
            elif comp.type == "number":
                terms.append(_number_cond(value.prefix, value.value, value.lo, value.hi, key))
            else:
                terms.append(Cmp(key, "eq", value))
        return all_of(*terms)


def _merged_ranges(terms: list[Where]) -> list[Where]:
    """ANDed conditions on the one value of a single-valued date parameter (``birthdate=ge1980&
    birthdate=lt1981``) as one condition on that value: the same matches, read as one index range."""
    out: list[Where] = []
    for term in terms:
        if isinstance(term, Value) and term.kind == "date" and not term.multi:
            same = next(
                (
                    i
                    for i, t in enumerate(out)
                    if isinstance(t, Value) and t.kind == "date" and t.key == term.key and not t.multi
                ),
                None,
            )
            if same is not None:
                first = out[same]
                assert isinstance(first, Value)
                out[same] = Value(first.key, "date", all_of(first.cond, term.cond))
                continue
        out.append(term)
    return out


def _prefixed(cond: Cond, prefix: str) -> Cond:
    """``cond`` with every part moved under ``prefix`` (a composite component's date range)."""
    if isinstance(cond, Cmp):
        return Cmp(f"{prefix}.{cond.part}" if cond.part else prefix, cond.op, cond.value)
    terms = tuple(_prefixed(t, prefix) for t in cond.terms)
    return all_of(*terms) if isinstance(cond, AllOf) else one_of(*terms)


def _uri_ancestors(uri: str) -> list[str]:
    out = [uri]
    head, sep, _ = uri.rstrip("/").rpartition("/")
    while sep and head and not head.endswith(("/", ":")):
        out.append(head)
        head, sep, _ = head.rpartition("/")
    return out


def compile_criteria(
    registry: Registry,
    resource_type: str,
    criteria: tuple[Criterion, ...],
    *,
    now: datetime,
    base_url: str = "",
) -> Where:
    """The plan of one search's criteria on ``resource_type`` at ``now`` (what ``ap`` dates are near);
    the adapter adds liveness and policy."""
    compiler = _Compiler(registry, base_url, now)
    return compiler.criteria(resource_type, criteria)


def sort_keys(registry: Registry, resource_type: str, keys: tuple[SortKey, ...]) -> tuple[SortBy, ...]:
    """The sort of ``_sort``; adapters end every sort with the id, so pages are stable."""
    out: list[SortBy] = []
    for key in keys:
        param = registry.param(resource_type, key.code)
        if param is None:
            raise SearchError(f"Cannot sort {resource_type} by '{key.code}'", param="_sort")
        if param.field is not None:
            by = SortBy(COLUMNS[param.field], "column", key.descending)
        else:
            by = SortBy(param.code, param.type, key.descending)
        if all(o.key != by.key for o in out):
            out.append(by)
    return tuple(out)
