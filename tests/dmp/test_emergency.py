"""Emergency access over HTTP (fhir_server.dmp.emergency): the window, the objections, the trace and the
notification. The rules themselves, table-driven: tests/consent/test_engine.py, test_emergency_rules.py."""

from __future__ import annotations

import pytest

from fhir_server.dmp.emergency import SESSIONS
from fhir_server.storage import get_store
from tests.dmp.world import GP
from tests.dmp.world import P
from tests.dmp.world import audit_events
from tests.dmp.world import communications
from tests.dmp.world import example
from tests.dmp.world import put
from tests.dmp.world import token

pytestmark = pytest.mark.usefixtures("world")
URGENTISTE = "Practitioner/urgentiste"
MODES = {"BTG": "bris_de_glace", "ETREAT": "centre_15"}
OBJECTIONS = {"BTG": "Consent-opposition-bris-de-glace", "ETREAT": "Consent-opposition-centre-15"}


def status(client, headers, path):
    return client.get(f"/fhir/{path}", headers=headers).status_code


@pytest.mark.parametrize("purpose", MODES)
def test_an_explicit_request_opens_a_window_through_the_matrix(app, client, purpose):
    headers = token(app, URGENTISTE, purpose, "patient inconscient")
    assert status(client, headers, "DocumentReference/compte-rendu") == 404  # the patient was not named yet
    assert status(client, headers, "Patient/ins-adulte") == 200
    assert status(client, headers, "DocumentReference/compte-rendu") == 200
    assert status(client, headers, "DocumentReference/masque-ps") == 404  # MASQUE_PS stays hidden
    assert status(client, headers, "AuditEvent?patient=ins-adulte") == 200
    with app.app_context():
        session = get_store().documents(SESSIONS).find_one({"_id": f"{URGENTISTE}|{P}"})
    assert session is not None
    assert (session["mode"], session["reason"]) == (MODES[purpose], "patient inconscient")


def test_a_bundle_entry_names_its_patient_as_the_same_request_alone(app, client):
    """Each GET entry names the records of its own URL (tests/bundles: entries run as alone)."""
    headers = token(app, URGENTISTE, "BTG", "patient inconscient")
    reads = [
        "DocumentReference/compte-rendu",
        "Patient/ins-adulte",
        "DocumentReference/compte-rendu",
        "DocumentReference/masque-ps",
    ]
    batch = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [{"request": {"method": "GET", "url": url}} for url in reads],
    }
    resp = client.post("/fhir", json=batch, headers=headers)
    assert resp.status_code == 200
    assert [e["response"]["status"] for e in resp.get_json()["entry"]] == [
        "404 Not Found",
        "200 OK",
        "200 OK",
        "404 Not Found",
    ]
    assert len(audit_events(app, "110127")) == 1


def test_a_search_entry_names_its_patient(app, client):
    headers = token(app, URGENTISTE, "ETREAT", "appel au 15")
    batch = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [{"request": {"method": "GET", "url": f"DocumentReference?subject={P}&_elements=id"}}],
    }
    (found,) = client.post("/fhir", json=batch, headers=headers).get_json()["entry"]
    assert found["response"]["status"] == "200 OK"
    assert "compte-rendu" in [e["resource"]["id"] for e in found["resource"]["entry"]]
    assert len(audit_events(app, "110127")) == 1


@pytest.mark.parametrize("purpose", MODES)
def test_opening_is_traced_and_notified_once(app, client, purpose):
    headers = token(app, URGENTISTE, purpose, "appel au 15")
    for _ in range(3):
        assert status(client, headers, "Patient/ins-adulte") == 200
    (trace,) = audit_events(app, "110127")
    assert trace["type"]["code"] == "110113"
    assert trace["purposeOfEvent"][0]["coding"][0]["code"] == purpose
    assert trace["purposeOfEvent"][0]["text"] == "appel au 15"
    assert trace["agent"][0]["who"] == {"reference": URGENTISTE}
    assert trace["entity"][0]["what"] == {"reference": P}
    (notice,) = communications(app)
    assert [r["reference"] for r in notice["recipient"]] == [P, GP]
    assert notice["about"] == [{"reference": f"AuditEvent/{trace['id']}"}]
    assert notice["category"][0]["coding"][0]["code"] == "notification"
    assert "appel au 15" in notice["payload"][0]["contentString"]


