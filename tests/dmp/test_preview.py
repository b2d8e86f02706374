"""Consent/$preview over HTTP: who gains and who loses what, before anything is saved. The
comparison itself: tests/consent/test_preview.py."""

from __future__ import annotations

import pytest

from fhir_server.storage import get_store
from fhir_server.storage import no_policy
from search.plan import TRUE
from tests.dmp.world import GP
from tests.dmp.world import P
from tests.dmp.world import example
from tests.dmp.world import put
from tests.dmp.world import role
from tests.dmp.world import token
from tests.support import bearer

pytestmark = pytest.mark.usefixtures("world")
URGENTISTE = "Practitioner/urgentiste"


def consent(provision, id_=None, patient=P):
    body = example("Consent-opposition-bris-de-glace") | {"provision": provision, "patient": {"reference": patient}}
    body.pop("id")
    return body | ({"id": id_} if id_ else {})


def actor(ref):
    role = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}]}
    return [{"role": role, "reference": {"reference": ref}}]


def grant(ref):
    return consent({"type": "permit", "actor": actor(ref)})


def block(ref):
    return consent({"type": "deny", "actor": actor(ref)})


def objection(code):
    return consent(
        {"type": "deny", "purpose": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": code}]}
    )


def preview(app, client, body, caller=P):
    headers = bearer(app, fhir_user=caller) if caller else bearer(app)
    return client.post("/fhir/Consent/$preview", json=body, headers=headers)


def changes(resp):
    assert resp.status_code == 200, resp.get_json()
    found = {}
    for change in (p for p in resp.get_json()["parameter"] if p["name"] == "change"):
        who = change["part"][0]
        actor = who.get("valueReference", {}).get("reference") or who["valueCoding"]["code"]
        found[actor] = {
            kind: sorted(p["valueReference"]["reference"] for p in change["part"] if p["name"] == kind)
            for kind in ("gains", "loses")
        }
    return found


def warnings(resp):
    return [p["valueString"] for p in resp.get_json()["parameter"] if p["name"] == "warning"]


def test_a_grant_gains_the_matrix_minus_masked_and_hidden_items(app, client):
    found = changes(preview(app, client, grant(URGENTISTE)))
    assert found == {
        URGENTISTE: {
            "gains": ["DocumentReference/compte-rendu", "Patient/ins-adulte"],
            "loses": [],
        }
    }


def test_a_block_of_the_attending_physician_loses_everything_and_warns(app, client):
    resp = preview(app, client, block(GP))
    assert changes(resp)[GP]["gains"] == []
    assert {"DocumentReference/compte-rendu", "DocumentReference/masque-ps", P} <= set(changes(resp)[GP]["loses"])
    assert "DocumentReference/invisible-patient" not in changes(resp)[GP]["loses"]  # hidden from the caller
    assert any(GP in text for text in warnings(resp))


@pytest.mark.parametrize(("code", "mode"), [("BTG", "bris_de_glace"), ("ETREAT", "centre_15")])
def test_an_objection_shows_on_its_mode_only(app, client, code, mode):
    found = changes(preview(app, client, objection(code)))
    assert set(found) == {mode}
    assert "DocumentReference/compte-rendu" in found[mode]["loses"]


def test_replacing_a_consent_by_id(app, client, system):
    nurse = role("infirmier-role", "Practitioner/infirmier", "60")
    put(client, system, nurse, example("Consent-autorisation-praticien"))
    withdrawn = example("Consent-autorisation-praticien") | {"status": "inactive"}
    found = changes(preview(app, client, withdrawn))
    assert found["Practitioner/infirmier"]["gains"] == []
    assert P in found["Practitioner/infirmier"]["loses"]


def test_an_organization_grant_reaches_its_members(app, client, system):
    member = role("cardio-role", "Practitioner/cardiologue", "10") | {"organization": {"reference": "Organization/chu"}}
    put(
        client,
        system,
        {"resourceType": "Organization", "id": "chu"},
        {"resourceType": "Practitioner", "id": "cardiologue"},
        member,
    )
    assert "Practitioner/cardiologue" in changes(preview(app, client, grant("Organization/chu")))


@pytest.mark.parametrize(
    ("caller", "patient", "expected"),
    [
        (P, P, 200),
        (None, P, 200),
        ("RelatedPerson/representant-legal", "Patient/ins-mineur", 200),
        (GP, P, 403),
        ("Patient/ins-mineur", P, 403),
        ("RelatedPerson/representant-legal", P, 403),
        (None, "Patient/unknown", 404),
    ],
)
def test_who_previews(app, client, caller, patient, expected):
    body = grant(URGENTISTE) | {"patient": {"reference": patient}}
    assert preview(app, client, body, caller).status_code == expected


def test_nothing_is_saved(app, client):
    def consents():
        with app.app_context():
            store = get_store()
            return store.find("Consent", TRUE, no_policy), store.history("Consent", None, None, no_policy, 0, 10**6)

    before = consents()
    preview(app, client, block(GP))
    assert consents() == before
    assert client.get("/fhir/DocumentReference/compte-rendu", headers=token(app, GP)).status_code == 200


@pytest.mark.parametrize(
    "body,status,diagnostics",
    [
        ({"resourceType": "Patient"}, 400, "resourceType 'Patient' does not match the URL's type 'Consent'"),
        ({"resourceType": "Consent", "status": "nonsense"}, 422, "Consent.status: 'nonsense' is not one of"),
    ],
    ids=["not-a-consent", "invalid-consent"],
)
def test_the_body_must_be_a_valid_consent(app, client, body, status, diagnostics):
    resp = preview(app, client, body)
    assert resp.status_code == status
    assert resp.get_json()["issue"][0]["diagnostics"].startswith(diagnostics)


def research():
    return grant(URGENTISTE) | {
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "research"}]}
    }


