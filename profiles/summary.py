"""A profile as a StructureDefinition summary (https://hl7.org/fhir/R4/structuredefinition.html)."""

from __future__ import annotations

import re
from typing import Any

from profiles.registry import get

_FHIR_VERSION = "4.0.1"
_SLICE = re.compile(r":[^.]+")  # Patient.identifier:INS-NIR.value -> Patient.identifier.value


def summary(url: str) -> dict[str, Any]:
    """StructureDefinition with the differential of the profile `url`; KeyError when unknown.

    Differential element ids keep the slice names (`Patient.identifier:INS-NIR`), paths drop them.
    """
    doc = get(url)
    if doc is None:
        raise KeyError(url)
    elements = [
        {**element, "id": element["path"], "path": _SLICE.sub("", element["path"])} for element in doc.differential
    ]
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
