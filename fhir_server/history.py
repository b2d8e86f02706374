"""History bundles (https://hl7.org/fhir/R4/http.html#history), newest first, consent-filtered
in the query on both the version's and the current version's access attributes."""
from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

from flask import current_app
from flask import request

from . import searching
from .access import Access
from .errors import BadRequest
from .storage import Stored

HISTORY_PARAMS = {"_count", "_since", "_at", "_page", "_format", "_pretty"}


def _count() -> int:
    raw = request.args.get("_count", str(current_app.config["DEFAULT_COUNT"]))
    if not raw.isdigit():
        raise BadRequest(f"_count '{raw}' is not a non-negative integer")
    return min(int(raw), int(current_app.config["MAX_COUNT"]))


def _offset() -> int:
    token = request.args.get("_page")
    if token is None:
        return 0
    try:
        return int(base64.urlsafe_b64decode(token.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(f"_page '{token}' is not a page of this history") from None


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode()


def _since() -> str | None:
    unknown = set(request.args) - HISTORY_PARAMS
    if unknown:
        raise BadRequest(f"Unknown history parameter(s): {', '.join(sorted(unknown))}")
    since = request.args.get("_since")
    return searching.instant_bound(since, "_since") if since else None


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


def bundle(access: Access, base_url: str, resource_type: str, id_: str | None) -> tuple[dict[str, Any], list[Stored]]:
    """The history Bundle and the versions it holds."""
    count, offset = _count(), _offset()
    total, versions = access.store.history(resource_type, id_, _since(), offset, count)
    path = f"{resource_type}/{id_}/_history" if id_ else f"{resource_type}/_history"
    kept = [(k, v) for k, v in request.args.items(multi=True) if k not in ("_page",)]

    def link(relation: str, at: int) -> dict[str, str]:
        params = kept + ([("_page", _page_token(at))] if at else [])
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
