"""``_include`` / ``_revinclude``: which other resources a page brings along
(https://hl7.org/fhir/R4/search.html#include).

Pure: ``_include`` targets come from the reference values the page's resources hold (which the
storage adapter reads from its index); ``_revinclude`` becomes one plan per source type. Every
fetch then runs under the fetched type's consent policy.
"""

from __future__ import annotations

from collections.abc import Mapping

from .parse import Include
from .plan import Cmp
from .plan import Value
from .plan import Where
from .plan import or_
from .registry import Registry

__all__ = ["include_ids", "reference_codes", "revinclude_plans"]


def reference_codes(registry: Registry, inc: Include) -> list[str]:
    """The reference parameters an include follows (all of the source's when none is named)."""
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
    includes: tuple[Include, ...],
    references: Mapping[tuple[str, str], list[str]],
    known_types: set[str],
) -> dict[str, set[str]]:
    """Target type -> ids named through ``includes``; ``references`` maps (source type, include
    code) to the reference values the page's resources of that type hold under that code."""
    out: dict[str, set[str]] = {}
    for inc in includes:
        codes = set(reference_codes(registry, inc))
        for (source, code), values in references.items():
            if source != inc.source or code not in codes:
                continue
            for ref in values:
                local = _local(ref)
                if local is None or local[0] not in known_types:
                    continue
                if inc.target is not None and local[0] != inc.target:
                    continue
                out.setdefault(local[0], set()).add(local[1])
    return out


def revinclude_plans(
    registry: Registry,
    page: list[tuple[str, str]],
    revincludes: tuple[Include, ...],
) -> list[tuple[str, Where]]:
    """(source type, plan) for resources whose reference parameters point at ``page`` ((type, id) pairs)."""
    out: list[tuple[str, Where]] = []
    for inc in revincludes:
        refs = tuple(sorted({f"{t}/{i}" for t, i in page if inc.target is None or inc.target == t}))
        if not refs:
            continue
        codes = reference_codes(registry, inc)
        if codes:
            out.append((inc.source, or_(*(Value(code, "reference", Cmp("", "in", refs)) for code in codes))))
    return out
