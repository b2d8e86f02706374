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

Consent follows the securityContext DocumentReference (``indexing.binary_acl``). This module is
the content side (what a write stores, the JSON form a read answers); ``binary_routes`` the endpoints.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO
from typing import Any

from flask import current_app

from .access import current_access
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
    uploader = _uploader_of(current) if current is not None and not current.deleted else current_access().requester.ref
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
    if stored is None or stored.deleted or not current_access().can_see(stored):
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


__all__ = ["Content", "as_json", "check_context", "max_bytes", "prepare", "store_content", "too_large"]
