"""What a write stores beside the resource: search values (`idx`) and access attributes (`acl`)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from consent.attributes import access_attributes
from search import compartment
from search import extract
from search import fulltext
from search import registry

from .fulltext import narrative
from .fulltext import text_of

#: who stored a Binary (``Binary.meta.extension``: Binary has no ``extension`` of its own); set by
#: the server on create, kept on update
UPLOADER = "https://carnet.example.org/fhir/StructureDefinition/uploader"
#: the only securityContext whose consent a Binary follows
CONTEXT_TYPE = "DocumentReference"


def access_attributes_of(resource_type: str, resource: dict[str, Any]) -> dict[str, Any]:
    reg = registry.load()
    patients = compartment.patient_refs(reg, resource_type, resource)
    return access_attributes(
        resource_type, resource, patients, compartment_type=resource_type in reg.patient_compartment
    )


def index_resource(
    resource_type: str,
    resource: dict[str, Any],
    context: Callable[[str], dict[str, Any] | None] | None = None,
    content: Callable[[str], tuple[str | None, bytes] | None] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(idx, acl); ``context`` reads the current acl of a Binary's securityContext, ``content`` the
    (contentType, bytes) of a Binary a DocumentReference attachment names (the adapters pass them,
    inside the write's transaction)."""
    idx = extract.index_values(registry.load(), resource_type, resource)
    if resource_type in fulltext.TYPES:
        idx.update(full_text(resource, content))
    if resource_type == "Binary":
        return idx, binary_acl(resource, context)
    return idx, access_attributes_of(resource_type, resource)


def security_context(resource: dict[str, Any]) -> str | None:
    """The ``DocumentReference/id`` a Binary's securityContext names, or None."""
    context = resource.get("securityContext")
    ref = context.get("reference") if isinstance(context, dict) else None
    if isinstance(ref, str) and ref.startswith(CONTEXT_TYPE + "/") and ref.count("/") == 1:
        return ref
    return None


def uploader(resource: dict[str, Any]) -> str | None:
    meta = resource.get("meta")
    for ext in (meta.get("extension") or []) if isinstance(meta, dict) else []:
        if isinstance(ext, dict) and ext.get("url") == UPLOADER:
            ref = (ext.get("valueReference") or {}).get("reference")
            return ref if isinstance(ref, str) else None
    return None


def binary_acl(resource: dict[str, Any], context: Callable[[str], dict[str, Any] | None] | None) -> dict[str, Any]:
    """A Binary's access attributes: those of its securityContext DocumentReference (consent
    follows the document: same record, flags, authors, matrix codes), plus ``context`` naming it;
    without one in a record, a private item (type ``Binary``, no compartment) whose authors are
    its uploader (and the document's authors): only they and system clients see it."""
    ref = security_context(resource)
    document = context(ref) if ref and context else None
    if document and document.get("patient"):
        return {**document, "context": ref}
    own = access_attributes("Binary", resource, [])
    people = {p for p in [uploader(resource), *((document or {}).get("authors") or [])] if p}
    return {**own, "authors": sorted(people), "actors": sorted(people), "context": ref}


def attachment_binary(url: Any) -> str | None:
    """``Binary/<id>`` when an attachment url names a Binary of this server (relative or absolute)."""
    if not isinstance(url, str):
        return None
    parts = url.split("?")[0].rstrip("/").split("/")
    return f"Binary/{parts[-1]}" if len(parts) >= 2 and parts[-2] == "Binary" and parts[-1] else None


def full_text(
    resource: dict[str, Any],
    content: Callable[[str], tuple[str | None, bytes] | None] | None,
) -> dict[str, str]:
    """``_text`` (the narrative) and ``_content`` (the attachments' text: inline ``data``, or the
    Binary its url names) search values of a document."""
    import base64

    texts = []
    for item in resource.get("content") or []:
        attachment = item.get("attachment") if isinstance(item, dict) else None
        if not isinstance(attachment, dict):
            continue
        mime = attachment.get("contentType")
        if isinstance(attachment.get("data"), str):
            with contextlib.suppress(ValueError):
                texts.append(text_of(mime, base64.b64decode(attachment["data"])))
            continue
        ref = attachment_binary(attachment.get("url"))
        found = content(ref) if ref and content else None
        if found is not None:
            texts.append(text_of(found[0] or mime, found[1]))
        if isinstance(attachment.get("title"), str):
            texts.append(attachment["title"])
    out = {}
    for code, text in (("_content", " ".join(texts)), ("_text", narrative(resource))):
        folded = fulltext.words(text)
        if folded:
            out[code] = folded
    return out
