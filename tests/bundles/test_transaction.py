"""Transactions at POST /fhir (R4 http.html#transaction): resolution, order, response, all or nothing."""

from __future__ import annotations

import base64
import json
import threading

import orjson
import pytest

from fhir_server.storage import get_store
from fhir_server.storage import no_policy
from tests.bundles.helpers import bundle
from tests.bundles.helpers import entry
from tests.bundles.helpers import location_id
from tests.bundles.helpers import observation
from tests.bundles.helpers import patient
from tests.bundles.helpers import post
from tests.bundles.helpers import snapshot
from tests.support import R4
from tests.support import SYNTHEA
from tests.support import read_json
from tests.support import stored

R4_TRANSACTION = R4 / "Bundle-bundle-transaction.json"
URN_P = "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"
URN_O = "urn:uuid:88f151c0-a954-468a-88bd-5ae15c08e059"


def put(client, headers, resource):
    resp = client.put(f"/fhir/{resource['resourceType']}/{resource['id']}", json=resource, headers=headers)
    assert resp.status_code in (200, 201), resp.get_json()
    return resp.get_json()


def test_the_r4_example_runs_and_answers_in_request_order(client, system):
    """The spec's own transaction, with the ids it updates and deletes present, and without $lookup."""
    put(client, system, {**patient("Old"), "id": "123a"})
    put(client, system, {**patient("Old"), "id": "123a"})  # version 2, as its ifMatch expects
    put(client, system, {**patient("Gone"), "id": "234"})
    put(client, system, {**patient("Doomed", "123456"), "id": "doomed"})
    example = json.loads(R4_TRANSACTION.read_text())
    example["entry"] = [e for e in example["entry"] if "$" not in e["request"]["url"]]
    example["entry"][-1]["request"]["url"] = "Patient/123"
    del example["entry"][-1]["request"]["ifNoneMatch"], example["entry"][-1]["request"]["ifModifiedSince"]
    resp = post(client, system, example)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["resourceType"] == "Bundle" and body["type"] == "transaction-response"
    statuses = [e["response"]["status"] for e in body["entry"]]
    assert statuses == [
        "201 Created",
        "201 Created",
        "201 Created",
        "201 Created",
        "200 OK",
        "204 No Content",
        "204 No Content",
        "200 OK",
        "200 OK",
    ]
    created = body["entry"][0]
    assert created["response"]["location"].startswith("Patient/") and created["response"]["etag"] == 'W/"1"'
    assert created["response"]["lastModified"].endswith("Z")
    assert created["fullUrl"].endswith(f"/fhir/Patient/{location_id(created)}")
    assert body["entry"][4]["response"]["etag"] == 'W/"3"'
    assert body["entry"][7]["resource"]["type"] == "searchset"
    assert body["entry"][8]["resource"]["id"] == "123"  # the GET runs after the PUT that created it
    assert client.get("/fhir/Patient/234", headers=system).status_code == 410
    assert client.get("/fhir/Patient/doomed", headers=system).status_code == 410


def test_placeholders_are_rewritten_everywhere(client, system):
    obs = observation(
        URN_P,
        performer=[{"reference": URN_P}],
        extension=[{"url": "urn:test:ext", "valueReference": {"reference": URN_P}}],
        hasMember=[{"reference": URN_O}],
    )
    tx = bundle(
        "transaction",
        entry("POST", "Observation", obs, "urn:uuid:0d3d8b2e-0000-4000-8000-000000000001"),
        entry("POST", "Observation", observation(URN_P, code="1234-5"), URN_O),
        entry("POST", "Patient", patient("Chalmers"), URN_P),
        entry("GET", f"Observation?subject={URN_P}&_sort=code"),
    )
    body = post(client, system, tx).get_json()
    pid, other = location_id(body["entry"][2]), location_id(body["entry"][1])
    stored = client.get(f"/fhir/Observation/{location_id(body['entry'][0])}", headers=system).get_json()
    assert stored["subject"]["reference"] == f"Patient/{pid}"
    assert stored["performer"][0]["reference"] == f"Patient/{pid}"
    assert stored["extension"][0]["valueReference"]["reference"] == f"Patient/{pid}"
    assert stored["hasMember"][0]["reference"] == f"Observation/{other}"
    found = body["entry"][3]["resource"]
    assert found["total"] == 2


def test_conditional_references_resolve_to_the_one_match(client, system):
    put(client, system, {**patient("Known", "p-1"), "id": "known"})
    tx = bundle("transaction", entry("POST", "Observation", observation("Patient?identifier=urn:test|p-1")))
    created = post(client, system, tx).get_json()["entry"][0]
    assert client.get(f"/fhir/Observation/{location_id(created)}", headers=system).get_json()["subject"] == {
        "reference": "Patient/known"
    }


