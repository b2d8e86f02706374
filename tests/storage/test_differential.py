"""Both adapters answer the same: on generated worlds (patients, attending physicians, documents with
visibility flags and authors, allergies, grant and block Consents) and generated searches by
generated callers, SQLite and the MongoDB adapter (on its stand-in) return the same ids and totals,
and both agree with ``consent.engine.decide`` on every stored resource."""

from __future__ import annotations

import tempfile
from datetime import UTC
from datetime import datetime

import orjson
import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from consent.engine import decide
from consent.engine import policy
from consent.requester import Requester
from fhir_server import consent_loader
from fhir_server import searchset
from fhir_server.indexing import index_resource
from fhir_server.storage import TRUE
from fhir_server.storage import Scoped
from fhir_server.storage import Stored
from fhir_server.storage import no_policy
from fhir_server.storage import open_repository
from search import registry as search_registry

NOW = datetime(2026, 6, 1, tzinfo=UTC)
TS = "2026-01-01T00:00:00.000000Z"
A07 = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument"
DOCTORS = ["Practitioner/d1", "Practitioner/d2", "Practitioner/d3"]
PATIENTS = ["p1", "p2", "p3"]
TYPES = ["11502-2", "34112-3"]


def consent(id_: str, patient: str, kind: str, actor: str) -> dict:
    return {
        "resourceType": "Consent",
        "id": id_,
        "status": "active",
        "scope": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": f"Patient/{patient}"},
        "provision": {"type": kind, "actor": [{"reference": {"reference": actor}}]},
    }


@st.composite
def worlds(draw) -> list[dict]:
    out: list[dict] = [
        {"resourceType": "Practitioner", "id": d.split("/")[1], "name": [{"family": f"Doc{d[-1]}"}]} for d in DOCTORS
    ]
    for p in PATIENTS:
        gp = draw(st.sampled_from([None, *DOCTORS]))
        out.append(
            {
                "resourceType": "Patient",
                "id": p,
                "active": draw(st.booleans()) or p != "p3",
                "gender": draw(st.sampled_from(["male", "female"])),
                "name": [{"family": f"Fam{p}"}],
                **({"generalPractitioner": [{"reference": gp}]} if gp else {}),
            }
        )
        for n in range(draw(st.integers(0, 3))):
            labels = draw(st.lists(st.sampled_from(["MASQUE_PS", "INVISIBLE_PATIENT"]), max_size=2, unique=True))
            author = draw(st.sampled_from(DOCTORS))
            out.append(
                {
                    "resourceType": "DocumentReference",
                    "id": f"{p}-d{n}",
                    "status": "current",
                    "subject": {"reference": f"Patient/{p}"},
                    "author": [{"reference": author}],
                    "type": {"coding": [{"system": "http://loinc.org", "code": draw(st.sampled_from(TYPES))}]},
                    "date": "2025-05-01T10:00:00Z",
                    "securityLabel": [{"coding": [{"system": A07, "code": c}]} for c in labels],
                    "content": [{"attachment": {"contentType": "text/plain", "data": "eA=="}}],
                }
            )
        if draw(st.booleans()):
            out.append(
                {
                    "resourceType": "AllergyIntolerance",
                    "id": f"{p}-a",
                    "patient": {"reference": f"Patient/{p}"},
                    "code": {"text": "pollen"},
                }
            )
        for n, (kind, actor) in enumerate(
            draw(st.lists(st.tuples(st.sampled_from(["permit", "deny"]), st.sampled_from(DOCTORS)), max_size=2))
        ):
            out.append(consent(f"{p}-c{n}", p, kind, actor))
    return out


SEARCHES = [
    ("DocumentReference", []),
    ("DocumentReference", [("type", "http://loinc.org|11502-2")]),
    ("DocumentReference", [("subject", "Patient/p1")]),
    ("DocumentReference", [("subject:Patient.gender", "female")]),
    ("Patient", []),
    ("Patient", [("_has:DocumentReference:subject:type", "34112-3")]),
    ("AllergyIntolerance", [("patient.name", "famp2")]),
    ("Consent", []),
    ("Practitioner", [("name", "doc")]),
    ("DocumentReference", [("_sort", "-date"), ("_count", "2")]),
]
CALLERS = [
    Requester("system", "sys"),
    *[Requester("practitioner", d, d) for d in DOCTORS],
    *[Requester("patient", f"Patient/{p}", f"Patient/{p}") for p in PATIENTS],
]


@pytest.fixture(scope="module")
def stores():
    with tempfile.TemporaryDirectory() as tmp:
        repos = [
            open_repository({"DATA_DIR": tmp}, index_resource),
            open_repository({"MONGODB_URI": "mongoeco://"}, index_resource),
        ]
        yield repos
        for repo in repos:
            repo.close()


def caller_access(repo, caller: Requester):
    requester = consent_loader.enrich(repo, caller, now=NOW)
    states = consent_loader.load_states(repo, requester, now=NOW)
    return requester, states, (lambda t: policy(requester, states, t, now=NOW))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(world=worlds())
def test_adapters_agree_with_each_other_and_with_decide(stores, world):
    registry = search_registry.load()
    for repo in stores:
        repo.drop()
        repo.restore([Stored(r["resourceType"], r["id"], 1, TS, False, r, {}, "POST") for r in world])
    for caller in CALLERS:
        answers = []
        for repo in stores:
            requester, states, policy_for = caller_access(repo, caller)
            got = []
            for type_, params in SEARCHES:
                bundle, _ = searchset.search(
                    Scoped(repo, policy_for), registry, [type_], params, "http://x/fhir", path=type_, now=NOW
                )
                bundle = orjson.loads(orjson.dumps(bundle))
                got.append((bundle.get("total"), [e["fullUrl"] for e in bundle["entry"]]))
            # every visible resource is one decide allows, and every allowed one is visible
            for type_ in ("Patient", "DocumentReference", "AllergyIntolerance", "Consent", "Practitioner"):
                seen = {s.id for s in repo.find(type_, TRUE, policy_for)}
                for stored in repo.find(type_, TRUE, no_policy):
                    state = states.get(stored.acl.get("patient")) if stored.acl.get("patient") else None
                    allowed = decide(requester, state, stored.acl, now=NOW).allowed
                    assert (stored.id in seen) == allowed, (caller, type_, stored.id, stored.acl)
            answers.append(got)
        assert answers[0] == answers[1], caller
