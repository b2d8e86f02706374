"""Patient/$summary: an IPS-style document built, narrative included, from what the caller may see."""

from __future__ import annotations

from fhir_server import validation
from tests.bundles.world import GP
from tests.bundles.world import NURSE
from tests.bundles.world import PATIENT
from tests.bundles.world import STRANGER
from tests.bundles.world import headers

URL = f"/fhir/{PATIENT}/$summary"
TITLES = [
    "Medication summary",
    "Allergies and intolerances",
    "Problem list",
    "Documents and results",
    "Relatives to contact",
    "Advance directives",
]


def sections(document: dict) -> dict[str, dict]:
    composition = document["entry"][0]["resource"]
    return {s["title"]: s for s in composition["section"]}


def listed(section: dict) -> list[str]:
    return [e["reference"] for e in section.get("entry", [])]


def test_a_valid_document_with_every_section(client, system, world):
    resp = client.get(URL, headers=system)
    assert resp.status_code == 200
    document = resp.get_json()
    assert document["type"] == "document" and document["identifier"]["value"].startswith("urn:uuid:")
    assert [i for i in validation.validate(document, "Bundle") if i["severity"] == "error"] == []
    composition = document["entry"][0]["resource"]
    assert composition["resourceType"] == "Composition" and composition["subject"]["reference"] == PATIENT
    assert composition["type"]["coding"][0]["code"] == "60591-5"
    found = sections(document)
    assert list(found) == TITLES
    assert listed(found["Allergies and intolerances"]) == ["AllergyIntolerance/penicilline"]
    assert set(listed(found["Documents and results"])) == {
        "DocumentReference/compte-rendu",
        "DocumentReference/masque-ps",
        "DocumentReference/bilan",
    }
    assert listed(found["Relatives to contact"]) == ["RelatedPerson/contact-urgence"]
    assert listed(found["Advance directives"]) == ["DocumentReference/directives-anticipees"]
    assert "Penicillin" in found["Allergies and intolerances"]["text"]["div"]
    assert "Durand" in found["Relatives to contact"]["text"]["div"]
    assert "Directives anticipées" in found["Advance directives"]["text"]["div"]
    by_url = {e["fullUrl"]: e["resource"] for e in document["entry"]}
    author = by_url[composition["author"][0]["reference"]]  # the author is an entry of the document
    assert author["resourceType"] == "Device" and author["deviceName"][0]["name"] == "Carnet"
    included = {
        f"{e['resource']['resourceType']}/{e['resource']['id']}"
        for e in document["entry"][1:]
        if e["resource"]["resourceType"] != "Device"
    }
    assert included == {PATIENT} | {ref for s in found.values() for ref in listed(s)}
    assert all(
        e["fullUrl"].endswith(f"/fhir/{e['resource']['resourceType']}/{e['resource']['id']}")
        for e in document["entry"]
        if e["resource"]["resourceType"] != "Device"
    )


def test_the_custodian_is_the_record_keeper_when_visible(app, client, system, world):
    client.put(
        "/fhir/Organization/garde",
        json={"resourceType": "Organization", "id": "garde", "name": "CHU garde"},
        headers=system,
    )
    patient = client.get(f"/fhir/{PATIENT}", headers=system).get_json()
    patient["managingOrganization"] = {"reference": "Organization/garde"}
    assert client.put(f"/fhir/{PATIENT}", json=patient, headers=system).status_code == 200
    document = client.get(URL, headers=system).get_json()
    composition = document["entry"][0]["resource"]
    assert composition["custodian"] == {"reference": "Organization/garde"}
    assert any(
        e["resource"]["resourceType"] == "Organization" and e["resource"]["id"] == "garde" for e in document["entry"]
    )


def test_only_what_the_caller_may_see_narrative_included(app, client, world):
    gp = sections(client.get(URL, headers=headers(app, GP)).get_json())
    assert "DocumentReference/masque-ps" in listed(gp["Documents and results"])
    nurse_doc = client.get(URL, headers=headers(app, NURSE)).get_json()
    nurse = sections(nurse_doc)
    assert listed(nurse["Documents and results"]) == ["DocumentReference/bilan"]
    assert "Bilan masqué" not in str(nurse_doc)
    assert "masque-ps" not in str(nurse_doc)
    assert nurse["Advance directives"] == {
        "title": "Advance directives",
        "code": gp["Advance directives"]["code"],
        "text": {
            "status": "generated",
            "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p>No information available.</p></div>',
        },
        "emptyReason": nurse["Relatives to contact"]["emptyReason"],
    }


def test_an_empty_section_reads_the_same_hidden_or_absent(app, client, system, world):
    client.put(
        "/fhir/Patient/alone",
        json={"resourceType": "Patient", "id": "alone", "generalPractitioner": [{"reference": NURSE}]},
        headers=system,
    )
    hidden = sections(client.get(URL, headers=headers(app, NURSE)).get_json())["Advance directives"]
    absent = sections(client.get("/fhir/Patient/alone/$summary", headers=headers(app, NURSE)).get_json())
    assert hidden == absent["Advance directives"]


def test_a_hidden_patient_answers_as_an_unknown_one(app, client, world):
    caller = headers(app, STRANGER)
    hidden = client.get(URL, headers=caller)
    absent = client.get("/fhir/Patient/never-was/$summary", headers=caller)
    assert hidden.status_code == absent.status_code == 404
    assert hidden.get_data(as_text=True).replace("ins-adulte", "ID") == absent.get_data(as_text=True).replace(
        "never-was", "ID"
    )


def test_narratives_escape_what_they_quote(client, system, world):
    allergy = {
        "resourceType": "AllergyIntolerance",
        "id": "odd",
        "patient": {"reference": PATIENT},
        "code": {"text": "<script>alert(1)</script> & co"},
    }
    assert client.put("/fhir/AllergyIntolerance/odd", json=allergy, headers=system).status_code == 201
    div = sections(client.get(URL, headers=system).get_json())["Allergies and intolerances"]["text"]["div"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in div and "<script>" not in div
