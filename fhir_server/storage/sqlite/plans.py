"""Translate search plans and consent predicates into SQL over the embedded store's tables.

Every query on a type goes through ``Translator.live``: ``deleted = 0``, the criteria, then the
type's consent predicate, so the policy of every type touched (main query, chain targets,
``_has`` sources) sits inside the one SQL statement. Values only ever enter as ``?`` parameters.
"""

from __future__ import annotations

import functools
from typing import Any

import orjson

from consent.predicate import ALLOW
from consent.predicate import After
from consent.predicate import And as PAnd
from consent.predicate import AnyOf
from consent.predicate import Empty
from consent.predicate import Not as PNot
from consent.predicate import Or as POr
from consent.predicate import Predicate
from search import plan
from search.plan import AllOf
from search.plan import Cmp
from search.plan import Cond
from search.plan import OneOf
from search.plan import SortBy
from search.plan import Where

from ..port import PolicyFor
from .schema import ACL_COLUMNS
from .schema import TABLES

#: the highest code point: ``prefix <= value < prefix + MAX_CHAR`` is a starts-with range
MAX_CHAR = "\U0010ffff"
_OPS = {"eq": "=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def encode_cond(cond: Cond) -> str:
    """A condition as JSON, for the ``carnet_match`` SQL function (composite values)."""

    def tree(c: Cond) -> Any:
        if isinstance(c, Cmp):
            return ["cmp", c.part, c.op, list(c.value) if isinstance(c.value, tuple) else c.value]
        return ["all" if isinstance(c, AllOf) else "one", [tree(t) for t in c.terms]]

    return orjson.dumps(tree(cond)).decode()


@functools.lru_cache(maxsize=256)
def _decode_cond(text: str) -> Cond:
    def build(node: Any) -> Cond:
        if node[0] == "cmp":
            value = tuple(node[3]) if isinstance(node[3], list) else node[3]
            return Cmp(node[1], node[2], value)
        terms = tuple(build(t) for t in node[1])
        return AllOf(terms) if node[0] == "all" else OneOf(terms)

    return build(orjson.loads(text))


def carnet_match(value: str, cond: str) -> int:
    """SQL function: whether a stored composite value (JSON) satisfies an encoded condition."""
    return int(plan.matches(_decode_cond(cond), orjson.loads(value)))


def _bounded(cond: Cond) -> Cond:
    """A date condition with the bounds it implies added (``lo <= hi`` on every stored range), so
    that ``eq`` reads a bounded slice of the ``lo`` index instead of everything after ``lo``."""
    if not isinstance(cond, AllOf):
        return cond
    extra: list[Cond] = []
    for term in cond.terms:
        if isinstance(term, Cmp) and term.part == "hi" and term.op in ("lt", "le"):
            extra.append(Cmp("lo", term.op, term.value))
        if isinstance(term, Cmp) and term.part == "lo" and term.op in ("gt", "ge"):
            extra.append(Cmp("hi", term.op, term.value))
    return AllOf((*cond.terms, *extra)) if extra else cond


#: a policy naming at most this many records drives the query from the ``patient`` index
MAX_SCOPE = 5000


def _patient_scope(pred: Predicate) -> tuple[frozenset[str], bool] | None:
    """The records a policy confines rows to — (``patient`` values, whether a null ``patient``,
    directory data, may pass) — or None when it does not confine them."""
    if isinstance(pred, AnyOf) and pred.path == "patient":
        return frozenset(pred.values), False
    if isinstance(pred, Empty) and pred.path == "patient":
        return frozenset(), True
    if isinstance(pred, PAnd):
        scopes = [s for s in (_patient_scope(t) for t in pred.terms) if s is not None]
        return scopes[0] if scopes else None
    if isinstance(pred, POr):
        records: set[str] = set()
        directory = False
        for term in pred.terms:
            scope = _patient_scope(term)
            if scope is None:
                return None
            records |= scope[0]
            directory = directory or scope[1]
        return frozenset(records), directory
    return None


def _drives(node: Where) -> bool:
    """Whether ``node`` holds, at its top level, a criterion an index answers (a row set to start from)."""
    if isinstance(node, plan.And):
        return any(_drives(t) for t in node.terms)
    if isinstance(node, plan.Or):
        return bool(node.terms) and all(_drives(t) for t in node.terms)
    return isinstance(node, (plan.Value, plan.Exists, plan.Refers, plan.ReferredBy))


class Translator:
    """One SQL statement's WHERE clauses; ``params`` collects the values in order."""

    def __init__(self, policy_for: PolicyFor):
        self.policy_for = policy_for
        self.params: list[Any] = []
        self._aliases = 0
        self._drive = True  # criteria may drive the query (else their row sets are only tested)

    def _alias(self) -> str:
        self._aliases += 1
        return f"t{self._aliases}"

    def param(self, value: Any) -> str:
        self.params.append(value)
        return "?"

    # a whole query on one type ----------------------------------------------------------------
    def live(self, type_: str | None, where: Where, alias: str) -> str:
        """Live ``type_`` rows under ``alias`` matching ``where`` and the type's policy."""
        terms = [f"{alias}.deleted = 0"]
        policy = self.policy_for(type_) if type_ is not None else ALLOW
        scope = _patient_scope(policy)
        narrow = scope is not None and len(scope[0]) <= MAX_SCOPE
        if type_ is not None:
            # with an indexed criterion (or the policy's records) to drive the query, keep SQLite
            # from walking every row of the type instead
            column = f"+{alias}.type" if narrow or _drives(where) else f"{alias}.type"
            terms.insert(0, f"{column} = {self.param(type_)}")
        if narrow:
            assert scope is not None
            # the records the policy allows, as an indexed condition on ``patient`` that drives the
            # query (a professional's searches read only the records they may open)
            terms.append(self._scope_sql(alias, scope))
        outer, self._drive = self._drive, not narrow
        try:
            terms.append(self.where(type_, where, alias))
        finally:
            self._drive = outer
        if type_ is None:
            terms.append(self.any_type_policy(alias))
        else:
            terms.append(self.predicate(policy, alias, "rows"))
        return " AND ".join(t for t in terms if t != "1")

    def _scope_sql(self, alias: str, scope: tuple[frozenset[str], bool]) -> str:
        records, directory = scope
        parts = []
        if records:
            parts.append(f"{alias}.patient IN ({', '.join(self.param(r) for r in sorted(records))})")
        if directory:
            parts.append(f"{alias}.patient IS NULL")
        return "(" + " OR ".join(parts) + ")" if parts else "0"

    def any_type_policy(self, alias: str) -> str:
        """The policy of the row's own type, for queries over every type."""
        if self.policy_for("Patient") == ALLOW:  # the server's own jobs: everything
            return "1"
        raise ValueError("queries over every type run with the server's own policy only")

    # criteria ---------------------------------------------------------------------------------
    def where(self, type_: str | None, node: Where, alias: str) -> str:
        if isinstance(node, plan.And):
            if not node.terms:
                return "1"
            return "(" + " AND ".join(self.where(type_, t, alias) for t in node.terms) + ")"
        if isinstance(node, plan.Or):
            if not node.terms:
                return "0"
            return "(" + " OR ".join(self.where(type_, t, alias) for t in node.terms) + ")"
        if isinstance(node, plan.Not):
            return f"NOT {self.where(type_, node.term, alias)}"
        if isinstance(node, plan.Value):
            table, _ = TABLES[node.kind]
            type_sql = f"type = {self.param(type_)} AND " if type_ is not None else ""
            key = self.param(node.key)
            rid = f"{alias}.rid" if self._drive else f"+{alias}.rid"
            return (
                f"{rid} IN (SELECT rid FROM {table} WHERE {type_sql}code = {key} AND {self.cond(node.kind, node.cond)})"
            )
        if isinstance(node, plan.Exists):
            table, _ = TABLES[node.kind]
            type_sql = f"type = {self.param(type_)} AND " if type_ is not None else ""
            return f"{alias}.rid IN (SELECT rid FROM {table} WHERE {type_sql}code = {self.param(node.key)})"
        if isinstance(node, plan.Column):
            return self.column_cond(f"{alias}.{node.name}", node.cond)
        if isinstance(node, plan.Attr):
            return self.predicate(node.predicate, alias, "rows")
        if isinstance(node, plan.Refers):
            if type_ is None:
                raise ValueError("a chain needs a resource type")
            t = self._alias()
            head = (
                f"{alias}.rid IN (SELECT s.rid FROM sp_text s WHERE s.type = {self.param(type_)} "
                f"AND s.code = {self.param(node.key)} AND s.value IN ("
            )
            prefix = self.param(node.target + "/")
            inner = self.live(node.target, node.where, t)
            return f"{head}SELECT {prefix} || {t}.id FROM resource {t} WHERE {inner}))"
        if isinstance(node, plan.ReferredBy):
            if type_ is None:
                raise ValueError("a reverse chain needs a resource type")
            t = self._alias()
            start = self.param(len(type_) + 2)
            source, key = self.param(node.source), self.param(node.key)
            lo, hi = self.param(type_ + "/"), self.param(type_ + "0")
            head = (
                f"{alias}.id IN (SELECT substr(s.value, {start}) FROM sp_text s JOIN resource {t} ON {t}.rid = s.rid "
                f"WHERE s.type = {source} AND s.code = {key} AND s.value >= {lo} AND s.value < {hi} AND "
            )
            return head + self.live(node.source, node.where, t) + ")"
        raise TypeError(f"not a plan node: {node!r}")

    def cond(self, kind: str, cond: Cond) -> str:
        """A condition on one row of ``kind``'s value table (columns named by the parts)."""
        if kind == "composite":
            return f"carnet_match(value, {self.param(encode_cond(cond))})"
        if kind == "date":
            cond = _bounded(cond)
        if isinstance(cond, AllOf):
            return "(" + " AND ".join(self.cond(kind, t) for t in cond.terms) + ")"
        if isinstance(cond, OneOf):
            return "(" + " OR ".join(self.cond(kind, t) for t in cond.terms) + ")"
        column = cond.part or TABLES[kind][1][0]
        if column not in TABLES[kind][1]:
            raise ValueError(f"no part {column!r} in {kind} values")
        return self.compare(column, cond)

    def column_cond(self, column: str, cond: Cond) -> str:
        if isinstance(cond, AllOf):
            return "(" + " AND ".join(self.column_cond(column, t) for t in cond.terms) + ")"
        if isinstance(cond, OneOf):
            return "(" + " OR ".join(self.column_cond(column, t) for t in cond.terms) + ")"
        return self.compare(column, cond)

    def compare(self, column: str, cmp: Cmp) -> str:
        op, value = cmp.op, cmp.value
        if op in _OPS:
            return f"{column} {_OPS[op]} {self.param(value)}"
        if op == "in":
            if not value:
                return "0"
            return f"{column} IN ({', '.join(self.param(v) for v in value)})"
        if op == "prefix":
            return f"({column} >= {self.param(value)} AND {column} < {self.param(value + MAX_CHAR)})"
        if op == "contains":
            return f"instr({column}, {self.param(value)}) > 0"
        if op == "word":
            return (
                f"(({column} >= {self.param(value)} AND {column} < {self.param(value + MAX_CHAR)}) "
                f"OR instr({column}, {self.param(' ' + value)}) > 0)"
            )
        raise ValueError(f"unknown operator {op!r}")

    # consent ----------------------------------------------------------------------------------
    def predicate(self, pred: Predicate, alias: str, lists: str) -> str:
        """``pred`` on the access attributes of ``alias``: list attributes from ``acl`` rows
        (``lists`` = "rows", current versions) or from the row's ``acl`` JSON ("json", history)."""
        if isinstance(pred, PAnd):
            if not pred.terms:
                return "1"
            return "(" + " AND ".join(self.predicate(t, alias, lists) for t in pred.terms) + ")"
        if isinstance(pred, POr):
            if not pred.terms:
                return "0"
            return "(" + " OR ".join(self.predicate(t, alias, lists) for t in pred.terms) + ")"
        if isinstance(pred, PNot):
            return f"NOT {self.predicate(pred.term, alias, lists)}"
        path = pred.path
        if path in ACL_COLUMNS or path == "type":
            column = f"{alias}.{path}"
            if isinstance(pred, Empty):
                return f"{column} IS NULL"
            if isinstance(pred, AnyOf):
                if not pred.values:
                    return "0"
                return f"({column} IS NOT NULL AND {column} IN ({', '.join(self.param(v) for v in pred.values)}))"
            if isinstance(pred, After):
                return f"({column} IS NOT NULL AND {column} > {self.param(pred.instant)})"
        if isinstance(pred, AnyOf) and not pred.values:
            return "0"
        source = self._list_source(alias, path, lists)
        if isinstance(pred, Empty):
            return f"NOT EXISTS (SELECT 1 FROM {source})"
        if isinstance(pred, AnyOf):
            values = ", ".join(self.param(v) for v in pred.values)
            return f"EXISTS (SELECT 1 FROM {source} AND value IN ({values}))"
        if isinstance(pred, After):
            return f"EXISTS (SELECT 1 FROM {source} AND value > {self.param(pred.instant)})"
        raise TypeError(f"not a consent predicate: {pred!r}")

    def _list_source(self, alias: str, path: str, lists: str) -> str:
        """A FROM ... WHERE head yielding one ``value`` per item of list attribute ``path``."""
        if lists == "rows":
            return f"acl WHERE acl.rid = {alias}.rid AND acl.path = {self.param(path)}"
        return f"json_each({alias}.acl, {self.param('$.' + path)}) WHERE 1"

    # sort -------------------------------------------------------------------------------------
    def order(self, sort: tuple[SortBy, ...], alias: str, *, by_index: bool = True) -> str:
        """ORDER BY terms: each key's smallest (ascending) or largest (descending) value, then id.

        ``by_index`` False: the id tie-break is written ``+id``, so SQLite drives the query from
        the criteria's indexes and sorts the matches, instead of walking every id of the type in
        order and testing each (it would, to skip the sort)."""
        terms: list[str] = []
        for by in sort:
            direction = "DESC" if by.descending else "ASC"
            if by.kind == "column":
                terms.append(f"{alias}.{by.key} {direction}")
                continue
            table, columns = TABLES[by.kind]
            pick = "max" if by.descending else "min"
            code = self.param(by.key)
            terms.append(
                f"(SELECT {pick}({columns[0]}) FROM {table} WHERE rid = {alias}.rid AND code = {code}) {direction}"
            )
        if all(by.key != "id" for by in sort):
            terms.append(f"{'' if by_index else '+'}{alias}.id ASC")
        return ", ".join(terms)
