"""consent.engine read rules: the DESIGN §4 table (actor × flag × record situation), each cell also
checked against the search filter. Generated worlds: test_policy.py; loader: test_consent_state.py.
"""

from __future__ import annotations

import pytest

from consent.engine import decide
from consent.engine import policy
from consent.labels import INVISIBLE_PATIENT
from consent.labels import INVISIBLE_REPRESENTANTS_LEGAUX
from consent.labels import MASQUE_PS
from consent.predicate import DENY
from consent.predicate import AnyOf
from consent.predicate import evaluate
from consent.requester import Requester
from consent.state import Directive
from consent.state import PatientState

P = "Patient/p"
FLAGS = ((), (MASQUE_PS,), (INVISIBLE_PATIENT,), (INVISIBLE_REPRESENTANTS_LEGAUX,))


def doctor(ref, *extra, **kw):
    return Requester("practitioner", ref, ref, identities=frozenset({ref, *extra}), **kw)


ACTORS = {
    "patient": Requester("patient", "p", P, identities=frozenset({P})),
    "representative": Requester("related", "g", "RelatedPerson/g", identities=frozenset({"RelatedPerson/g"})),
    "contact": Requester("related", "c", "RelatedPerson/c", identities=frozenset({"RelatedPerson/c"})),
    "other patient": Requester("patient", "q", "Patient/q", identities=frozenset({"Patient/q"})),
    "attending": doctor("Practitioner/gp", "PractitionerRole/gp-role"),
    "author": doctor("Practitioner/au"),
    "granted": doctor("Practitioner/gr"),
    "org member": doctor("Practitioner/om", "PractitionerRole/om-role", "Organization/org"),
    "stranger": doctor("Practitioner/st"),
    "break-glass": doctor(
        "Practitioner/st", mode="bris_de_glace", reason="inconscient, urgence vitale", emergency_records=frozenset({P})
    ),
    "centre 15": doctor("Practitioner/st", mode="centre_15", reason="appel au 15", emergency_records=frozenset({P})),
    "break-glass, no reason": doctor(
        "Practitioner/st", mode="bris_de_glace", reason="  ", emergency_records=frozenset({P})
    ),
    "break-glass, no window": doctor("Practitioner/st", mode="bris_de_glace", reason="inconscient"),
    "system": Requester("system", "batch"),
}
#: the reference each actor is blocked by in the "blocked" situation
BLOCKED_AS = {
    "patient": P,
    "representative": "RelatedPerson/g",
    "contact": "RelatedPerson/c",
    "other patient": "Patient/q",
    "attending": "PractitionerRole/gp-role",
    "author": "Practitioner/au",
    "granted": "Practitioner/gr",
    "org member": "Organization/org",
    "stranger": "Practitioner/st",
    "break-glass": "Practitioner/st",
    "centre 15": "Practitioner/st",
    "break-glass, no reason": "Practitioner/st",
    "break-glass, no window": "Practitioner/st",
    "system": "Device/none",
}


def state(situation, actor):
    return PatientState(
        ref=P,
        open=situation != "closed",
        general_practitioners=frozenset({"Practitioner/gp"}),
        guardians=frozenset({"RelatedPerson/g"}),
        grants=frozenset(
            {Directive("Practitioner/gr", "Consent/grant"), Directive("Organization/org", "Consent/grant-org")}
        ),
        blocks=frozenset({Directive(BLOCKED_AS[actor], "Consent/block")} if situation == "blocked" else ()),
        objections=frozenset(
            {Directive("bris_de_glace", "Consent/no-btg"), Directive("centre_15", "Consent/no-c15")}
            if situation == "objections"
            else ()
        ),
    )


def acl(labels=(), resource_type="DocumentReference"):
    return {
        "type": resource_type,
        "patients": [P],
        "patient": P,
        "labels": list(labels),
        "confidentiality": "N",
        "docClass": ["10"],
        "docType": ["11502-2"],
        "authors": ["Practitioner/au"],
        "deposited": "2026-11-20",
    }