@pytest.mark.parametrize("identifier,many", [("nobody", False), ("twin", True)])
def test_a_conditional_reference_needs_exactly_one_match(app, client, system, identifier, many):
    put(client, system, {**patient("A", "twin"), "id": "a"})
    put(client, system, {**patient("B", "twin"), "id": "b"})
    before = snapshot(app)
    tx = bundle(
        "transaction",
        entry("POST", "Patient", patient("New"), URN_P),
        entry("POST", "Observation", observation(f"Patient?identifier=urn:test|{identifier}"), URN_O),
    )
    resp = post(client, system, tx)
    assert resp.status_code == (412 if many else 422)
    text = resp.get_json()["issue"][0]["diagnostics"]
    assert text.startswith(f"Bundle.entry[1] ({URN_O}): ")
    assert ("several matches" if many else "no match") in text
    assert snapshot(app) == before


def test_if_none_exist_takes_the_existing_resource(client, system):
    put(client, system, {**patient("Known", "p-1"), "id": "known"})
    tx = bundle(
        "transaction",
        entry("POST", "Patient", patient("Known again", "p-1"), URN_P, ifNoneExist="identifier=urn:test|p-1"),
        entry("POST", "Patient", patient("Fresh", "p-2"), URN_O, ifNoneExist="identifier=urn:test|p-2"),
        entry("POST", "Observation", observation(URN_P)),
    )
    body = post(client, system, tx).get_json()
    assert [e["response"]["status"] for e in body["entry"]] == ["200 OK", "201 Created", "201 Created"]
    assert location_id(body["entry"][0]) == "known"
    obs = client.get(f"/fhir/Observation/{location_id(body['entry'][2])}", headers=system).get_json()
    assert obs["subject"]["reference"] == "Patient/known"
    assert client.get("/fhir/Patient/known", headers=system).get_json()["name"][0]["family"] == "Known"


def test_conditional_update_updates_the_match_or_creates(client, system):
    put(client, system, {**patient("Known", "p-1"), "id": "known"})
    tx = bundle(
        "transaction",
        entry("PUT", "Patient?identifier=urn:test|p-1", patient("Renamed", "p-1"), URN_P),
        entry("PUT", "Patient?identifier=urn:test|p-9", patient("Brand new", "p-9"), URN_O),
        entry("POST", "Observation", observation(URN_O)),
    )
    body = post(client, system, tx).get_json()
    assert [e["response"]["status"] for e in body["entry"]] == ["200 OK", "201 Created", "201 Created"]
    assert location_id(body["entry"][0]) == "known"
    assert client.get("/fhir/Patient/known", headers=system).get_json()["name"][0]["family"] == "Renamed"
    new_id = location_id(body["entry"][1])
    obs = client.get(f"/fhir/Observation/{location_id(body['entry'][2])}", headers=system).get_json()
    assert obs["subject"]["reference"] == f"Patient/{new_id}"


def test_if_match_in_an_entry(app, client, system):
    put(client, system, {**patient("Known"), "id": "known"})
    before = snapshot(app)
    stale = bundle(
        "transaction",
        entry("POST", "Patient", patient("Other")),
        entry("PUT", "Patient/known", {**patient("Changed"), "id": "known"}, ifMatch='W/"7"'),
    )
    resp = post(client, system, stale)
    assert resp.status_code == 412
    assert resp.get_json()["issue"][0]["diagnostics"].startswith("Bundle.entry[1]: version conflict")
    assert snapshot(app) == before
    fresh = bundle("transaction", entry("PUT", "Patient/known", {**patient("Changed"), "id": "known"}, ifMatch='W/"1"'))
    assert post(client, system, fresh).get_json()["entry"][0]["response"]["etag"] == 'W/"2"'


def test_processing_order_is_delete_post_put_get(client, system):
    put(client, system, {**patient("Old", "p-1"), "id": "old"})
    tx = bundle(
        "transaction",
        entry("GET", "Patient?identifier=urn:test|p-1"),
        entry("PUT", "Patient/late", {**patient("Late", "p-1"), "id": "late"}),
        entry("POST", "Patient", patient("New", "p-1"), URN_P, ifNoneExist="identifier=urn:test|p-1"),
        entry("DELETE", "Patient/old"),
    )
    body = post(client, system, tx).get_json()
    # DELETE first, so the conditional create finds nothing; the GET last sees both writes
    assert [e["response"]["status"] for e in body["entry"]] == [
        "200 OK",
        "201 Created",
        "201 Created",
        "204 No Content",
    ]
    found = sorted(e["resource"]["id"] for e in body["entry"][0]["resource"]["entry"])
    assert found == sorted(["late", location_id(body["entry"][2])])


