"""Access traces: an AuditEvent (IHE BALP RESTful shape) for every read, search and write.

https://profiles.ihe.net/ITI/BALP/ — type `rest`, subtype the interaction, an agent for the
caller (fhirUser, purposeOfUse), entities for the patient and for what was returned. Each event
carries the visibility labels of what it names, so the consent engine filters the traces exactly
like the items themselves (a trace never reveals a hidden document). A trace that cannot be
written fails the request closed.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from flask import request

from .access import Access
from .audit_codes import ENTITY_TYPE
from .audit_codes import OBJECT_ROLE
from .audit_codes import PURPOSE
from .clock import instant
from .indexing import access_attributes_of
from .storage import Stored
from .storage import get_store

EVENT_TYPE = {
    "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
    "code": "rest",
    "display": "RESTful Operation",
}
INTERACTION_SYSTEM = "http://hl7.org/fhir/restful-interaction"
ACTION = {
    "create": "C",
    "read": "R",
    "vread": "R",
    "history": "R",
    "update": "U",
    "patch": "U",
    "delete": "D",
    "search": "E",
    "operation": "E",
}
A07 = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"


def _agent(access: Access) -> dict[str, Any]:
    who = access.requester
    agent: dict[str, Any] = {
        "type": {
            "coding": [
                {
                    "system": "http://dicom.nema.org/resources/ontology/DCM",
                    "code": "110153",
                    "display": "Source Role ID",
                }
            ]
        },
        "who": {"reference": who.ref} if who.ref else {"display": f"system client {who.sub}"},
        "requestor": True,
        "purposeOfUse": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                        "code": PURPOSE[who.mode],
                    }
                ]
            }
        ],
        "network": {"address": request.remote_addr or "unknown", "type": "2"},
    }
    if who.reason:
        agent["policy"] = [f"reason:{who.reason}"]
    return agent


def _event(
    access: Access,
    interaction: str,
    outcome: str,
    refs: list[str],
    patients: list[str],
    labels: list[str],
    confidentiality: str | None,
) -> dict[str, Any]:
    entities: list[dict[str, Any]] = [
        {
            "what": {"reference": p},
            "type": {"system": ENTITY_TYPE, "code": "1"},
            "role": {"system": OBJECT_ROLE, "code": "1"},
        }
        for p in patients
    ] + [
        {
            "what": {"reference": r},
            "type": {"system": ENTITY_TYPE, "code": "2"},
            "role": {"system": OBJECT_ROLE, "code": "4"},
        }
        for r in refs
        if r not in patients
    ]
    if interaction == "search":
        entities.append(
            {
                "type": {"system": ENTITY_TYPE, "code": "2"},
                "role": {"system": OBJECT_ROLE, "code": "24"},
                "description": request.full_path[:1000],
            }
        )
    security = [{"system": A07, "code": c} for c in sorted(labels)]
    if confidentiality:
        security.append({"system": CONFIDENTIALITY, "code": confidentiality})
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "type": EVENT_TYPE,
        "subtype": [{"system": INTERACTION_SYSTEM, "code": interaction}],
        "action": ACTION.get(interaction, "E"),
        "recorded": instant(),
        "outcome": outcome,
        "agent": [_agent(access)],
        "source": {
            "observer": {"display": "Carnet"},
            "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "4"}],
        },
        "entity": entities,
    }
    if security:
        event["meta"] = {"security": security}
    return event


#: while a Bundle runs: the traces of its entries, written together when it ends
_pending: ContextVar[list[tuple[str, str, Stored]] | None] = ContextVar("carnet_pending_audit", default=None)


@contextmanager
def collected(access: Access) -> Iterator[None]:
    """Trace the single-resource interactions inside as one event per (interaction, outcome, patients,
    labels, confidentiality) when the block ends, as BALP does for a transaction: one write, not one
    per entry. Inside a store transaction the traces are part of it."""
    pending: list[tuple[str, str, Stored]] = []
    token = _pending.set(pending)
    try:
        yield
    finally:
        _pending.reset(token)
    events: dict[tuple[str, str], list[Stored]] = defaultdict(list)
    for interaction, outcome, stored in pending:
        events[(interaction, outcome)].append(stored)
    for (interaction, outcome), items in events.items():
        _write_groups(access, interaction, outcome, items)


def _write(event: dict[str, Any]) -> None:
    get_store().write("AuditEvent", str(uuid.uuid4()), event, method="POST", expected_vid=0)


def _groups(items: list[Stored]) -> dict[tuple[Any, ...], list[Stored]]:
    """Group by (patients, labels, confidentiality): each group's event is as visible as its items."""
    groups: dict[tuple[Any, ...], list[Stored]] = defaultdict(list)
    for s in items:
        key = (
            tuple(sorted(s.acl.get("patients") or ())),
            tuple(sorted(s.acl.get("labels") or ())),
            s.acl.get("confidentiality"),
        )
        groups[key].append(s)
    return groups


def trace(
    access: Access,
    interaction: str,
    resource_type: str | None,
    *,
    stored: Stored | None = None,
    bundle: dict[str, Any] | None = None,
    items: list[Stored] | None = None,
    outcome: str = "0",
) -> None:
    """Trace one interaction on ``stored``, on ``items`` or on the resources of ``bundle``; raises
    (failing the request closed) if the trace cannot be written."""
    pending = _pending.get()
    if stored is not None and pending is not None:
        pending.append((interaction, outcome, stored))
        return
    if stored is not None:
        items = [stored]
    elif items is None:
        items = [_from_entry(e) for e in (bundle or {}).get("entry", []) if "resource" in e]
    if not items:
        _write(_event(access, interaction, outcome, [], [], [], None))
        return
    _write_groups(access, interaction, outcome, items)


def _write_groups(access: Access, interaction: str, outcome: str, items: list[Stored]) -> None:
    for (patients, labels, confidentiality), group in _groups(items).items():
        refs = [f"{s.type}/{s.id}/_history/{s.vid}" if s.vid else f"{s.type}/{s.id}" for s in group]
        _write(_event(access, interaction, outcome, refs, list(patients), list(labels), confidentiality))


def _from_entry(entry: dict[str, Any]) -> Stored:
    resource = entry["resource"]
    meta = resource.get("meta") or {}
    acl = access_attributes_of(resource["resourceType"], resource)
    return Stored(
        resource["resourceType"],
        resource.get("id", ""),
        int(meta.get("versionId", 0) or 0),
        meta.get("lastUpdated", ""),
        False,
        resource,
        acl,
    )
