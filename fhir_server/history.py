"""History bundles (https://hl7.org/fhir/R4/http.html#history), newest first, consent-filtered
in the query on both the version's and the current version's access attributes."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import current_app
from flask import request

from consent.predicate import DENY
from consent.predicate import Predicate
from search import normalize
from search import paging

from . import auth
from . import catalog
from . import searchset
from .access import Access
from .errors import BadRequest
from .storage import Scoped
from .storage import Stored

#: types system history leaves out
UNLISTED = {"AuditEvent"}
HISTORY_PARAMS = {"_count", "_since", "_at", "_page", "_format", "_pretty"}


def _count() -> int:
    raw = request.args.get("_count", str(current_app.config["DEFAULT_COUNT"]))
    if not raw.isdigit():
        raise BadRequest(f"_count '{raw}' is not a non-negative integer")
    return min(int(raw), int(current_app.config["MAX_COUNT"]))


def _at() -> tuple[str, str] | None:
    """``_at``: the period (a date, or an instant) in which the versions listed were current."""
    value = request.args.get("_at")
    if value is None:
        return None
    try:
        return normalize.date_range(value)
    except ValueError as exc:
        raise BadRequest(f"Invalid value '{value}' for parameter '_at': {exc}", expression=["_at"]) from None


def _since() -> str | None:
    unknown = set(request.args) - HISTORY_PARAMS
    if unknown:
        raise BadRequest(f"Unknown history parameter(s): {', '.join(sorted(unknown))}")
    since = request.args.get("_since")
    return searchset.instant_bound(since, "_since") if since else None


def entry(base_url: str, stored: Stored) -> dict[str, Any]:
    url = f"{stored.type}/{stored.id}"
    out: dict[str, Any] = {"fullUrl": f"{base_url}/{url}"}
    if not stored.deleted:
        out["resource"] = stored.fragment()
    out["request"] = {
        "method": stored.method,
        "url": url if stored.method != "POST" else stored.type,
    }
    out["response"] = {
        "status": "204" if stored.deleted else ("201" if stored.vid == 1 else "200"),
        "etag": f'W/"{stored.vid}"',
        "lastModified": stored.ts,
    }
    return out


def bundle(
    access: Access, base_url: str, resource_type: str | None, id_: str | None, store: Scoped | None = None
) -> tuple[dict[str, Any], list[Stored]]:
    """The history Bundle and the versions it holds (``resource_type`` None: the system's,
    read through ``store``, by default the caller's)."""
    count, offset = _count(), searchset.page_offset(request.args.get("_page"))
    since, at = _since(), _at()
    reader = store or access.store
    total, versions = reader.history(resource_type, id_, since, offset, count, **({"at": at} if at else {}))
    if resource_type is None:
        path = "_history"
    else:
        path = f"{resource_type}/{id_}/_history" if id_ else f"{resource_type}/_history"
    kept = [(k, v) for k, v in request.args.items(multi=True) if k not in ("_page",)]

    def link(relation: str, at: int) -> dict[str, str]:
        params = kept + ([("_page", paging.encode(at))] if at else [])
        query = urlencode(params)
        return {"relation": relation, "url": f"{base_url}/{path}" + (f"?{query}" if query else "")}

    links = [link("self", offset), link("first", 0)]
    if offset + count < total:
        links.append(link("next", offset + count))
    if offset > 0:
        links.append(link("previous", max(offset - count, 0)))
    return {
        "resourceType": "Bundle",
        "type": "history",
        "total": total,
        "link": links,
        "entry": [entry(base_url, v) for v in versions],
    }, versions


def system_bundle(access: Access, base_url: str) -> tuple[dict[str, Any], list[Stored]]:
    """``GET [base]/_history``: every type's versions, each under that type's consent policy; the
    types the token's scopes (or the catalog) do not open to history count as empty. The access
    traces are left out (``AuditEvent/_history`` lists them): each page's own trace would land on
    top of the history and shift the pages the caller is walking."""
    served = catalog.load().types
    requester = access.requester

    def policy_for(resource_type: str) -> Predicate:
        entry_ = served.get(resource_type)
        if (
            resource_type in UNLISTED
            or entry_ is None
            or "history-type" not in entry_.interactions
            or not auth.allows(requester.scopes, requester.kind, resource_type, "history-type")
        ):
            return DENY
        return access.policy_for(resource_type)

    return bundle(access, base_url, None, None, Scoped(access.repo, policy_for))