#: actor -> situation -> (visible with flags: none, MASQUE_PS, INVISIBLE_PATIENT, INVISIBLE_REP…; rule)
TABLE = {
    "patient": dict.fromkeys(("open", "blocked", "closed", "objections"), ("YYNY", "patient")),
    "representative": {
        "open": ("YYNN", "representative RelatedPerson/g"),
        "blocked": ("NNNN", "blocked Consent/block"),
        "closed": ("YYNN", "representative RelatedPerson/g"),
        "objections": ("YYNN", "representative RelatedPerson/g"),
    },
    "contact": {
        "open": ("NNNN", "no grant"),
        "blocked": ("NNNN", "blocked Consent/block"),
        "closed": ("NNNN", "closed Patient/p"),
        "objections": ("NNNN", "no grant"),
    },
    "other patient": {
        "open": ("NNNN", "no grant"),
        "blocked": ("NNNN", "blocked Consent/block"),
        "closed": ("NNNN", "closed Patient/p"),
        "objections": ("NNNN", "no grant"),
    },
    "attending": {
        "open": ("YYYY", "attending Practitioner/gp"),
        "blocked": ("NNNN", "blocked Consent/block"),
        "closed": ("NNNN", "closed Patient/p"),
        "objections": ("YYYY", "attending Practitioner/gp"),
    },
    "author": {
        "open": ("YYYY", "author Practitioner/au"),
        "blocked": ("NNNN", "blocked Consent/block"),
        "closed": ("NNNN", "closed Patient/p"),
        "objections": ("YYYY", "author Practitioner/au"),
    },
    "granted": {
        "open": ("YNYY", "grant Consent/grant"),
        "blocked": ("NNNN", "blocked Consent/block"),
        "closed": ("NNNN", "closed Patient/p"),
        "objections": ("YNYY", "grant Consent/grant"),
    },
    "org member": {
        "open": ("YNYY", "grant Consent/grant-org"),
        "blocked": ("NNNN", "blocked Consent/block"),
        "closed": ("NNNN", "closed Patient/p"),
        "objections": ("YNYY", "grant Consent/grant-org"),
    },
    "stranger": {
        "open": ("NNNN", "no grant"),
        "blocked": ("NNNN", "blocked Consent/block"),
        "closed": ("NNNN", "closed Patient/p"),
        "objections": ("NNNN", "no grant"),
    },
    "break-glass": {
        "open": ("YNYY", "emergency bris_de_glace"),
        "blocked": ("NNNN", "blocked Consent/block"),
        "closed": ("NNNN", "closed Patient/p"),
        "objections": ("NNNN", "objection Consent/no-btg"),
    },
    "centre 15": {
        "open": ("YNYY", "emergency centre_15"),
        "blocked": ("NNNN", "blocked Consent/block"),
        "closed": ("NNNN", "closed Patient/p"),
        "objections": ("NNNN", "objection Consent/no-c15"),
    },
    "break-glass, no reason": {
        "open": ("NNNN", "no grant; emergency access needs a reason"),
        "blocked": ("NNNN", "blocked Consent/block"),
        "closed": ("NNNN", "closed Patient/p"),
        "objections": ("NNNN", "objection Consent/no-btg"),
    },
    "break-glass, no window": {
        "open": ("NNNN", "no grant; no emergency window open on Patient/p"),
        "blocked": ("NNNN", "blocked Consent/block"),
        "closed": ("NNNN", "closed Patient/p"),
        "objections": ("NNNN", "objection Consent/no-btg"),
    },
    "system": dict.fromkeys(("open", "blocked", "closed", "objections"), ("YYYY", "system")),
}
CELLS = [
    (actor, situation, flags, expected == "Y", rule)
    for actor, row in TABLE.items()
    for situation, (visible, rule) in row.items()
    for flags, expected in zip(FLAGS, visible, strict=True)
]


@pytest.mark.parametrize(("actor", "situation", "flags", "allowed", "rule"), CELLS)
def test_read_table(actor, situation, flags, allowed, rule):
    requester, record, item = ACTORS[actor], state(situation, actor), acl(flags)
    decision = decide(requester, record, item)
    assert decision.allowed is allowed
    assert decision.rule.startswith(rule)
    assert evaluate(policy(requester, {P: record}, "DocumentReference"), item) is allowed


def test_denials_name_the_hiding_flag():
    assert (
        decide(ACTORS["granted"], state("open", "granted"), acl([MASQUE_PS])).rule
        == "grant Consent/grant (Practitioner/gr); MASQUE_PS"
    )
    assert decide(ACTORS["patient"], None, acl([INVISIBLE_PATIENT])).rule == "patient; INVISIBLE_PATIENT"


#: access traces: the holder, the representative, the attending physician and the traced professional only
TRACE_TABLE = {
    "patient": True,
    "representative": True,
    "attending": True,
    "author": True,
    "granted": False,
    "org member": False,
    "break-glass": False,
    "centre 15": False,
    "stranger": False,
    "system": True,
}


@pytest.mark.parametrize(("actor", "allowed"), TRACE_TABLE.items())
def test_access_traces(actor, allowed):
    record, item = state("open", actor), acl(resource_type="AuditEvent")
    assert decide(ACTORS[actor], record, item).allowed is allowed
    assert evaluate(policy(ACTORS[actor], {P: record}, "AuditEvent"), item) is allowed


