"""IHE MHD on FHIR R4 as the French PDSm guide profiles it: the document rules of a provide
bundle (ITI-65) and of every DocumentReference write.

- ``check_attachments``: in a transaction, each DocumentReference attachment whose ``url`` names a
  Binary (written by the same Bundle, or already stored and visible) must match that content:
  ``size`` and ``hash`` (SHA-1, base64), when given, are checked (422 otherwise, before anything
  is stored) and filled in when absent.
- ``supersede``: a DocumentReference that ``relatesTo.replaces`` another makes that one
  ``superseded`` in the same transaction; only its author, the patient's attending physician or a
  system client may replace it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from consent import engine

from . import audit
from .access import current_access
from .errors import Forbidden
from .errors import NotFound
from .errors import Unprocessable
from .indexing import attachment_binary
from .storage import Stored
from .storage import get_store
from .storage.blobs import blob_key


def _digest_of_stored(ref: str) -> tuple[int, bytes] | None:

    store = get_store()
    stored = store.current("Binary", ref.split("/", 1)[1])
    if stored is None or stored.deleted or not current_access().can_see(stored):
        return None
    blob = store.open_blob(blob_key("Binary", stored.id, stored.vid))
    if blob is None:
        return None
    digest = hashlib.sha1()
    for piece in blob:
        digest.update(piece)
    return blob.size, digest.digest()


def bundle_contents(entries: list[Any]) -> dict[str, tuple[int, bytes]]:
    """``Binary/<id>`` -> (size, SHA-1) of the Binaries a Bundle writes with base64 ``data``."""
    out: dict[str, tuple[int, bytes]] = {}
    for entry in entries:
        resource = entry.resource
        if (
            entry.method not in ("POST", "PUT")
            or not isinstance(resource, dict)
            or resource.get("resourceType") != "Binary"
            or not isinstance(resource.get("data"), str)
        ):
            continue
        id_ = entry.assigned if entry.method == "POST" else (entry.parts[1] if len(entry.parts) == 2 else None)
        if id_ is None:
            continue
        try:
            data = base64.b64decode(resource["data"], validate=True)
        except (binascii.Error, ValueError):
            continue  # the Binary's own write answers 400
        out[f"Binary/{id_}"] = (len(data), hashlib.sha1(data).digest())
    return out


def check_attachments(entries: list[Any]) -> None:
    """Check and fill ``attachment.size``/``hash`` of the DocumentReferences a transaction writes."""
    written = bundle_contents(entries)
    for entry in entries:
        resource = entry.resource
        if (
            entry.method not in ("POST", "PUT")
            or not isinstance(resource, dict)
            or resource.get("resourceType") != "DocumentReference"
        ):
            continue
        for n, content in enumerate(resource.get("content") or []):
            attachment = content.get("attachment") if isinstance(content, dict) else None
            if isinstance(attachment, dict):
                check_attachment(attachment, written, f"{entry.label}: DocumentReference.content[{n}].attachment")


def check_attachment(attachment: dict[str, Any], written: dict[str, tuple[int, bytes]], where: str) -> None:
    known: tuple[int, bytes] | None = None
    if isinstance(attachment.get("data"), str):
        try:
            data = base64.b64decode(attachment["data"], validate=True)
        except (binascii.Error, ValueError):
            raise Unprocessable(f"{where}.data is not base64") from None
        known = len(data), hashlib.sha1(data).digest()
    else:
        ref = attachment_binary(attachment.get("url"))
        if ref is not None:
            known = written.get(ref) or _digest_of_stored(ref)
    if known is None:
        return
    size, sha1 = known
    given_size, given_hash = attachment.get("size"), attachment.get("hash")
    if given_size is not None and given_size != size:
        raise Unprocessable(
            f"{where}.size is {given_size} but the content holds {size} bytes",
            expression=["DocumentReference.content.attachment.size"],
        )
    expected = base64.b64encode(sha1).decode()
    if given_hash is not None and given_hash != expected:
        raise Unprocessable(
            f"{where}.hash '{given_hash}' is not the content's SHA-1 ({expected})",
            expression=["DocumentReference.content.attachment.hash"],
        )
    attachment["size"] = size
    attachment["hash"] = expected


def replaced(resource: dict[str, Any]) -> list[str]:
    """The ids of the DocumentReferences ``resource`` replaces."""
    out = []
    for relation in resource.get("relatesTo") or []:
        if isinstance(relation, dict) and relation.get("code") == "replaces":
            ref = (relation.get("target") or {}).get("reference")
            if isinstance(ref, str) and ref.startswith("DocumentReference/") and ref.count("/") == 1:
                out.append(ref.split("/", 1)[1])
    return out


def may_replace(old: Stored) -> bool:

    requester = current_access().caller()
    if requester.kind == "system":
        return True
    ids = engine.identities(requester)
    if ids & set(old.acl.get("authors") or ()):
        return True
    patient = old.acl.get("patient")
    state = current_access().states([patient]).get(patient) if isinstance(patient, str) else None
    return state is not None and bool(ids & state.general_practitioners)


def supersede(stored: Stored) -> None:
    """Inside the write's ``atomic()``: the documents ``stored`` replaces become ``superseded``."""

    if stored.type != "DocumentReference" or stored.deleted:
        return
    store = get_store()
    for id_ in replaced(stored.resource):
        if id_ == stored.id:
            continue
        old = store.current("DocumentReference", id_)
        if old is None or old.deleted or not current_access().can_see(old):
            raise NotFound(f"relatesTo.replaces: DocumentReference/{id_} is not known")
        if not may_replace(old):
            raise Forbidden(
                f"Not allowed to replace DocumentReference/{id_}: its author, the patient's "
                "attending physician or a system client only"
            )
        if old.resource.get("status") == "superseded":
            continue
        body = {**old.resource, "status": "superseded"}
        written = store.write("DocumentReference", id_, body, method="PUT")
        audit.trace(current_access(), "update", "DocumentReference", stored=written)
