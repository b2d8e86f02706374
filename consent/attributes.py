"""Access attributes: the ``acl`` field stored beside each resource, the data consent filters on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from consent.elements import as_instant
from consent.elements import codes
from consent.elements import codings
from consent.elements import reference
from consent.elements import references
from consent.labels import CONFIDENTIALITY_ORDER
from consent.labels import TRE_A07
from consent.labels import TRE_A08
from consent.labels import V3_CONFIDENTIALITY
from consent.state import names_guardian

_CONFIDENTIALITY_SYSTEMS = frozenset({V3_CONFIDENTIALITY, TRE_A08})
#: elements naming who wrote an item (R4: DocumentReference.author, *.recorder, *.asserter)
_AUTHOR_ELEMENTS = ("author", "recorder", "asserter")


#: ``acl.orphan`` of a resource of a Patient-compartment type whose patient cannot be determined
ORPHAN = "yes"
#: ``acl.guardian`` of a RelatedPerson naming a legal representative (GUARD), and of any other
#: RelatedPerson; None for other types. Data stored before it existed has none: the write rules
#: then treat the RelatedPerson as a legal representative until ``carnet reindex`` recomputes it
GUARDIAN, NOT_GUARDIAN = "yes", "no"


def access_attributes(
    resource_type: str,
    resource: Mapping[str, Any],
    patients: list[str],
    *,
    compartment_type: bool = False,
) -> dict[str, object]:
    """The ``acl`` of a resource, given the Patient compartments (``Patient/id``) it belongs to.

    ``compartment_type``: whether the type belongs to the Patient compartment; such a resource with
    no compartment is an orphan (``orphan`` = ``ORPHAN``, else None): never directory data, only
    system clients and its authors read it.

    Keys: ``type``; ``patients`` (the compartments); ``patient`` (the primary one, whose consent
    state decides, None outside any compartment); ``labels`` (TRE_A07 flags); ``confidentiality``
    (v3 code, the most restrictive present); ``docClass``/``docType`` (DocumentReference
    category/type codes, else ``[]`` / ``[resource_type]``); ``authors`` (``Type/id``);
    ``deposited`` (DocumentReference.date, else meta.lastUpdated, as a fixed-width UTC instant that
    sorts as a string: the visibility timers compare it); ``actors``; ``orphan``; ``guardian``
    (RelatedPerson: ``GUARDIAN`` or ``NOT_GUARDIAN``, whatever its status or period, else None).
    """
    compartments = list(dict.fromkeys(patients))
    own = f"Patient/{resource.get('id')}" if resource_type == "Patient" and resource.get("id") else None
    if own and own not in compartments:
        compartments.insert(0, own)
    given = resource.get("meta")
    meta: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    labelled = (
        [resource.get("securityLabel"), meta.get("security")]
        if resource_type == "DocumentReference"
        else [meta.get("security")]
    )
    flags = {code for value in labelled for code in codes(value, frozenset({TRE_A07}))}
    levels = [code for value in labelled for code in codes(value, _CONFIDENTIALITY_SYSTEMS)]
    document = resource_type == "DocumentReference"
    return {
        "type": resource_type,
        "patients": compartments,
        "patient": _primary(own, resource, compartments),
        "labels": sorted(flags),
        "confidentiality": max(levels, key=_restriction, default=None),
        "docClass": _codes(resource.get("category")) if document else [],
        "docType": _codes(resource.get("type")) if document else [resource_type],
        "authors": sorted(_authors(resource_type, resource)),
        "deposited": (as_instant(resource.get("date")) if document else None) or as_instant(meta.get("lastUpdated")),
        "actors": sorted(_actors(resource_type, resource)),
        "orphan": ORPHAN if compartment_type and not compartments else None,
        "guardian": _guardian(resource) if resource_type == "RelatedPerson" else None,
    }


def _guardian(person: Mapping[str, Any]) -> str:
    return GUARDIAN if names_guardian(person) else NOT_GUARDIAN


def _primary(own: str | None, resource: Mapping[str, Any], compartments: list[str]) -> str | None:
    """The compartment whose consent state governs the resource: its own, subject or patient, else the first."""
    candidates = [own, reference(resource.get("subject")), reference(resource.get("patient"))]
    chosen = next((c for c in candidates if c in compartments), None)
    return chosen or (compartments[0] if compartments else None)


def _restriction(code: str) -> int:
    return CONFIDENTIALITY_ORDER.index(code) if code in CONFIDENTIALITY_ORDER else -1


def _codes(value: object) -> list[str]:
    return list(dict.fromkeys(c["code"] for c in codings(value) if isinstance(c.get("code"), str)))


def _actors(resource_type: str, resource: Mapping[str, Any]) -> set[str]:
    """Whose requests must load this record's consent state: the item's authors, the attending
    physicians a Patient names, the actors of a Consent's provisions, a RelatedPerson itself."""
    found = _authors(resource_type, resource)
    if resource_type == "Patient":
        found |= set(references(resource.get("generalPractitioner")))
    elif resource_type == "Consent":
        pending = [resource.get("provision")]
        while pending:
            provision = pending.pop()
            if isinstance(provision, Mapping):
                actors = [a.get("reference") for a in provision.get("actor") or [] if isinstance(a, Mapping)]
                found |= set(references(actors))
                pending.extend(provision.get("provision") or [])
    elif resource_type == "RelatedPerson" and resource.get("id"):
        found.add(f"RelatedPerson/{resource['id']}")
    return found


def _authors(resource_type: str, resource: Mapping[str, Any]) -> set[str]:
    if resource_type == "AuditEvent":
        # the professional responsible for the action reads its trace (R.1111-43)
        agents = [a for a in resource.get("agent") or [] if isinstance(a, Mapping) and a.get("requestor")]
        return set(references([a.get("who") for a in agents]))
    return {ref for element in _AUTHOR_ELEMENTS for ref in references(resource.get(element))}