def test_traces_hidden_from_representatives():
    item = acl([INVISIBLE_REPRESENTANTS_LEGAUX], "AuditEvent")
    assert not decide(ACTORS["representative"], state("open", "representative"), item).allowed


@pytest.mark.parametrize("actor", TABLE)
def test_directory_resources_are_visible_to_everyone(actor):
    item: dict[str, object] = {"type": "Practitioner", "patients": [], "patient": None, "labels": [], "authors": []}
    assert decide(ACTORS[actor], None, item).allowed
    assert evaluate(policy(ACTORS[actor], {}, "Practitioner"), item)


@pytest.mark.parametrize("actor", ["attending", "granted", "author", "representative", "break-glass"])
def test_a_record_without_loaded_state_is_closed(actor):
    decision = decide(ACTORS[actor], None, acl())
    assert (decision.allowed, decision.rule) == (False, "no consent state for Patient/p")
    assert evaluate(policy(ACTORS[actor], {}, "DocumentReference"), acl()) is False


def test_the_state_must_be_the_records():
    other = PatientState("Patient/q", general_practitioners=frozenset({"Practitioner/gp"}))
    assert not decide(ACTORS["attending"], other, acl()).allowed
    assert not evaluate(policy(ACTORS["attending"], {P: other}, "DocumentReference"), acl())


def test_the_primary_compartment_decides():
    item = acl() | {"patients": ["Patient/q", P], "patient": P}
    other = PatientState("Patient/q", blocks=frozenset({Directive("Practitioner/gp", "Consent/q-block")}))
    states = {P: state("open", "attending"), "Patient/q": other}
    assert decide(ACTORS["attending"], states[P], item).allowed
    assert evaluate(policy(ACTORS["attending"], states, "DocumentReference"), item)


def class_ten_only(requester):
    return AnyOf("docClass", ("10",))


@pytest.mark.parametrize(
    ("actor", "doc_class", "allowed"),
    [
        ("granted", "10", True),
        ("granted", "11", False),
        ("break-glass", "11", False),
        ("attending", "11", True),
        ("author", "11", True),
        ("patient", "11", True),
    ],
)
def test_the_access_matrix_filters_grants_and_emergencies(actor, doc_class, allowed):
    record, item = state("open", actor), acl() | {"docClass": [doc_class]}
    decision = decide(ACTORS[actor], record, item, matrix=class_ten_only)
    assert decision.allowed is allowed
    assert evaluate(policy(ACTORS[actor], {P: record}, "DocumentReference", matrix=class_ten_only), item) is allowed
    if not allowed:
        assert decision.rule.endswith("access matrix")


def test_policies_are_small():
    assert policy(ACTORS["system"], {}, "DocumentReference") == policy(ACTORS["system"], {}, "Observation")
    blocked = policy(ACTORS["stranger"], {P: state("blocked", "stranger")}, "DocumentReference")
    assert blocked == policy(ACTORS["stranger"], {}, "DocumentReference")
    assert blocked != DENY  # the directory stays visible


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [
        ("author", True),
        ("stranger", False),
        ("patient", False),
        ("attending", False),
        ("system", True),
    ],
)
def test_a_trace_naming_no_record_is_not_directory_data(actor, allowed):
    """An empty search's trace names no patient: only the traced professional reads it (R.1111-43)."""
    item: dict[str, object] = {
        "type": "AuditEvent",
        "patients": [],
        "patient": None,
        "labels": [],
        "authors": ["Practitioner/au"],
    }
    assert decide(ACTORS[actor], None, item).allowed is allowed
    assert evaluate(policy(ACTORS[actor], {}, "AuditEvent"), item) is allowed


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [
        ("stranger", False),
        ("patient", False),
        ("attending", False),
        ("granted", False),
        ("representative", False),
        ("break-glass", False),
        ("author", True),
        ("system", True),
    ],
)
def test_an_orphan_is_for_system_clients_and_its_authors(actor, allowed):
    """A clinical item whose patient cannot be determined is never directory data (default deny)."""
    item: dict[str, object] = {
        "type": "DocumentReference",
        "patients": [],
        "patient": None,
        "labels": [],
        "authors": ["Practitioner/au"],
        "orphan": "yes",
    }
    decision = decide(ACTORS[actor], None, item)
    assert decision.allowed is allowed
    if not allowed:
        assert decision.rule == "no patient: system clients and authors only"
    assert evaluate(policy(ACTORS[actor], {P: state("open", actor)}, "DocumentReference"), item) is allowed
