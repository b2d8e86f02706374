"""HTTP details of the FHIR RESTful API: media types, bodies, headers and Prefer
(https://hl7.org/fhir/R4/http.html)."""
from __future__ import annotations

from email.utils import format_datetime
from datetime import UTC
from datetime import datetime
from typing import Any

import orjson
from flask import Response
from flask import request

from .errors import BadRequest
from .errors import NotAcceptable
from .errors import UnsupportedMediaType
from .storage import Stored

FHIR_JSON = "application/fhir+json"
JSON = "application/json"
JSON_PATCH = "application/json-patch+json"
FORM = "application/x-www-form-urlencoded"
SERVED = (FHIR_JSON, JSON)
#: `_format` values answering JSON (R4 http.html#mime-type)
FORMAT_ALIASES = {"json": FHIR_JSON, FHIR_JSON: FHIR_JSON, JSON: JSON, "text/json": JSON}
PREFER_RETURN = ("minimal", "representation", "OperationOutcome")


def negotiate() -> str:
    """The media type to answer with, from `_format` then Accept; 406 for what is not served."""
    fmt = request.args.get("_format")
    if fmt is not None:
        served = FORMAT_ALIASES.get(fmt.split(";")[0].strip())
        if served is None:
            raise NotAcceptable(f"_format '{fmt}' is not served: this server answers JSON only")
        return served
    if not request.headers.get("Accept", "").strip():
        return FHIR_JSON
    accept = request.accept_mimetypes
    _check_fhir_version(request.headers.get("Accept", ""))
    best = accept.best_match(SERVED)
    if best is None:
        raise NotAcceptable(
            f"Accept '{request.headers.get('Accept')}' is not served: use {FHIR_JSON} or {JSON}"
        )
    return best


def _check_fhir_version(header: str) -> None:
    for part in header.split(","):
        for param in part.split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "fhirversion" and value.strip() not in ("4.0", "4.0.1"):
                raise NotAcceptable(f"fhirVersion {value.strip()} is not served: this server is R4 (4.0)")


def body_json(allowed: tuple[str, ...] = SERVED) -> Any:
    """The request body parsed as JSON, after checking its Content-Type (415) and syntax (400)."""
    mime = (request.mimetype or "").lower()
    if mime not in allowed:
        raise UnsupportedMediaType(
            f"Content-Type '{request.content_type or ''}' is not accepted here: use {' or '.join(allowed)}"
        )
    _check_fhir_version(request.content_type or "")
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise BadRequest("The request body is empty")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}") from None


def prefer(name: str) -> str | None:
    """A Prefer header token value (`return`, `handling`), or None."""
    for part in request.headers.get("Prefer", "").split(","):
        for item in part.split(";"):
            key, _, value = item.strip().partition("=")
            if key.strip().lower() == name:
                return value.strip().strip('"')
    return None


def dumps(body: Any) -> bytes:
    pretty = request.args.get("_pretty", "").lower() == "true"
    return orjson.dumps(body, option=orjson.OPT_INDENT_2 if pretty else 0)


def respond(
    body: Any, status: int = 200, headers: dict[str, str] | None = None, *, mime: str | None = None
) -> Response:
    data = b"" if body is None else dumps(body)
    resp = Response(data, status=status, headers=headers or {})
    if body is not None:
        resp.content_type = f"{mime or _answer_type()}; charset=utf-8"
    return resp


def _answer_type() -> str:
    try:
        return negotiate()
    except NotAcceptable:
        return FHIR_JSON


def http_date(instant: str) -> str:
    parsed = datetime.strptime(instant, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return format_datetime(parsed, usegmt=True)


def version_headers(stored: Stored, base_url: str) -> dict[str, str]:
    return {
        "ETag": f'W/"{stored.vid}"',
        "Last-Modified": http_date(stored.ts),
        "Location": f"{base_url}/{stored.type}/{stored.id}/_history/{stored.vid}",
    }


def if_match_version() -> int | None:
    """The version an If-Match header asks for (W/"3" or "3"), or None."""
    raw = request.headers.get("If-Match")
    if raw is None:
        return None
    return parse_etag(raw, "If-Match")


def parse_etag(raw: str, header: str) -> int:
    value = raw.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    if not value.isdigit():
        raise BadRequest(f"{header} '{raw}' is not a version ETag such as W/\"3\"")
    return int(value)
