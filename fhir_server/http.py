"""HTTP details of the FHIR RESTful API: media types, bodies, headers and Prefer
(https://hl7.org/fhir/R4/http.html)."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from email.utils import format_datetime
from typing import Any

import orjson
from flask import Response
from flask import current_app
from flask import has_request_context
from flask import request

from .errors import BadRequest
from .errors import NotAcceptable
from .errors import UnsupportedMediaType
from .errors import issue
from .limits import check_depth
from .storage import Stored

FHIR_JSON = "application/fhir+json"
JSON = "application/json"
JSON_PATCH = "application/json-patch+json"
FORM = "application/x-www-form-urlencoded"
SERVED = (FHIR_JSON, JSON)
#: `_format` values answering JSON (R4 http.html#mime-type)
FORMAT_ALIASES = {"json": FHIR_JSON, FHIR_JSON: FHIR_JSON, JSON: JSON, "text/json": JSON}
PREFER_RETURN = ("minimal", "representation", "OperationOutcome")
#: request parameters that shape the response, not the search
RESPONSE_PARAMS = {"_format", "_pretty"}


def base_url() -> str:
    """The FHIR base URL: ``BASE_URL``, else the request's host followed by ``/fhir`` ("" outside
    a request). The one place the server's own address is decided: links, references, token audiences."""
    configured = current_app.config.get("BASE_URL")
    if configured:
        return str(configured).rstrip("/")
    return request.host_url.rstrip("/") + "/fhir" if has_request_context() else ""


def negotiate() -> str:
    """The media type to answer with, from `_format` then Accept; 406 for what is not served."""
    fmt = request.args.get("_format")
    if fmt is not None:
        served = FORMAT_ALIASES.get(fmt.split(";")[0].strip().replace(" ", "+"))
        if served is None:
            raise NotAcceptable(f"_format '{fmt}' is not served: this server answers JSON only")
        return served
    header = request.headers.get("Accept", "").strip()
    if not header:
        return FHIR_JSON
    best, best_q = None, 0.0
    for media, q in _accept_items(header):
        served = FHIR_JSON if media in ("*/*", "application/*") else media
        if served in SERVED and q > best_q:
            best, best_q = served, q
    if best is None:
        raise NotAcceptable(f"Accept '{header}' is not served: use {FHIR_JSON} or {JSON}")
    return best


def _accept_items(header: str) -> list[tuple[str, float]]:
    """(media type, q) pairs of an Accept header; a fhirVersion other than R4's is refused."""
    items = []
    for part in header.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
            elif key.lower() == "fhirversion" and value.strip('"') not in ("4.0", "4.0.1"):
                q = 0.0
        items.append((media.lower(), q))
    return items


def _check_fhir_version(content_type: str) -> None:
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "fhirversion" and value.strip('"') not in ("4.0", "4.0.1"):
            raise UnsupportedMediaType(f"Content-Type '{content_type}' is not FHIR R4 (fhirVersion 4.0)")


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
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}") from None
    check_depth(parsed)
    return parsed


def json_patch_body() -> Any:
    """A PATCH body: JSON Patch, as ``application/json-patch+json`` or as a JSON array sent as
    ``application/json`` (what fhirpy and other clients send), or FHIRPath Patch (a ``Parameters``
    resource, ``application/fhir+json``); 415 for anything else."""
    operations = body_json((JSON_PATCH, JSON, FHIR_JSON))
    fhirpath_patch = isinstance(operations, dict) and operations.get("resourceType") == "Parameters"
    if (request.mimetype == JSON and not isinstance(operations, list)) or (
        request.mimetype == FHIR_JSON and not fhirpath_patch
    ):
        raise UnsupportedMediaType(
            f"A PATCH body is a JSON Patch array ({JSON_PATCH}) or a FHIRPath Patch Parameters resource ({FHIR_JSON})"
        )
    return operations


def prefer(name: str) -> str | None:
    """A Prefer header token value (`return`, `handling`), or None."""
    for part in request.headers.get("Prefer", "").split(","):
        for item in part.split(";"):
            key, _, value = item.strip().partition("=")
            if key.strip().lower() == name:
                return value.strip().strip('"')
    return None


def prefer_return() -> str:
    """What a write answers (Prefer: return=): ``minimal``, ``OperationOutcome``, else ``representation``."""
    wanted = prefer("return")
    return wanted if wanted in PREFER_RETURN else "representation"


def stored_issue(stored: Stored) -> dict[str, Any]:
    """The informational issue a write answers with under Prefer: return=OperationOutcome."""
    return issue("information", "informational", f"{stored.type}/{stored.id} stored as version {stored.vid}")


def lenient() -> bool:
    """Whether Prefer: handling=lenient lets a search ignore the parameters it does not know."""
    return prefer("handling") == "lenient"


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
