"""``_include`` / ``_revinclude``: which other resources a page brings along
(https://hl7.org/fhir/R4/search.html#include).

Pure: from the page's stored documents (their ``idx`` reference values) to the id lists and
filters the edge fetches, each query then ANDed with the target type's consent policy.
"""
from __future__ import annotations

from typing import Any

from .compile import Filter
from .compile import or_
from .parse import Include
from .registry import Registry

__all__ = ["include_ids", "revinclude_filters"]


def _codes(registry: Registry, inc: Include) -> list[str]:
    if inc.code is not None:
        return [inc.code]
    return [c for c, p in registry.params(inc.source).items() if p.type == "reference" and p.field is None]


def _local(ref: str) -> tuple[str, str] | None:
    """``Type/id`` -> (Type, id); None for absolute URLs, canonicals and urns."""
    if ":" in ref:
        return None
    parts = ref.split("/")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        return None
    return parts[0], parts[1]


def include_ids(
    registry: Registry,
    docs: list[tuple[str, dict[str, Any]]],
    includes: tuple[Include, ...],
    known_types: set[str],
) -> dict[str, set[str]]:
    """Target type -> ids referenced by ``docs`` ((type, stored doc) pairs) through ``includes``."""
    out: dict[str, set[str]] = {}
    for inc in includes:
        for type_, doc in docs:
            if type_ != inc.source:
                continue
            idx = doc.get("idx") or {}
            for code in _codes(registry, inc):
                values = idx.get(code) or []
                for ref in values if isinstance(values, list) else [values]:
                    local = _local(ref) if isinstance(ref, str) else None
                    if local is None or local[0] not in known_types:
                        continue
                    if inc.target is not None and local[0] != inc.target:
                        continue
                    out.setdefault(local[0], set()).add(local[1])
    return out


def revinclude_filters(
    registry: Registry,
    docs: list[tuple[str, dict[str, Any]]],
    revincludes: tuple[Include, ...],
) -> list[tuple[str, Filter]]:
    """(source type, criteria) for resources whose reference parameters point at ``docs``."""
    out: list[tuple[str, Filter]] = []
    for inc in revincludes:
        refs = sorted({
            f"{t}/{d['_id']}" for t, d in docs if inc.target is None or inc.target == t
        })
        if not refs:
            continue
        terms = [{f"idx.{code}": {"$in": refs}} for code in _codes(registry, inc)]
        if terms:
            out.append((inc.source, or_(*terms)))
    return out
