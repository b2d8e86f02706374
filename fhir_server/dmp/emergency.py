"""Emergency access windows (L.1111-17 I, R.1111-48): break-glass (token purpose_of_use ``BTG``)
and centre 15 (``ETREAT``).

A professional whose token carries an emergency mode and a non-empty reason opens a window on a
record by asking for that patient explicitly (``named_patients`` of the request's ``Asked``, or of a
bundle entry's): a Patient read (any
``Patient/{id}`` path), a search with ``patient=``, ``subject=`` (``Patient/id``, or a bare id
where the parameter only targets Patient) or ``patient.identifier=``/``subject:Patient.identifier=``
``system|value``, or a Patient search by ``_id`` or ``identifier=system|value``. It opens only when
``consent.engine.emergency_barrier`` allows it (open record, not blocked, no objection to that
mode, not the attending physician). The window runs ``EMERGENCY_WINDOW_MINUTES`` (default 15) from
that first request; while it runs, every request of that professional in an emergency mode reads
the record through the access matrix, ``MASQUE_PS`` still hidden, whatever the request names.
Opening writes a Security Alert AuditEvent (DICOM 110113 / 110127 "Emergency Override Started",
purposeOfEvent BTG or ETREAT, the reason as its text) and a Communication to the patient and the
attending physician(s). After the window the same reason opens nothing more (normal rules
apply); a new reason (a new emergency, so a new token) opens a new window, traced and notified
again.

Sessions live in the ``emergency_access`` collection, one per professional and record:
``_id`` = ``"<requester ref>|Patient/id"``, ``requester``, ``patient``, ``mode``, ``reason``,
``opened``, ``until`` (fixed-width UTC instants), ``trace`` (the AuditEvent).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any

from flask import current_app
from flask import request

from consent.elements import instant
from consent.engine import emergency_barrier
from consent.requester import Requester
from consent.state import ACT_REASON
from consent.state import TRE_R248
from consent.state import PatientState
from search.plan import Cmp
from search.plan import Value

from .. import consent_loader
from ..audit_codes import ENTITY_TYPE
from ..audit_codes import OBJECT_ROLE
from ..audit_codes import PURPOSE
from ..http import FORM
from ..storage import DuplicateKey
from ..storage import Repository
from ..storage import no_policy
from .notices import notify

SESSIONS = "emergency_access"
WINDOW_MINUTES = 15
DCM = "http://dicom.nema.org/resources/ontology/DCM"
MODE_LABEL = {"bris_de_glace": "bris de glace", "centre_15": "centre 15 (régulation médicale)"}
#: search parameters naming the patient, and whether a bare id there means Patient/<id>
_PATIENT_PARAMS = {
    ("patient", ""): True,
    ("patient", "Patient"): True,
    ("subject", ""): False,
    ("subject", "Patient"): True,
}
_ID = r"[A-Za-z0-9\-.]{1,64}"
_PATIENT_REF = re.compile(rf"(?:.*/)?Patient/({_ID})(?:/_history/{_ID})?")


@dataclass(frozen=True)
class Asked:
    """What a request asks for, where ``named_patients`` looks: the type and id its URL names and
    its search parameters (query, then form)."""

    resource_type: str | None = None
    id: str | None = None
    params: tuple[tuple[str, str], ...] = ()


def asked_by_request() -> Asked:
    """What the current Flask request asks for: its route's arguments and its parameters."""
    args = request.view_args or {}
    pairs = list(request.args.items(multi=True))
    if request.method == "POST" and request.mimetype == FORM:
        pairs += list(request.form.items(multi=True))
    type_, id_ = args.get("resource_type"), args.get("id_")
    return Asked(type_ if isinstance(type_, str) else None, id_ if isinstance(id_, str) else None, tuple(pairs))


def window() -> timedelta:
    """How long an emergency window runs (``EMERGENCY_WINDOW_MINUTES``, default 15)."""
    return timedelta(minutes=float(current_app.config.get("EMERGENCY_WINDOW_MINUTES", WINDOW_MINUTES)))


def open_records(store: Repository, requester: Requester, now: datetime, asked: Asked) -> frozenset[str]:
    """The records on which ``requester`` has a running window, after opening one on each record
    ``asked`` names and ``emergency_barrier`` lets them open."""
    if requester.kind != "practitioner" or requester.mode == "normal" or requester.ref is None:
        return frozenset()
    live = {"requester": requester.ref, "until": {"$gt": instant(now)}}
    running = {doc["patient"] for doc in store.documents(SESSIONS).find(live, {"patient": 1})}
    wanted = sorted(named_patients(store, asked) - running)
    states = consent_loader.load_states(store, requester, wanted, now, discover=False) if wanted else {}
    for ref, state in sorted(states.items()):
        if emergency_barrier(requester, state) is None and _open(store, requester, state, now):
            running.add(ref)
    return frozenset(running)


