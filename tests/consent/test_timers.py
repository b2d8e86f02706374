"""INVISIBLE_PATIENT lapses 30 days after the deposit, to the microsecond, for the patient and the
representatives alike; decide and policy agree at every instant. Over HTTP and the 14-day notice:
tests/dmp/test_timers.py."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest

from consent.engine import decide
from consent.engine import policy
from consent.labels import INVISIBLE_PATIENT
from consent.labels import INVISIBLE_REPRESENTANTS_LEGAUX
from consent.labels import MASQUE_PS
from consent.predicate import After
from consent.predicate import evaluate
from consent.requester import Requester
from consent.state import PatientState

P = "Patient/p"
DEPOSIT = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
PATIENT = Requester("patient", "p", P, identities=frozenset({P}))
GUARDIAN = Requester("related", "g", "RelatedPerson/g", identities=frozenset({"RelatedPerson/g"}))
RECORD = PatientState(P, guardians=frozenset({"RelatedPerson/g"}))


def acl(labels, deposited="2026-11-20T13:00:00.000000Z"):
    return {
        "type": "DocumentReference",
        "patients": [P],
        "patient": P,
        "labels": list(labels),
        "authors": [],
        "docClass": ["10"],
        "docType": ["11502-2"],
        "deposited": deposited,
    }


@pytest.mark.parametrize("who", [PATIENT, GUARDIAN], ids=["patient", "representative"])
@pytest.mark.parametrize(
    ("labels", "deposited", "now", "visible"),
    [
        ((INVISIBLE_PATIENT,), "2026-11-20T13:00:00.000000Z", DEPOSIT, False),
        ((INVISIBLE_PATIENT,), "2026-11-20T13:00:00.000000Z", DEPOSIT + timedelta(days=14), False),
        ((INVISIBLE_PATIENT,), "2026-11-20T13:00:00.000000Z", DEPOSIT + timedelta(days=30, microseconds=-1), False),
        ((INVISIBLE_PATIENT,), "2026-11-20T13:00:00.000000Z", DEPOSIT + timedelta(days=30), True),
        ((INVISIBLE_PATIENT,), "2026-11-20T13:00:00.000000Z", None, False),  # no clock: flags never lapse
        ((INVISIBLE_PATIENT,), None, DEPOSIT + timedelta(days=400), False),  # unknown deposit: stays hidden
        ((INVISIBLE_PATIENT, MASQUE_PS), "2026-11-20T13:00:00.000000Z", DEPOSIT + timedelta(days=31), True),
        ((), "2026-11-20T13:00:00.000000Z", DEPOSIT, True),
    ],
)
def test_the_lapse(who, labels, deposited, now, visible):
    item = acl(labels, deposited)
    decision = decide(who, RECORD, item, now=now)
    assert decision.allowed is visible
    assert evaluate(policy(who, {P: RECORD}, "DocumentReference", now=now), item) is visible
    if not visible:
        assert decision.rule.endswith(INVISIBLE_PATIENT)


def test_other_flags_never_lapse():
    item, later = acl([INVISIBLE_REPRESENTANTS_LEGAUX]), DEPOSIT + timedelta(days=4000)
    assert not decide(GUARDIAN, RECORD, item, now=later).allowed
    assert not evaluate(policy(GUARDIAN, {P: RECORD}, "DocumentReference", now=later), item)


@pytest.mark.parametrize(
    ("value", "after"),
    [
        ("2026-11-20T13:00:00.000001Z", True),
        ("2026-11-20T13:00:00.000000Z", False),
        (None, False),
        ([], False),
        (["2020-01-01T00:00:00.000000Z", "2027-01-01T00:00:00.000000Z"], True),
        (7, False),
    ],
)
def test_after_compares_instants_as_strings(value, after):
    assert evaluate(After("deposited", "2026-11-20T13:00:00.000000Z"), {"deposited": value}) is after