def json_patch(*ops: dict[str, object]) -> dict[str, object]:
    return {
        "resourceType": "Binary",
        "contentType": "application/json-patch+json",
        "data": base64.b64encode(orjson.dumps(list(ops))).decode(),
    }


def test_patch_entries_carry_a_json_patch_binary(client, system):
    put(client, system, {**patient("Known"), "id": "known"})
    put(client, system, {**patient("Other", "p-2"), "id": "other"})
    tx = bundle(
        "transaction",
        entry("PATCH", "Patient/known", json_patch({"op": "replace", "path": "/name/0/family", "value": "A"})),
        entry(
            "PATCH", "Patient?identifier=urn:test|p-2", json_patch({"op": "add", "path": "/gender", "value": "other"})
        ),
    )
    body = post(client, system, tx).get_json()
    assert [e["response"]["etag"] for e in body["entry"]] == ['W/"2"', 'W/"2"']
    assert client.get("/fhir/Patient/known", headers=system).get_json()["name"][0]["family"] == "A"
    assert client.get("/fhir/Patient/other", headers=system).get_json()["gender"] == "other"
    parameters = {"resourceType": "Parameters", "parameter": [{"name": "operation"}]}
    refused = post(client, system, bundle("transaction", entry("PATCH", "Patient/known", parameters)))
    assert refused.status_code == 400 and "FHIRPath Patch" in refused.get_json()["issue"][0]["diagnostics"]


def test_a_failing_entry_undoes_everything_and_is_named(app, client, system):
    put(client, system, {**patient("Known"), "id": "known"})
    put(client, system, {**patient("Doomed"), "id": "doomed"})
    before = snapshot(app)
    tx = bundle(
        "transaction",
        entry("POST", "Patient", patient("New"), URN_P),
        entry("PUT", "Patient/known", {**patient("Changed"), "id": "known"}),
        entry("DELETE", "Patient/doomed"),
        entry("POST", "Observation", {**observation(URN_P), "status": "not-a-status"}, URN_O),
    )
    resp = post(client, system, tx)
    assert resp.status_code == 422
    outcome = resp.get_json()
    assert outcome["resourceType"] == "OperationOutcome"
    first = outcome["issue"][0]
    assert first["diagnostics"].startswith(f"Bundle.entry[3] ({URN_O}): ")
    assert first["expression"][0] == "Bundle.entry[3]"
    assert first["expression"][1].startswith("Bundle.entry[3].resource.status")
    assert snapshot(app) == before
    assert client.get("/fhir/Patient/known", headers=system).get_json()["meta"]["versionId"] == "1"
    assert client.get("/fhir/Patient/doomed", headers=system).status_code == 200
    with app.app_context():
        traces = stored("AuditEvent", lambda r: "transaction" in subtypes(r))
    assert [t.resource["outcome"] for t in traces] == ["8"]


