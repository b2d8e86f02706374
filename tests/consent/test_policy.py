"""consent.engine.policy is decide as a filter: on generated worlds (records, states, requesters
with their emergency windows, acls with their deposits, matrices, the packaged one included, and
clocks) the two always agree. The DESIGN §4 table: test_engine.py; the matrix rows: test_matrix.py.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from consent.attributes import access_attributes
from consent.engine import decide
from consent.engine import identities
from consent.engine import own_records
from consent.engine import policy
from consent.labels import INVISIBLE_PATIENT
from consent.labels import INVISIBLE_REPRESENTANTS_LEGAUX
from consent.labels import MASQUE_PS
from consent.labels import TRE_A07
from consent.matrix import load as load_matrix
from consent.predicate import DENY
from consent.predicate import After
from consent.predicate import And
from consent.predicate import AnyOf
from consent.predicate import Empty
from consent.predicate import Not
from consent.predicate import Or
from consent.predicate import Predicate
from consent.predicate import evaluate
from consent.requester import Requester
from consent.state import Directive
from consent.state import PatientState

PATIENTS = ["Patient/a", "Patient/b", "Patient/c", "Patient/unloaded"]
PROFESSIONALS = [
    "Practitioner/x",
    "Practitioner/y",
    "PractitionerRole/rx",
    "PractitionerRole/ry",
    "Organization/o1",
    "Organization/o2",
]
RELATED = ["RelatedPerson/g1", "RelatedPerson/g2"]
EVERYONE = PATIENTS + PROFESSIONALS + RELATED
TYPES = ["DocumentReference", "AuditEvent", "AllergyIntolerance", "Consent", "Practitioner", "Patient", "RelatedPerson"]
FLAGS = [MASQUE_PS, INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS_LEGAUX, "MASQUE_PT"]
CONSENTS = ["Consent/1", "Consent/2", "Consent/3"]
MATRICES: dict[str, Callable[[Requester], Predicate]] = {
    "open": lambda r: And(()),
    "closed": lambda r: DENY,
    "class 10": lambda r: AnyOf("docClass", ("10",)),
    "doctors see all, others class 10": lambda r: And(()) if r.profession == "10" else AnyOf("docClass", ("10",)),
    "no care history": lambda r: Not(AnyOf("docType", ("REMB",))),
    "packaged": load_matrix(),
}
DEPOSIT = datetime(2026, 11, 20, 13, tzinfo=UTC)
#: deposits around the 30-day lapse seen from the clocks below
DEPOSITS = [None, "2026-11-20T13:00:00.000000Z", "2026-10-21T13:00:00.000000Z", "2026-10-21T13:00:00.000001Z"]
CLOCKS = [None, DEPOSIT, DEPOSIT + timedelta(days=1), DEPOSIT + timedelta(days=30)]

refs = st.sampled_from(EVERYONE)


def subsets(values):
    return st.frozensets(st.sampled_from(values), max_size=len(values))


directives = st.builds(Directive, refs, st.sampled_from(CONSENTS))


@st.composite
def states(draw):
    out = {}
    for ref in draw(st.lists(st.sampled_from(PATIENTS[:3]), unique=True)):
        key = draw(st.sampled_from([ref, ref, ref, "Patient/c"]))  # now and then filed under the wrong key
        out[key] = PatientState(
            ref=ref,
            open=draw(st.booleans()),
            general_practitioners=draw(subsets(PROFESSIONALS)),
            grants=draw(st.frozensets(directives, max_size=3)),
            blocks=draw(st.frozensets(directives, max_size=2)),
            objections=draw(
                st.frozensets(
                    st.builds(Directive, st.sampled_from(["bris_de_glace", "centre_15"]), st.sampled_from(CONSENTS)),
                    max_size=2,
                )
            ),
            guardians=draw(subsets(RELATED)),
        )
    return out


@st.composite
def requesters(draw):
    kind = draw(st.sampled_from(["patient", "related", "practitioner", "practitioner", "system"]))
    pools: dict[str, Sequence[str | None]] = {
        "patient": PATIENTS,
        "related": RELATED,
        "practitioner": PROFESSIONALS[:4],
        "system": [None],
    }
    ref = draw(st.sampled_from(pools[kind]))
    return Requester(
        kind,
        "sub",
        ref,
        mode=draw(st.sampled_from(["normal", "bris_de_glace", "centre_15"])),
        reason=draw(st.sampled_from([None, "", "  ", "urgence vitale"])),
        profession=draw(st.sampled_from([None, "10", "60", "21", "40", "26"])),
        specialty=draw(st.sampled_from([None, "SM54"])),
        identities=draw(subsets(EVERYONE)) if draw(st.booleans()) else frozenset({ref} - {None}),
        emergency_records=draw(subsets(PATIENTS)),
    )


@st.composite
def acls(draw):
    patients = draw(st.lists(st.sampled_from(PATIENTS), unique=True, max_size=3))
    return {
        "type": draw(st.sampled_from(TYPES)),
        "patients": patients,
        "patient": draw(st.sampled_from(patients)) if patients else None,
        "labels": sorted(draw(subsets(FLAGS))),
        "confidentiality": draw(st.sampled_from([None, "N", "R", "V"])),
        "docClass": draw(st.lists(st.sampled_from(["10", "11", "42", "60", "90"]), max_size=2)),
        "docType": draw(
            st.lists(
                st.sampled_from(["11502-2", "REMB", "ATTEST-RESID", "68599-0", "PRESC-KINE", "AllergyIntolerance"]),
                max_size=2,
            )
        ),
        "authors": sorted(draw(subsets(EVERYONE))),
        "deposited": draw(st.sampled_from(DEPOSITS)),
        "orphan": draw(st.sampled_from([None, "yes"])) if not patients else None,
    }


def agree(requester, world, acl, matrix, now=None):
    primary = acl["patient"]
    expected = decide(requester, world.get(primary) if primary else None, acl, matrix=MATRICES[matrix], now=now)
    found = policy(requester, world, acl["type"], matrix=MATRICES[matrix], now=now)
    assert evaluate(found, acl) is expected.allowed, expected
    return expected


@settings(max_examples=800, deadline=None)
@given(
    requesters(),
    states(),
    st.lists(acls(), min_size=1, max_size=8),
    st.sampled_from(sorted(MATRICES)),
    st.sampled_from(CLOCKS),
)
def test_policy_is_decide(requester, world, items, matrix, now):
    for acl in items:
        agree(requester, world, acl, matrix, now)


@st.composite
def resources(draw):
    labels = [{"system": TRE_A07, "code": flag} for flag in sorted(draw(subsets(FLAGS)))]
    subject = draw(st.sampled_from(PATIENTS))
    authors = [{"reference": ref} for ref in sorted(draw(subsets(EVERYONE)))]
    resource_type = draw(st.sampled_from(["DocumentReference", "AllergyIntolerance"]))
    if resource_type == "DocumentReference":
        body: dict[str, object] = {
            "subject": {"reference": subject},
            "author": authors,
            "securityLabel": [{"coding": labels}],
        }
    else:
        body = {
            "patient": {"reference": subject},
            "recorder": authors[0] if authors else None,
            "meta": {"security": labels},
        }
    extra = draw(st.lists(st.sampled_from(PATIENTS), max_size=2))
    return resource_type, body, [*extra, subject]


@settings(max_examples=300, deadline=None)
@given(requesters(), states(), resources())
def test_policy_is_decide_on_stored_attributes(requester, world, resource):
    agree(requester, world, access_attributes(*resource), "open")


@settings(max_examples=300, deadline=None)
@given(requesters(), states(), acls())
def test_a_block_wins_over_everything_but_the_patient(requester, world, acl):
    primary = acl["patient"]
    record = world.get(primary) if primary else None
    if record is None or record.ref != primary or requester.kind == "system" or primary in own_records(requester):
        return
    if record.block_for(identities(requester)) is not None:
        assert not decide(requester, record, acl).allowed
    if not record.open and not identities(requester) & record.guardians:
        assert not decide(requester, record, acl).allowed


@settings(max_examples=300, deadline=None)
@given(requesters(), states(), acls())
def test_masked_items_only_reach_the_patient_side_the_attending_and_the_author(requester, world, acl):
    if MASQUE_PS not in acl["labels"] or not decide(requester, world.get(acl["patient"] or ""), acl).allowed:
        return
    record = world.get(acl["patient"] or "")
    ids = identities(requester)
    assert (
        requester.kind == "system"
        or not acl["patients"]
        or acl["patient"] in own_records(requester)
        or ids & set(acl["authors"])
        or (record and ids & (record.general_practitioners | record.guardians))
    )


def well_formed(predicate):
    if isinstance(predicate, AnyOf):
        return (
            isinstance(predicate.path, str) and all(isinstance(v, str) for v in predicate.values) and predicate.values
        )
    if isinstance(predicate, Empty):
        return isinstance(predicate.path, str)
    if isinstance(predicate, After):
        return isinstance(predicate.path, str) and isinstance(predicate.instant, str)
    if isinstance(predicate, (And, Or)):
        return isinstance(predicate.terms, tuple) and all(well_formed(t) for t in predicate.terms)
    return isinstance(predicate, Not) and well_formed(predicate.term)


@settings(max_examples=200, deadline=None)
@given(requesters(), states(), st.sampled_from(TYPES), st.sampled_from(CLOCKS))
def test_policies_are_plain_predicates(requester, world, resource_type, now):
    assert well_formed(policy(requester, world, resource_type, matrix=MATRICES["packaged"], now=now))