def named_patients(store: Repository, asked: Asked) -> set[str]:
    """The records (``Patient/id``) a request asks for explicitly (see the module doc)."""
    on_patient = asked.resource_type == "Patient"
    named = {f"Patient/{asked.id}"} if on_patient and asked.id is not None else set()
    for key, raw in asked.params:
        head, _, chain = key.partition(".")
        param, _, modifier = head.partition(":")
        for value in (v.strip() for v in raw.split(",") if v.strip()):
            if on_patient and not modifier and not chain and param == "_id":
                named.add(f"Patient/{value}")
            elif (on_patient and not modifier and not chain and param == "identifier") or (
                (param, modifier) in _PATIENT_PARAMS and chain == "identifier"
            ):
                named |= _by_identifier(store, value)
            elif (param, modifier) in _PATIENT_PARAMS and not chain:
                named |= _patient_ref(value, bare=_PATIENT_PARAMS[param, modifier])
    return named


def _patient_ref(value: str, *, bare: bool) -> set[str]:
    match = _PATIENT_REF.fullmatch(value)
    if match:
        return {f"Patient/{match[1]}"}
    return {f"Patient/{value}"} if bare and re.fullmatch(_ID, value) else set()


def _by_identifier(store: Repository, token: str) -> set[str]:
    """The live Patients holding exactly identifier ``system|value`` (both parts required)."""
    system, bar, value = token.partition("|")
    if not (bar and system and value):
        return set()
    where = Value("identifier", "token", Cmp("", "eq", f"{system}|{value}"))
    return {f"Patient/{s.id}" for s in store.find("Patient", where, no_policy)}


def _open(store: Repository, requester: Requester, state: PatientState, now: datetime) -> bool:
    """Start (or, with a new reason, restart) the window of ``requester`` on ``state``'s record.

    True when a window runs after the call; the call that starts it traces and notifies it.
    """
    sessions, key = store.documents(SESSIONS), f"{requester.ref}|{state.ref}"
    until = now + window()
    fields = {
        "requester": requester.ref,
        "patient": state.ref,
        "mode": requester.mode,
        "reason": requester.reason,
        "opened": instant(now),
        "until": instant(until),
        "trace": f"AuditEvent/{uuid.uuid4()}",
    }
    current = sessions.find_one({"_id": key})
    if current is None:
        try:
            sessions.insert_many([{"_id": key, **fields}])
        except DuplicateKey:  # another request opened it first
            return _running(sessions.find_one({"_id": key}), now)
    elif _running(current, now):
        return True
    elif current.get("reason") == requester.reason:
        return False
    elif sessions.find_one_and_update({"_id": key, "until": current["until"]}, {"$set": fields}) is None:
        return _running(sessions.find_one({"_id": key}), now)
    try:
        _announce(store, requester, state, fields, now, until)
    except BaseException:
        sessions.delete_one({"_id": key, "trace": fields["trace"]})  # no silent window
        raise
    return True


def _running(session: Mapping[str, Any] | None, now: datetime) -> bool:
    return session is not None and session["until"] > instant(now)


def _announce(
    store: Repository,
    requester: Requester,
    state: PatientState,
    session: Mapping[str, Any],
    now: datetime,
    until: datetime,
) -> None:
    """The opening's trace, and its notification to the patient and the attending physician(s)."""
    assert requester.ref is not None
    label = MODE_LABEL[requester.mode]
    purpose = [
        {
            "coding": [
                {"system": ACT_REASON, "code": PURPOSE[requester.mode]},
                {"system": TRE_R248, "code": requester.mode},
            ],
            "text": requester.reason,
        }
    ]
    event = {
        "resourceType": "AuditEvent",
        "type": {"system": DCM, "code": "110113", "display": "Security Alert"},
        "subtype": [{"system": DCM, "code": "110127", "display": "Emergency Override Started"}],
        "action": "E",
        "recorded": instant(now),
        "outcome": "0",
        "outcomeDesc": f"Emergency access ({label}) open until {instant(until)}",
        "purposeOfEvent": purpose,
        "agent": [{"who": {"reference": requester.ref}, "requestor": True, "purposeOfUse": purpose}],
        "source": {
            "observer": {"display": "Carnet"},
            "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "4"}],
        },
        "entity": [
            {
                "what": {"reference": state.ref},
                "type": {"system": ENTITY_TYPE, "code": "1"},
                "role": {"system": OBJECT_ROLE, "code": "1"},
            }
        ],
    }
    trace = str(session["trace"])
    store.write("AuditEvent", trace.partition("/")[2], event, method="POST", expected_vid=0)
    text = (
        f"Accès en urgence ({label}) à votre dossier médical partagé par {requester.ref} le "
        f"{now:%d/%m/%Y à %H:%M} UTC, ouvert jusqu'à {until:%H:%M} UTC. Motif : {requester.reason}"
    )
    notify(store, state.ref, [state.ref, *sorted(state.general_practitioners)], text, now=now, about=trace)