def test_nothing_is_written_while_other_writers_run(app, client, system):
    """Single writes from other threads land; the failing transaction leaves no trace of its own."""
    before = {t: len(v) for t, v in snapshot(app).items()}
    stop = threading.Event()
    written: list[str] = []
    errors: list[object] = []

    def writer() -> None:
        local = app.test_client()
        while not stop.is_set():
            resp = local.post("/fhir/Patient", json=patient("Concurrent", "bystander"), headers=system)
            if resp.status_code != 201:
                errors.append(resp.get_json())
                return
            written.append(resp.get_json()["id"])

    threads = [threading.Thread(target=writer) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        entries = [
            entry("POST", "Patient", patient(f"Tx{i}", "in-transaction"), f"urn:uuid:00000000-0000-4000-8000-{i:012d}")
            for i in range(30)
        ]
        entries.append(entry("PUT", "Patient/x", {**patient("Bad"), "id": "x", "gender": "robot"}))
        resp = post(client, system, bundle("transaction", *entries))
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert resp.status_code == 422 and not errors
    assert written, "the writers ran during the transaction"
    with app.app_context():
        _, versions = get_store().history("Patient", None, None, no_policy, 0, 10**6)
        assert not stored("Patient", lambda r: identified(r, "in-transaction"))
        assert not [v for v in versions if identified(v.resource, "in-transaction")]
        assert sorted(s.id for s in stored("Patient", lambda r: identified(r, "bystander"))) == sorted(written)
        assert len(stored("Patient")) == before.get("Patient", 0) + len(written)


def identified(resource, value):
    return value in {i.get("value") for i in resource.get("identifier") or ()}


def subtypes(audit_event):
    return {c.get("code") for c in audit_event.get("subtype") or ()}


@pytest.mark.parametrize(
    "body,fragment",
    [
        ({"resourceType": "Patient"}, "Bundle of type batch or transaction"),
        (bundle("collection"), "Bundle.type must be batch or transaction"),
        (bundle("transaction", {"resource": patient("X")}), "Bundle.entry[0] needs a request"),
        (bundle("transaction", entry("FETCH", "Patient")), "request.method 'FETCH'"),
        (bundle("transaction", entry("POST", "Observation", patient("X"))), "does not match the URL's 'Observation'"),
        (bundle("transaction", entry("POST", "Patient/1", patient("X"))), "is not a POST this server serves"),
        (bundle("transaction", entry("GET", "http://elsewhere.org/fhir/Patient/1")), "is not on this server"),
        (
            bundle("transaction", entry("PUT", "Patient/1", {**patient("X"), "id": "1"}), entry("DELETE", "Patient/1")),
            "Patient/1 is also changed by Bundle.entry[0]",
        ),
    ],
)
def test_the_bundle_itself_is_checked(app, client, system, body, fragment):
    before = snapshot(app)
    resp = post(client, system, body)
    assert resp.status_code == 400
    assert fragment in resp.get_json()["issue"][0]["diagnostics"]
    assert snapshot(app) == before


def test_the_base_with_a_trailing_slash_takes_bundles(client, system):
    resp = post(client, system, bundle("transaction", entry("POST", "Patient", patient("Slash"))), "/fhir/")
    assert resp.status_code == 200 and resp.get_json()["entry"][0]["response"]["status"] == "201 Created"


def test_prefer_shapes_each_entry(client, system):
    tx = bundle("transaction", entry("POST", "Patient", patient("P")))
    full = post(client, system, tx).get_json()["entry"][0]
    assert full["resource"]["resourceType"] == "Patient"
    minimal = client.post("/fhir", json=tx, headers={**system, "Prefer": "return=minimal"}).get_json()["entry"][0]
    assert "resource" not in minimal and minimal["response"]["status"] == "201 Created"
    outcome = client.post("/fhir", json=tx, headers={**system, "Prefer": "return=OperationOutcome"}).get_json()
    assert outcome["entry"][0]["response"]["outcome"]["issue"][0]["code"] == "informational"


def test_references_to_entries_of_a_real_bundle_file(client, system):
    """Synthea writes every reference as an entry's urn:uuid fullUrl."""
    source = read_json(SYNTHEA / "Clemente_Kreiger_1484a42d-0eaf-4654-9cbf-6b050a5cd73b.json.gz")
    resp = client.post("/fhir", json=source, headers={**system, "Prefer": "return=minimal"})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    pid = location_id(body["entry"][0])
    stored = resources(client, system, f"/fhir/Encounter?subject=Patient/{pid}&_count=1000")
    expected = sum(1 for e in source["entry"] if e["resource"]["resourceType"] == "Encounter")
    assert len(stored) == expected
    assert all(r["subject"]["reference"] == f"Patient/{pid}" for r in stored)
    assert "urn:uuid:" not in json.dumps(stored)


def resources(client, headers, url):
    return [e["resource"] for e in client.get(url, headers=headers).get_json()["entry"]]


def test_a_transaction_is_traced_once_per_patient(app, client, system):
    """BALP: the created resources of one patient share one AuditEvent, not one per entry."""
    urn_b = "urn:uuid:0b7c0ad4-5d6e-4f43-9a0e-3c6c2c1f3b11"
    tx = bundle(
        "transaction",
        entry("POST", "Patient", patient("A"), URN_P),
        entry("POST", "Observation", observation(URN_P)),
        entry("POST", "Observation", observation(URN_P, "8310-5")),
        entry("POST", "Patient", patient("B"), urn_b),
        entry("POST", "Observation", observation(urn_b)),
    )
    body = post(client, system, tx).get_json()
    created = {f"{e['response']['location'].split('/_history')[0]}" for e in body["entry"]}
    with app.app_context():
        traces = [t.resource for t in stored("AuditEvent", lambda r: "create" in subtypes(r))]
    assert len(traces) == 2
    named = [{e["what"]["reference"].split("/_history")[0] for e in t["entity"]} for t in traces]
    assert set().union(*named) == created
    assert sorted(len(n) for n in named) == [2, 3]
    assert all(len([e for e in t["entity"] if e["type"]["code"] == "1"]) == 1 for t in traces)
