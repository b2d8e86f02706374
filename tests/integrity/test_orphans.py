"""Issue 12, point 3: default deny for orphans. A resource of a Patient-compartment type whose
patient cannot be determined is read only by system clients and its authors — on read, search,
_include, history, $everything and bundles — and never becomes directory data."""

from __future__ import annotations

import pytest

from fhir_server.storage import get_store_of
from tests.leaks.world import build
from tests.leaks.world import document

INS = "urn:oid:1.2.250.1.213.1.4.8"
GP, GRANTED, AUTHOR, STRANGER = (
    "Practitioner/gp",
    "Practitioner/granted",
    "Practitioner/author",
    "Practitioner/stranger",
)
#: the three leaks of issue 12: a conditional subject kept literally, a bare id, an absent Patient
ORPHAN_SUBJECTS = {
    "conditional": f"Patient?identifier={INS}|279035121518989",
    "bare": "ExamplefrPatient001",
    "absent": "Patient/never-was",
}
PRACTITIONERS = (GP, GRANTED, STRANGER)


def orphan(id_: str, subject: str) -> dict:
    return document(id_, subject, AUTHOR)


@pytest.mark.parametrize("writer", [None, AUTHOR])
@pytest.mark.parametrize("case", sorted(ORPHAN_SUBJECTS))
def test_the_three_orphan_cases_are_refused(app, writer, case):
    world = build(app)
    body = orphan("o", ORPHAN_SUBJECTS[case])
    assert world.client.put("/fhir/DocumentReference/o", json=body, headers=world.headers(writer)).status_code == 422
    del body["id"]
    assert world.client.post("/fhir/DocumentReference", json=body, headers=world.headers(writer)).status_code == 422
    batch = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [{"request": {"method": "POST", "url": "DocumentReference"}, "resource": body}],
    }
    answer = world.client.post("/fhir", json=batch, headers=world.headers(writer)).get_json()
    assert answer["entry"][0]["response"]["status"] == "422 Unprocessable Content"
    assert world.ids(None, "/fhir/DocumentReference?author=Practitioner/author&_count=100") == [
        "d1",
        "d2",
        "d3",
        "d4",
        "d5",
    ]


@pytest.fixture
def unchecked(make_app):
    """Orphans as stored before issue 12 (or with REFERENCE_CHECK off), by a system writer, each
    next to an Observation of p1 that derives from it (for _include)."""
    world = build(make_app(REFERENCE_CHECK=False))
    system = world.headers(None)
    for case, subject in ORPHAN_SUBJECTS.items():
        if case == "conditional":  # every write resolves it now: written as an older server stored it
            with world.app.app_context():
                get_store_of(world.app).write(
                    "DocumentReference", "o-conditional", orphan("o-conditional", subject), method="PUT"
                )
        else:
            resp = world.client.put(
                f"/fhir/DocumentReference/o-{case}", json=orphan(f"o-{case}", subject), headers=system
            )
            assert resp.status_code == 201, resp.get_json()
        obs = {
            "resourceType": "Observation",
            "id": f"obs-{case}",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
            "subject": {"reference": "Patient/p1"},
            "performer": [{"reference": GP}],
            "derivedFrom": [{"reference": f"DocumentReference/o-{case}"}],
        }
        assert world.client.put(f"/fhir/Observation/obs-{case}", json=obs, headers=system).status_code == 201
    return world


ORPHANS = sorted(f"o-{case}" for case in ORPHAN_SUBJECTS)


@pytest.mark.parametrize("who", PRACTITIONERS)
def test_a_practitioner_without_a_link_never_sees_an_orphan(unchecked, who):
    for id_ in ORPHANS:
        assert unchecked.get(who, f"/fhir/DocumentReference/{id_}").status_code == 404
        assert unchecked.get(who, f"/fhir/DocumentReference/{id_}/_history").status_code == 404
    assert unchecked.ids(who, "/fhir/DocumentReference?_id=" + ",".join(ORPHANS)) == []
    assert unchecked.ids(who, "/fhir/DocumentReference?status=current&_count=100") == sorted(
        unchecked.ids(who, "/fhir/DocumentReference?subject:Patient=p1,p2,minor&_count=100")
    )
    included = unchecked.ids(who, "/fhir/Observation?_include=Observation:derived-from")
    assert not set(included) & set(ORPHANS)
    history = unchecked.get(who, "/fhir/DocumentReference/_history").get_json()
    assert not {e.get("resource", {}).get("id") for e in history.get("entry", [])} & set(ORPHANS)
    everything = unchecked.get(who, "/fhir/Patient/p1/$everything").get_json()
    assert not {e["resource"]["id"] for e in everything.get("entry", [])} & set(ORPHANS)
    batch = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [{"request": {"method": "GET", "url": f"DocumentReference/{id_}"}} for id_ in ORPHANS]
        + [{"request": {"method": "GET", "url": "DocumentReference?_id=" + ",".join(ORPHANS)}}],
    }
    answer = unchecked.client.post("/fhir", json=batch, headers=unchecked.headers(who)).get_json()
    assert [e["response"]["status"] for e in answer["entry"][:3]] == ["404 Not Found"] * 3
    assert answer["entry"][3]["resource"]["total"] == 0


@pytest.mark.parametrize("who", [None, AUTHOR])
def test_system_clients_and_authors_see_orphans(unchecked, who):
    """An item filed under a Patient that does not exist has a record no state can be loaded
    for: only system clients read it (stricter than for the authors of true orphans)."""
    seen = ORPHANS if who is None else [i for i in ORPHANS if i != "o-absent"]
    for id_ in ORPHANS:
        assert unchecked.get(who, f"/fhir/DocumentReference/{id_}").status_code == (200 if id_ in seen else 404)
    assert unchecked.ids(who, "/fhir/DocumentReference?_id=" + ",".join(ORPHANS)) == seen
    if who is None:
        included = unchecked.ids(who, "/fhir/Observation?_include=Observation:derived-from")
        assert set(ORPHANS) <= set(included)


def test_a_practitioner_may_not_write_an_orphan_even_unchecked(make_app):
    world = build(make_app(REFERENCE_CHECK=False))
    for case, subject in ORPHAN_SUBJECTS.items():
        resp = world.client.put(
            f"/fhir/DocumentReference/p-{case}", json=orphan(f"p-{case}", subject), headers=world.headers(AUTHOR)
        )
        assert resp.status_code == (422 if case == "conditional" else 403), (case, resp.get_json())


def test_reindex_recomputes_orphans_of_older_stores(unchecked):
    """A store written before issue 12 held orphans as directory data: reindex makes them orphans."""
    store = get_store_of(unchecked.app)
    with unchecked.app.app_context():
        stale = store.current("DocumentReference", "o-bare")
        assert stale is not None
        store.restore(
            [
                type(stale)(
                    stale.type,
                    stale.id,
                    stale.vid + 1,
                    stale.ts,
                    stale.deleted,
                    stale.body,
                    {**stale.acl, "orphan": None},
                    stale.method,
                )
            ]
        )
        assert unchecked.get(STRANGER, "/fhir/DocumentReference/o-bare").status_code == 200  # the old leak
        assert store.reindex("DocumentReference") >= 1
    assert unchecked.get(STRANGER, "/fhir/DocumentReference/o-bare").status_code == 404