OTHER_CATEGORY = [{"coding": [{"system": "http://loinc.org", "code": "57016-8"}]}]
UNKNOWN_RULE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "NOPE"}]}


@pytest.mark.parametrize(
    ("body", "status", "diagnostics"),
    [
        (
            grant(URGENTISTE) | {"category": OTHER_CATEGORY},
            422,
            "Consent.category: add the category http://loinc.org|59284-0",
        ),
        (grant(URGENTISTE) | {"policyRule": UNKNOWN_RULE}, 422, "Consent.policyRule: use a policyRule from"),
        (consent({"type": "permit"}), 422, "Consent.provision.actor: a permit grants access to its actors"),
        (grant("Patient/ins-mineur"), 422, "Consent.provision.actor[0].reference: name the actor by a reference"),
        (grant("Practitioner/inconnu"), 422, "Consent.provision.actor[0].reference: 'Practitioner/inconnu' does not"),
        (grant("Practitioner?_id=inconnu"), 422, "Consent.provision.actor[0].reference: the conditional reference"),
        (grant("Practitioner?_id=infirmier,biologiste"), 412, "Consent.provision.actor[0].reference: the condit"),
    ],
    ids=["no-category", "unknown-policy-rule", "uninterpretable", "not-an-actor", "unknown-actor", "no-match", "many"],
)
def test_the_preview_refuses_what_a_consent_write_refuses(app, client, system, body, status, diagnostics):
    written = client.post("/fhir/Consent", json=body, headers=system)
    previewed = preview(app, client, body)
    assert (previewed.status_code, written.status_code) == (status, status)
    assert previewed.get_json()["issue"][0]["diagnostics"].startswith(diagnostics)
    assert previewed.get_json() == written.get_json()


def test_the_preview_answers_the_information_a_write_answers(app, client, system):
    resp = preview(app, client, research())
    assert resp.status_code == 200
    outcome = [p["resource"] for p in resp.get_json()["parameter"] if p["name"] == "outcome"]
    assert [i["severity"] for i in outcome[0]["issue"]] == ["information"]
    assert outcome[0]["issue"][0]["diagnostics"].startswith("Consent.scope: this consent (scope research) is stored")
    assert not [p for p in resp.get_json()["parameter"] if p["name"] == "change"]  # data, no effect on access
    written = client.post("/fhir/Consent", json=research(), headers=system | {"Prefer": "return=OperationOutcome"})
    assert written.status_code == 201
    assert outcome[0]["issue"][0] in written.get_json()["issue"]


def test_a_consent_the_engine_applies_has_no_outcome(app, client):
    assert [p["name"] for p in preview(app, client, grant(URGENTISTE)).get_json()["parameter"]] == ["change"]


def test_the_preview_resolves_references_as_a_write_does(app, client):
    assert URGENTISTE in changes(preview(app, client, grant("Practitioner?_id=urgentiste")))


def test_the_write_checks_come_after_the_holder_check(app, client):
    body = grant(URGENTISTE) | {"category": OTHER_CATEGORY}
    assert preview(app, client, body, caller=GP).status_code == 403
    assert preview(app, client, body | {"patient": {"reference": "Patient/unknown"}}, caller=None).status_code == 404
