"""consent.engine.emergency_barrier: when a professional may open an emergency window, and that
the window (Requester.emergency_records) is what turns the mode into access. Over HTTP:
tests/dmp/test_emergency.py."""

from __future__ import annotations

import pytest

from consent.engine import decide
from consent.engine import emergency_barrier
from consent.requester import Requester
from consent.state import Directive
from consent.state import PatientState

P = "Patient/p"
ITEM = {
    "type": "DocumentReference",
    "patients": [P],
    "patient": P,
    "labels": [],
    "authors": [],
    "docClass": ["10"],
    "docType": ["34112-3"],
}


def caller(mode="bris_de_glace", reason="urgence vitale", kind="practitioner", ref="Practitioner/u", **kw):
    return Requester(kind, "u", ref, mode=mode, reason=reason, identities=frozenset({ref}), **kw)


def record(**kw):
    return PatientState(P, general_practitioners=frozenset({"Practitioner/gp"}), **kw)


BTG_OBJECTION = frozenset({Directive("bris_de_glace", "Consent/no-btg")})
C15_OBJECTION = frozenset({Directive("centre_15", "Consent/no-c15")})


@pytest.mark.parametrize(
    ("requester", "state", "barrier"),
    [
        (caller(), record(), None),
        (caller(mode="centre_15"), record(), None),
        (caller(mode="normal"), record(), "not an emergency request"),
        (caller(kind="patient", ref=P), record(), "not an emergency request"),
        (caller(reason=None), record(), "emergency access needs a reason"),
        (caller(reason=" \t"), record(), "emergency access needs a reason"),
        (caller(), record(open=False), "closed Patient/p"),
        (caller(), record(blocks=frozenset({Directive("Practitioner/u", "Consent/b")})), "blocked Consent/b"),
        (caller(ref="Practitioner/gp"), record(), "attending Practitioner/gp"),
        (caller(), record(objections=BTG_OBJECTION), "objection Consent/no-btg"),
        (caller(mode="centre_15"), record(objections=BTG_OBJECTION), None),
        (caller(mode="centre_15"), record(objections=C15_OBJECTION), "objection Consent/no-c15"),
        (caller(), record(objections=C15_OBJECTION), None),
    ],
)
def test_barrier(requester, state, barrier):
    found = emergency_barrier(requester, state)
    assert found == barrier if barrier is None else found is not None and found.startswith(barrier)


@pytest.mark.parametrize(
    ("records", "objections", "allowed", "rule"),
    [
        (frozenset({P}), frozenset(), True, "emergency bris_de_glace"),
        (frozenset(), frozenset(), False, "no grant; no emergency window open on Patient/p"),
        (frozenset({"Patient/other"}), frozenset(), False, "no grant; no emergency window open on Patient/p"),
        (frozenset({P}), BTG_OBJECTION, False, "objection Consent/no-btg (bris_de_glace)"),  # closes a running window
    ],
)
def test_the_window_opens_the_record(records, objections, allowed, rule):
    decision = decide(caller(emergency_records=records), record(objections=objections), ITEM)
    assert (decision.allowed, decision.rule) == (allowed, rule)
