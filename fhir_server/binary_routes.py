"""The Binary endpoints (see ``binary``): raw or FHIR JSON uploads, and reads answering the bytes
or, when asked, the resource with base64 ``data``."""

from __future__ import annotations

import hashlib
import tempfile
from typing import Any

from flask import Response
from flask import request

from . import http
from . import interactions as fhir
from .binary import Content
from .binary import as_json
from .binary import max_bytes
from .binary import too_large
from .storage import Stored
from .storage import get_store
from .storage.blobs import CHUNK_SIZE
from .storage.blobs import blob_key

SECURITY_CONTEXT = "X-Security-Context"
#: media types a Binary upload is read as a FHIR resource (base64 ``data``)
JSON_FORMS = (http.FHIR_JSON, http.JSON)


def spool_request() -> Content:
    """The raw request body, streamed to a temporary file (413 above the limit, before reading
    when Content-Length says so)."""
    limit = max_bytes()
    if request.content_length is not None and request.content_length > limit:
        raise too_large(request.content_length)
    # Flask's MAX_CONTENT_LENGTH is for JSON bodies; one byte more, as Werkzeug's stream refuses to
    # read on once it reaches its limit (a body of exactly the limit is accepted, one byte more is not)
    request.max_content_length = limit + 1
    digest, size = hashlib.sha1(), 0
    spool = tempfile.TemporaryFile(prefix="carnet-binary-")  # noqa: SIM115 - Content.close() closes it
    try:
        while piece := request.stream.read(CHUNK_SIZE):
            size += len(piece)
            if size > limit:
                raise too_large()
            digest.update(piece)
            spool.write(piece)
    except BaseException:
        spool.close()
        raise
    return Content(size, digest.digest(), file=spool)


def wants_json() -> bool:
    """Whether the client asked for the FHIR JSON form rather than the bytes."""
    fmt = request.args.get("_format")
    if fmt is not None:
        return fmt.split(";")[0].strip().replace(" ", "+") in http.FORMAT_ALIASES
    return any(q > 0 and media in JSON_FORMS for media, q in http._accept_items(request.headers.get("Accept", "")))


def raw_response(stored: Stored, base_url: str) -> Response:
    """The bytes of ``stored``, streamed chunk by chunk."""
    headers = http.version_headers(stored, base_url)
    del headers["Location"]
    blob = get_store().open_blob(blob_key(stored.type, stored.id, stored.vid))
    assert blob is not None
    headers["Content-Length"] = str(blob.size)
    return Response(
        iter(blob),
        200,
        headers,
        content_type=stored.resource.get("contentType") or "application/octet-stream",
        direct_passthrough=True,
    )


def upload(id_: str | None) -> fhir.Outcome:
    """POST (``id_`` None) or PUT of a Binary, raw or as FHIR JSON."""
    if (request.mimetype or "").lower() in JSON_FORMS:
        if request.content_length is not None and request.content_length > max_bytes() * 4 // 3 + 65536:
            raise too_large(request.content_length)
        request.max_content_length = max_bytes() * 4 // 3 + 65536
        body: dict[str, Any] = http.body_json()
        return (
            fhir.create("Binary", body, request.headers.get("If-None-Exist"))
            if id_ is None
            else fhir.update("Binary", id_, body, http.if_match_version())
        )
    fhir.allow("Binary", "create" if id_ is None else "update")  # before reading the body
    context = request.headers.get(SECURITY_CONTEXT, "").strip()
    body = {"resourceType": "Binary", "contentType": request.content_type or "application/octet-stream"}
    if id_ is not None:
        body["id"] = id_
    if context:
        body["securityContext"] = {"reference": context}
    content = spool_request()
    try:
        if id_ is None:
            return fhir.create("Binary", body, request.headers.get("If-None-Exist"), content=content)
        return fhir.update("Binary", id_, body, http.if_match_version(), content=content)
    finally:
        content.close()


def read(id_: str, vid: str | None, base_url: str) -> Response:
    """read or vread of a Binary: bytes, or the JSON form when asked."""
    stored = fhir.read("Binary", id_) if vid is None else fhir.vread("Binary", id_, vid)
    blob_missing = get_store().open_blob(blob_key(stored.type, stored.id, stored.vid)) is None
    if wants_json() or blob_missing:  # a Binary stored without content has only its FHIR form
        headers = http.version_headers(stored, base_url)
        if vid is None:
            del headers["Location"]
        return http.respond(as_json(stored), 200, headers, mime=http._answer_type())
    none_match = request.headers.get("If-None-Match")
    if vid is None and none_match and http.parse_etag(none_match, "If-None-Match") == stored.vid:
        return Response(b"", 304, {"ETag": f'W/"{stored.vid}"'})
    return raw_response(stored, base_url)


__all__ = ["read", "upload"]
