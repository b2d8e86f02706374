"""A profile as a StructureDefinition summary (https://hl7.org/fhir/R4/structuredefinition.html)."""
from __future__ import annotations

from typing import Any

from profiles.registry import get

_FHIR_VERSION = "4.0.1"


def summary(url: str) -> dict[str, Any]:
    """StructureDefinition with the differential of the profile `url`; KeyError when unknown."""
    doc = get(url)
    if doc is None:
        raise KeyError(url)
    elements = [{"id": element["path"], **element} for element in doc.differential]
    return {
        "resourceType": "StructureDefinition",
        "id": doc.url.rsplit("/", 1)[1],
        "url": doc.url,
        "name": doc.name,
        "title": doc.title,
        "status": doc.status,
        "description": doc.description,
        "fhirVersion": _FHIR_VERSION,
        "kind": "resource",
        "abstract": False,
        "type": doc.type,
        "baseDefinition": doc.base,
        "derivation": "constraint",
        "differential": {"element": elements},
    }
