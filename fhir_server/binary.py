"""Binary content (https://hl7.org/fhir/R4/binary.html): raw bytes in, raw bytes out, kept as
content (chunked blobs, ``storage.blobs``), never as base64 inside a searchable document.

- ``POST/PUT [base]/Binary`` with any Content-Type: the raw body is the content,
  ``X-Security-Context: DocumentReference/<id>`` the securityContext; with
  ``application/fhir+json`` a Binary resource whose ``data`` (base64) is the content.
- ``GET [base]/Binary/<id>`` (and vread) answers the bytes with the stored Content-Type, unless the
  client asks for FHIR JSON (Accept ``application/fhir+json`` / ``application/json``, or
  ``_format=json``): then the resource with ``data``. A Binary stored without content (a JSON
  form with no ``data``) answers its JSON form.
- Above ``MAX_BINARY_BYTES`` (64 MiB): 413 with an OperationOutcome, from Content-Length before
  the body is read, else while it streams. A raw upload is spooled to a temporary file while read
  (SHA-1 and size computed on the way) and copied into the store inside the write's transaction:
  a slow client never holds the store's write lock, and 64 MiB never sit in memory.

Consent follows the securityContext DocumentReference (``indexing.binary_acl``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO
from typing import Any

from flask import Response
from flask import current_app
from flask import request

from . import http
from . import interactions as fhir
from .errors import BadRequest
from .errors import NotFound
from .errors import PayloadTooLarge
from .indexing import UPLOADER
from .indexing import security_context
from .indexing import uploader
from .storage import Stored
from .storage import get_store
from .storage.blobs import CHUNK_SIZE
from .storage.blobs import blob_key

DEFAULT_MAX = 64 * 1024 * 1024
SECURITY_CONTEXT = "X-Security-Context"
#: media types a Binary upload is read as a FHIR resource (base64 ``data``)
JSON_FORMS = (http.FHIR_JSON, http.JSON)


def max_bytes() -> int:
    return int(current_app.config.get("MAX_BINARY_BYTES") or DEFAULT_MAX)


@dataclass
class Content:
    """Content about to be stored: in memory (a JSON ``data``) or in a spooled file (a raw body)."""

    size: int
    sha1: bytes
    data: bytes | None = None
    file: IO[bytes] | None = None

    @classmethod
    def of_bytes(cls, data: bytes) -> Content:
        return cls(len(data), hashlib.sha1(data).digest(), data=data)

    def chunks(self) -> Iterator[bytes]:
        if self.data is not None:
            yield self.data
            return
        assert self.file is not None
        self.file.seek(0)
        while piece := self.file.read(CHUNK_SIZE):
            yield piece

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


def too_large(size: int | None = None) -> PayloadTooLarge:
    limit = max_bytes()
    said = f" ({size} bytes)" if size is not None else ""
    return PayloadTooLarge(f"Binary content{said} exceeds MAX_BINARY_BYTES ({limit} bytes)")


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
    spool = tempfile.TemporaryFile(prefix="carnet-binary-")  # noqa: SIM115 -- handed on in Content (closed here on failure)
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


def prepare(resource_type: str, body: dict[str, Any], current: Stored | None) -> tuple[dict[str, Any], Content | None]:
    """A Binary body as stored: ``data`` taken out as its content, the uploader stamped (kept from
    the current version on update). Other types pass through."""
    if resource_type != "Binary":
        return body, None
    check_context(body)
    body = dict(body)
    content = None
    if "data" in body:
        raw = body.pop("data")
        try:
            data = base64.b64decode(raw if isinstance(raw, str) else "", validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("Binary.data must be base64", expression=["Binary.data"]) from None
        if len(data) > max_bytes():
            raise too_large(len(data))
        content = Content.of_bytes(data)
    meta = dict(body.get("meta") or {})
    extensions = [e for e in meta.get("extension") or [] if not (isinstance(e, dict) and e.get("url") == UPLOADER)]
    uploader = _uploader_of(current) if current is not None and not current.deleted else fhir.access().requester.ref
    if uploader:
        extensions.append({"url": UPLOADER, "valueReference": {"reference": uploader}})
    if extensions:
        meta["extension"] = extensions
    else:
        meta.pop("extension", None)
    if meta:
        body["meta"] = meta
    else:
        body.pop("meta", None)
    return body, content


def check_context(body: dict[str, Any]) -> None:
    """A securityContext DocumentReference must be one the caller sees: a hidden one answers
    exactly as an absent one (404), so an upload never tells whether a document exists."""
    ref = security_context(body)
    if ref is None:
        return
    stored = get_store().current("DocumentReference", ref.partition("/")[2])
    if stored is None or stored.deleted or not fhir.access().can_see(stored):
        raise NotFound(f"Binary.securityContext: {ref} is not known", expression=["Binary.securityContext"])


def _uploader_of(stored: Stored) -> str | None:
    return uploader(stored.resource)


def store_content(stored: Stored, content: Content) -> tuple[int, bytes]:
    """Put ``content`` under the version just written (inside the caller's ``atomic()``)."""
    store = get_store()
    try:
        stored_content = store.put_blob(blob_key(stored.type, stored.id, stored.vid), content.chunks())
    finally:
        content.close()
    document = security_context(stored.resource)
    if document is not None:  # its _content search values read this content
        store.refresh("DocumentReference", document.partition("/")[2])
    return stored_content


def as_json(stored: Stored) -> dict[str, Any]:
    """The Binary resource with its content as base64 ``data``."""
    resource = dict(stored.resource)
    blob = get_store().open_blob(blob_key(stored.type, stored.id, stored.vid))
    if blob is not None:
        resource["data"] = base64.b64encode(blob.read()).decode()
    return resource


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


__all__ = ["Content", "check_context", "prepare", "read", "store_content", "upload"]
