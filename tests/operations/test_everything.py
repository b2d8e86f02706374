"""Patient/$everything: the compartment as the caller may see it, paged exactly across types."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.bundles.helpers import observation
from tests.bundles.world import GP
from tests.bundles.world import NURSE
from tests.bundles.world import PATIENT
from tests.bundles.world import STRANGER
from tests.bundles.world import headers
from tests.support import stored

URL = f"/fhir/{PATIENT}/$everything"
#: the world's resources in the adult patient's compartment (AuditEvent aside)
EVERYTHING = {
    "Patient/ins-adulte",
    "Consent/autorisation-praticien",
    "DocumentReference/compte-rendu",
    "DocumentReference/masque-ps",
    "DocumentReference/directives-anticipees",
    "DocumentReference/bilan",
    "AllergyIntolerance/penicilline",
    "RelatedPerson/contact-urgence",
    # referenced by those items (generalPractitioner, the grant's actor, an author): outside the compartment
    "Practitioner/medecin-traitant",
    "Practitioner/infirmier",
    "Practitioner/biologiste",
}


def refs(bundle: dict) -> list[str]:
    return [f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]]


def local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def walk(client, headers_, url: str) -> tuple[list[str], set[int]]:
    """Every entry reached through the next links, and the totals the pages gave."""
    seen, totals = [], set()
    while url:
        page = client.get(url, headers=headers_).get_json()
        seen += refs(page)
        totals.add(page["total"])
        url = next((local(link["url"]) for link in page["link"] if link["relation"] == "next"), "")
    return seen, totals


def test_everything_in_the_compartment_and_nothing_else(client, system, world):
    client.put("/fhir/Patient/other", json={"resourceType": "Patient", "id": "other"}, headers=system)
    client.post("/fhir/Observation", json=observation("Patient/other"), headers=system)
    bundle = client.get(URL, headers=system).get_json()
    assert bundle["type"] == "searchset" and bundle["total"] == len(EVERYTHING)
    assert set(refs(bundle)) == EVERYTHING
    assert refs(bundle)[0] == PATIENT


def test_pages_cross_types_in_a_stable_order_with_exact_totals(client, system, world):
    first = client.get(f"{URL}?_count=3", headers=system).get_json()
    assert len(first["entry"]) == 3
    seen, totals = walk(client, system, f"{URL}?_count=3")
    assert totals == {len(EVERYTHING)}
    assert len(seen) == len(set(seen)) == len(EVERYTHING)
    assert seen == refs(client.get(f"{URL}?_count=100", headers=system).get_json())


@pytest.mark.parametrize(
    "who,hidden",
    [
        (GP, set()),
        (
            NURSE,
            {
                "DocumentReference/masque-ps",
                "DocumentReference/compte-rendu",
                "Consent/autorisation-praticien",
                "DocumentReference/directives-anticipees",
                "RelatedPerson/contact-urgence",
                "Practitioner/infirmier",
            },
        ),  # named only by the grant, which the nurse may not read
    ],
)
def test_consent_is_inside_the_query(app, client, world, who, hidden):
    caller = headers(app, who)
    seen, totals = walk(client, caller, f"{URL}?_count=2")
    assert set(seen) == EVERYTHING - hidden
    assert totals == {len(EVERYTHING - hidden)}


def test_a_hidden_patient_answers_as_an_unknown_one(app, client, world):
    caller = headers(app, STRANGER)
    hidden = client.get(URL, headers=caller)
    absent = client.get("/fhir/Patient/never-was/$everything", headers=caller)
    assert hidden.status_code == absent.status_code == 404
    assert hidden.get_data(as_text=True).replace("ins-adulte", "ID") == absent.get_data(as_text=True).replace(
        "never-was", "ID"
    )


def test_type_and_since(app, client, system, world):
    only = client.get(f"{URL}?_type=AllergyIntolerance,RelatedPerson", headers=system).get_json()
    assert set(refs(only)) == {"AllergyIntolerance/penicilline", "RelatedPerson/contact-urgence"}
    with app.app_context():
        latest = max(s.ts for s in stored("DocumentReference"))
    since = client.get(f"{URL}?_since={latest}", headers=system).get_json()
    assert refs(since) == ["DocumentReference/bilan"]
    bad = client.get(f"{URL}?_type=Organization", headers=system)
    assert bad.status_code == 400 and "not in the Patient compartment" in bad.get_json()["issue"][0]["diagnostics"]
    assert client.get(f"{URL}?start=2020", headers=system).status_code == 400


def test_access_traces_only_when_asked(client, system, world):
    client.get(f"/fhir/{PATIENT}", headers=system)
    traces = client.get(f"{URL}?_type=AuditEvent", headers=system).get_json()
    assert traces["total"] > 0 and {r.split("/")[0] for r in refs(traces)} == {"AuditEvent"}


def test_post_with_parameters(client, system, world):
    body = {
        "resourceType": "Parameters",
        "parameter": [{"name": "_type", "valueString": "AllergyIntolerance"}, {"name": "_count", "valueInteger": 5}],
    }
    resp = client.post(URL, json=body, headers=system)
    assert resp.status_code == 200 and refs(resp.get_json()) == ["AllergyIntolerance/penicilline"]


def test_everything_is_traced(app, client, system, world):
    client.get(URL, headers=system)
    with app.app_context():
        traces = stored("AuditEvent", lambda r: "operation" in {c.get("code") for c in r.get("subtype") or ()})
    assert traces and all(t.resource["action"] == "E" for t in traces)
