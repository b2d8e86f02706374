"""Paging: opaque ``_page`` tokens and the Bundle's self / first / previous / next / last links.

A token encodes the page's offset in the result ordered by the request's sort keys plus ``_id``
(stable tie-break), so a link replays the same criteria, under the same consent policy, and
lands on the same page (https://hl7.org/fhir/R4/http.html#paging).
"""

from __future__ import annotations

import base64
import binascii
import json
from urllib.parse import urlencode

__all__ = ["decode", "encode", "links"]

_VERSION = 1
#: the largest offset a token may carry: far past any result, inside every store's integer range
MAX_OFFSET = 2**31 - 1


def encode(offset: int) -> str:
    """The ``_page`` token of ``offset``."""
    raw = json.dumps({"v": _VERSION, "o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str) -> int:
    """The offset in ``token``; ValueError when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):
        raise ValueError("not a page token") from None
    if not isinstance(data, dict) or data.get("v") != _VERSION:
        raise ValueError("not a page token")
    offset = data.get("o")
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= MAX_OFFSET:
        raise ValueError("not a page token")
    return offset


def _url(base: str, params: list[tuple[str, str]]) -> str:
    return f"{base}?{urlencode(params)}" if params else base


def links(
    base_url: str,
    path: str,
    applied: tuple[tuple[str, str], ...],
    count: int,
    offset: int,
    total: int | None,
    has_more: bool,
) -> list[dict[str, str]]:
    """Bundle.link entries for the page at ``offset`` of ``count`` entries."""
    base = f"{base_url}/{path}" if path else base_url
    kept = [(k, val) for k, val in applied if k != "_count"] + [("_count", str(count))]

    def at(relation: str, where: int) -> dict[str, str]:
        extra = [("_page", encode(where))] if where else []
        return {"relation": relation, "url": _url(base, kept + extra)}

    out = [at("self", offset), at("first", 0)]
    if offset > 0 and count > 0:
        out.append(at("previous", max(0, offset - count)))
    if has_more and count > 0:
        out.append(at("next", offset + count))
    if total is not None and count > 0:
        out.append(at("last", max(0, (total - 1) // count * count)))
    return out
