"""What a write stores beside the resource: search values (`idx`) and access attributes (`acl`)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from consent.attributes import access_attributes
from search import compartment
from search import extract
from search import registry

#: who stored a Binary (``Binary.meta.extension``: Binary has no ``extension`` of its own); set by
#: the server on create, kept on update
UPLOADER = "https://carnet.example.org/fhir/StructureDefinition/uploader"
#: the only securityContext whose consent a Binary follows
CONTEXT_TYPE = "DocumentReference"


def access_attributes_of(resource_type: str, resource: dict[str, Any]) -> dict[str, Any]:
    patients = compartment.patient_refs(registry.load(), resource_type, resource)
    return access_attributes(resource_type, resource, patients)


def index_resource(
    resource_type: str, resource: dict[str, Any], context: Callable[[str], dict[str, Any] | None] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(idx, acl); ``context`` reads the current acl of a Binary's securityContext (the adapters
    pass it, inside the write's transaction)."""
    idx = extract.index_values(registry.load(), resource_type, resource)
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
