"""``_summary`` and ``_elements``: the subset of a stored resource a search entry carries.

https://hl7.org/fhir/R4/search.html#summary and #elements. Top-level elements only; the
mandatory ones, ``id`` and ``meta`` always stay, and subsetted resources are tagged
``SUBSETTED``. The stored resource is never modified: a new dict is returned.
"""

from __future__ import annotations

from typing import Any

from .registry import Registry

__all__ = ["SUBSETTED", "shape"]

SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"}
_ALWAYS = ("resourceType", "id", "meta")


def _wanted(key: str, names: set[str]) -> bool:
    if key in names:
        return True
    # a choice element named without its type suffix: deceased -> deceasedBoolean
    return any(key.startswith(n) and key[len(n) :][:1].isupper() for n in names)


def _tagged(resource: dict[str, Any]) -> dict[str, Any]:
    meta = dict(resource.get("meta") or {})
    tags = list(meta.get("tag") or [])
    if not any(t.get("code") == "SUBSETTED" and t.get("system") == SUBSETTED["system"] for t in tags):
        tags.append(dict(SUBSETTED))
    meta["tag"] = tags
    return {**resource, "meta": meta}


def shape(
    registry: Registry,
    resource_type: str,
    resource: dict[str, Any],
    summary: str | None,
    elements: tuple[str, ...] | None,
) -> dict[str, Any]:
    """``resource`` as ``_summary`` / ``_elements`` ask (the same object when nothing applies)."""
    if summary in (None, "false", "count") and not elements:
        return resource
    mandatory = set(registry.mandatory.get(resource_type, ())) | set(_ALWAYS)
    if summary == "data":
        kept = {k: v for k, v in resource.items() if k != "text"}
    elif summary == "text":
        kept = {k: v for k, v in resource.items() if k in mandatory or k == "text"}
    elif summary == "true":
        names = set(registry.summary.get(resource_type, ())) | mandatory
        kept = {k: v for k, v in resource.items() if k in names}
    else:
        kept = dict(resource)
    if elements:
        names = {e.split(".", 1)[1] if e.startswith(resource_type + ".") else e for e in elements}
        kept = {k: v for k, v in kept.items() if k in mandatory or _wanted(k, names)}
    return _tagged(kept)