@pytest.mark.parametrize(
    ("objection", "purpose", "allowed"),
    [
        (objection, purpose, objection_purpose != purpose)
        for objection_purpose, objection in OBJECTIONS.items()
        for purpose in MODES
    ],
)
def test_each_objection_refuses_its_own_mode_only(app, client, system, objection, purpose, allowed):
    put(client, system, example(objection))
    headers = token(app, URGENTISTE, purpose, "urgence vitale")
    assert status(client, headers, "Patient/ins-adulte") == (200 if allowed else 404)
    assert status(client, headers, "DocumentReference/compte-rendu") == (200 if allowed else 404)
    assert len(audit_events(app, "110127")) == allowed
    assert len(communications(app)) == allowed


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_no_reason_no_window(app, client, reason):
    headers = token(app, URGENTISTE, "BTG", reason)
    assert status(client, headers, "Patient/ins-adulte") == 404
    assert audit_events(app, "110127") == [] and communications(app) == []


def test_the_window_closes_at_its_end_and_a_new_reason_reopens_it(app, client, clock):
    first = token(app, URGENTISTE, "BTG", "arrêt cardiaque")
    assert status(client, first, "Patient/ins-adulte") == 200
    clock.advance(minutes=14, seconds=59)
    assert status(client, first, "DocumentReference/compte-rendu") == 200
    clock.advance(seconds=1)  # 15 minutes after the first request
    assert status(client, first, "DocumentReference/compte-rendu") == 404
    assert status(client, first, "Patient/ins-adulte") == 404  # the same reason opens nothing more
    second = token(app, URGENTISTE, "BTG", "nouvel arrêt cardiaque")
    assert status(client, second, "Patient/ins-adulte") == 200
    assert len(audit_events(app, "110127")) == 2 and len(communications(app)) == 2


def test_the_window_length_is_configured(app, client, clock):
    app.config["EMERGENCY_WINDOW_MINUTES"] = 2
    headers = token(app, URGENTISTE, "ETREAT", "régulation")
    assert status(client, headers, "Patient/ins-adulte") == 200
    clock.advance(minutes=2)
    assert status(client, headers, "Patient/ins-adulte") == 404


def test_normal_mode_ignores_a_running_window(app, client):
    assert status(client, token(app, URGENTISTE, "BTG", "urgence"), "Patient/ins-adulte") == 200
    assert status(client, token(app, URGENTISTE), "DocumentReference/compte-rendu") == 404


@pytest.mark.parametrize(
    "query",
    [
        "DocumentReference?patient=ins-adulte",
        "DocumentReference?patient=Patient/ins-adulte",
        "DocumentReference?subject=Patient/ins-adulte",
        "DocumentReference?subject:Patient=ins-adulte",
        "DocumentReference?patient.identifier=urn:oid:1.2.250.1.213.1.4.8|279035121518989",
        "Patient?_id=ins-adulte",
        "Patient?identifier=urn:oid:1.2.250.1.213.1.4.8|279035121518989",
    ],
)
def test_searches_naming_the_patient_open_it(app, client, query):
    headers = token(app, URGENTISTE, "BTG", "urgence")
    bundle = client.get(f"/fhir/{query}", headers=headers).get_json()
    assert bundle["total"] >= 1, bundle
    assert status(client, headers, "DocumentReference/compte-rendu") == 200


@pytest.mark.parametrize(
    "query",
    [
        "DocumentReference",
        "DocumentReference?subject=ins-adulte",
        "Patient?identifier=279035121518989",
        "Patient?name=Durand",
    ],
)
def test_searches_not_naming_the_patient_open_nothing(app, client, query):
    headers = token(app, URGENTISTE, "BTG", "urgence")
    client.get(f"/fhir/{query}", headers=headers)
    assert status(client, headers, "DocumentReference/compte-rendu") == 404
    assert audit_events(app, "110127") == []


@pytest.mark.parametrize(
    ("user", "document", "visible"),
    [
        ("Practitioner/urgentiste", "DocumentReference/compte-rendu", True),  # physician: all but ATTEST-RESID
        ("Practitioner/infirmier", "DocumentReference/compte-rendu", False),  # nurse: no hospital report (class 10)
    ],
)
def test_the_matrix_filters_emergency_access(app, client, user, document, visible):
    headers = token(app, user, "BTG", "urgence")
    assert status(client, headers, "Patient/ins-adulte") == 200
    assert status(client, headers, document) == (200 if visible else 404)


@pytest.mark.parametrize("situation", ["blocked", "attending", "closed"])
def test_no_window_where_emergency_cannot_apply(app, client, system, situation):
    user = GP if situation == "attending" else URGENTISTE
    if situation == "blocked":
        block = example("Consent-blocage-praticien")
        block["provision"]["actor"][0]["reference"] = {"reference": URGENTISTE}
        put(client, system, block)
    if situation == "closed":
        assert client.post("/fhir/Patient/ins-adulte/$close", json=reason_body(), headers=system).status_code == 200
    client.get("/fhir/Patient/ins-adulte", headers=token(app, user, "BTG", "urgence"))
    assert audit_events(app, "110127") == [] and communications(app) == []


def reason_body():
    return {"resourceType": "Parameters", "parameter": [{"name": "reason", "valueString": "test"}]}
