"""System history ``GET [base]/_history`` (R4 http.html#history): every type's versions, newest
first, paged, ``_since``/``_at``, each version under its own type's consent policy in the query
(on its own and on the current access attributes), on both adapters."""

from __future__ import annotations

import time

import pytest

from tests.bundles.world import GP
from tests.bundles.world import NURSE
from tests.bundles.world import STRANGER
from tests.bundles.world import headers
from tests.bundles.world import seed
from tests.support import bearer

#: the world's versions (one each), the access traces aside
WORLD = {
    "Patient/ins-adulte",
    "Practitioner/medecin-traitant",
    "PractitionerRole/medecin-traitant-role",
    "PractitionerRole/infirmier-role",
    "Consent/autorisation-praticien",
    "DocumentReference/compte-rendu",
    "DocumentReference/masque-ps",
    "DocumentReference/directives-anticipees",
    "DocumentReference/bilan",
    "AllergyIntolerance/penicilline",
    "RelatedPerson/contact-urgence",
    "Practitioner/infirmier",
    "Practitioner/biologiste",
    "Practitioner/praticien-bloque",
    "Organization/chu-exemple",
    "Organization/cabinet-lambert",
}
DIRECTORY = {
    "Practitioner/medecin-traitant",
    "PractitionerRole/medecin-traitant-role",
    "PractitionerRole/infirmier-role",
    # the directory entries the world's references name (written first: references are checked)
    "Practitioner/infirmier",
    "Practitioner/biologiste",
    "Practitioner/praticien-bloque",
    "Organization/chu-exemple",
    "Organization/cabinet-lambert",
}


def local(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def walk(client, caller, url: str) -> tuple[list[str], set[int]]:
    seen, totals = [], set()
    while url:
        page = client.get(url, headers=caller).get_json()
        assert page["type"] == "history", page
        totals.add(page["total"])
        seen += [e["fullUrl"].split("/fhir/", 1)[1] for e in page.get("entry", [])]
        url = next((local(link["url"]) for link in page["link"] if link["relation"] == "next"), "")
    return seen, totals


def untraced(refs: list[str]) -> set[str]:
    """The world's items (access traces and the profiles the server publishes at start aside)."""
    return {
        r
        for r in refs
        if not r.startswith(("AuditEvent/", "StructureDefinition/", "OperationDefinition/", "CodeSystem/", "ValueSet/"))
    }


@pytest.fixture
def world(client, system) -> None:
    seed(client, system)


def test_system_history_pages_every_type_newest_first(app, client, world):
    caller = bearer(app, scope="system/Patient.rs system/DocumentReference.rs system/AllergyIntolerance.rs")
    seen, totals = walk(client, caller, "/fhir/_history?_count=2")
    assert set(seen) == {r for r in WORLD if r.split("/")[0] in ("Patient", "DocumentReference", "AllergyIntolerance")}
    assert totals == {len(seen)} and len(seen) == len(set(seen))
    whole = client.get("/fhir/_history?_count=100", headers=caller).get_json()
    stamps = [e["response"]["lastModified"] for e in whole["entry"]]
    assert stamps == sorted(stamps, reverse=True)


def test_a_system_client_sees_every_version(client, system, world):
    seen, _ = walk(client, system, "/fhir/_history?_count=50")
    assert untraced(seen) == WORLD


@pytest.mark.parametrize(
    "who,visible",
    [
        (GP, WORLD),
        (NURSE, {"Patient/ins-adulte", "DocumentReference/bilan", "AllergyIntolerance/penicilline"} | DIRECTORY),
        (STRANGER, DIRECTORY),
    ],
)
def test_consent_is_inside_the_query(app, client, world, who, visible):
    caller = headers(app, who)
    bundle = client.get("/fhir/_history?_count=100", headers=caller).get_json()
    refs = [e["fullUrl"].split("/fhir/", 1)[1] for e in bundle.get("entry", [])]
    assert untraced(refs) == visible
    assert bundle["total"] == len(refs)  # the access traces the caller may see are counted as listed
    seen, _totals = walk(client, caller, "/fhir/_history?_count=3")
    assert untraced(seen) == visible


def test_a_version_now_hidden_leaves_system_history(app, client, system, world):
    """Masking a document hides its earlier versions too (current acl ANDed in)."""
    nurse = headers(app, NURSE)
    body = client.get("/fhir/DocumentReference/bilan", headers=system).get_json()
    masked = client.get("/fhir/DocumentReference/masque-ps", headers=system).get_json()
    assert "DocumentReference/bilan" in untraced(walk(client, nurse, "/fhir/_history?_count=100")[0])
    body["securityLabel"] = masked["securityLabel"]
    assert client.put("/fhir/DocumentReference/bilan", json=body, headers=system).status_code == 200
    seen, _totals = walk(client, nurse, "/fhir/_history?_count=100")
    assert "DocumentReference/bilan" not in seen


def test_since_and_at(client, system, world):
    first = client.get("/fhir/AllergyIntolerance/penicilline", headers=system).get_json()
    time.sleep(0.01)
    changed = client.put(
        "/fhir/AllergyIntolerance/penicilline", json={**first, "criticality": "high"}, headers=system
    ).get_json()
    since = changed["meta"]["lastUpdated"]
    recent = client.get(f"/fhir/_history?_since={since}", headers=system).get_json()
    assert untraced([e["fullUrl"].split("/fhir/", 1)[1] for e in recent["entry"]]) == {"AllergyIntolerance/penicilline"}
    before = first["meta"]["lastUpdated"]
    at = client.get(f"/fhir/_history?_at={before}&_count=100", headers=system).get_json()
    versions = {(e["fullUrl"].split("/fhir/", 1)[1], e["response"]["etag"]) for e in at["entry"]}
    assert ("AllergyIntolerance/penicilline", 'W/"1"') in versions
    assert ("AllergyIntolerance/penicilline", 'W/"2"') not in versions
    now = client.get(f"/fhir/_history?_at={since}&_count=100", headers=system).get_json()
    versions = {(e["fullUrl"].split("/fhir/", 1)[1], e["response"]["etag"]) for e in now["entry"]}
    assert ("AllergyIntolerance/penicilline", 'W/"2"') in versions
    assert ("AllergyIntolerance/penicilline", 'W/"1"') not in versions
    assert client.get("/fhir/_history?_at=yesterday", headers=system).status_code == 400
    assert client.get("/fhir/_history?colour=blue", headers=system).status_code == 400
