"""Batches at POST /fhir (R4 http.html#transaction): entries succeed or fail each on its own."""

from __future__ import annotations

from flask import Flask

from tests.bundles.helpers import bundle
from tests.bundles.helpers import entry
from tests.bundles.helpers import location_id
from tests.bundles.helpers import observation
from tests.bundles.helpers import patient
from tests.bundles.helpers import post

URN = "urn:uuid:2f8e3b9a-5d4c-4b1a-9e7f-0a1b2c3d4e5f"


def put(client, headers, resource):
    assert client.put(
        f"/fhir/{resource['resourceType']}/{resource['id']}", json=resource, headers=headers
    ).status_code in (200, 201)


def test_a_failing_entry_does_not_stop_the_others(client, system):
    body = post(
        client,
        system,
        bundle(
            "batch",
            entry("POST", "Patient", patient("Ok")),
            entry("GET", "Patient/nobody"),
            entry("POST", "Patient", {**patient("Bad"), "gender": "robot"}),
            entry("DELETE", "Patient/nobody"),
            {"resource": patient("No request")},
            entry("PUT", "Patient/chosen", {**patient("Chosen"), "id": "chosen"}),
        ),
    ).get_json()
    assert body["type"] == "batch-response"
    assert [e["response"]["status"] for e in body["entry"]] == [
        "201 Created",
        "404 Not Found",
        "422 Unprocessable Content",
        "404 Not Found",
        "400 Bad Request",
        "201 Created",
    ]
    for failed in (body["entry"][1], body["entry"][2], body["entry"][4]):
        assert failed["response"]["outcome"]["resourceType"] == "OperationOutcome"
        assert "resource" not in failed
    assert "Patient.gender" in body["entry"][2]["response"]["outcome"]["issue"][0]["expression"][0]
    assert client.get(f"/fhir/Patient/{location_id(body['entry'][0])}", headers=system).status_code == 200
    assert client.get("/fhir/Patient/chosen", headers=system).status_code == 200


def test_reads_in_a_batch(client, system):
    put(client, system, {**patient("Known", "k-1"), "id": "known"})
    put(client, system, {**patient("Known", "k-1"), "id": "known"})
    body = post(
        client,
        system,
        bundle(
            "batch",
            entry("GET", "Patient/known"),
            entry("GET", "Patient/known/_history/1"),
            entry("GET", "Patient?identifier=urn:test|k-1"),
            entry("HEAD", "Patient/known"),
            entry("GET", "Patient/known", ifNoneMatch='W/"2"'),
            entry("GET", "Patient/known", ifModifiedSince="2999-01-01T00:00:00Z"),
            entry("GET", "Patient/known/_history"),
            entry("GET", "metadata"),
            entry("GET", "Nonsense/path/deeper/still/more"),
            entry("GET", "?_type=Patient&identifier=urn:test|k-1"),
        ),
    ).get_json()
    read, vread, search, head, unchanged, not_modified, history, metadata, unknown, system = body["entry"]
    assert read["response"]["status"] == "200 OK" and read["response"]["etag"] == 'W/"2"'
    assert read["resource"]["id"] == "known"
    assert read["response"]["lastModified"] == read["resource"]["meta"]["lastUpdated"]
    assert vread["resource"]["meta"]["versionId"] == "1"
    assert search["resource"]["type"] == "searchset" and search["resource"]["entry"][0]["resource"]["id"] == "known"
    assert head["response"]["status"] == "200 OK" and "resource" not in head
    assert unchanged["response"]["status"] == "304 Not Modified" and "resource" not in unchanged
    assert not_modified["response"]["status"] == "304 Not Modified"
    assert history["resource"]["type"] == "history" and history["resource"]["total"] == 2
    assert metadata["resource"]["resourceType"] == "CapabilityStatement"
    assert unknown["response"]["status"] == "404 Not Found"
    assert [e["resource"]["id"] for e in system["resource"]["entry"]] == ["known"]


def test_read_entries_reach_operations_and_refuse_what_no_route_serves(client, system):
    put(client, system, {**patient("Known", "k-1"), "id": "known"})
    body = post(
        client,
        system,
        bundle(
            "batch",
            entry("GET", "Patient/known/$everything"),
            entry("GET", "Patient/known/$nonsense"),
            entry("GET", "Patient/known/_history/1/more"),
            entry("GET", "?identifier=urn:test|k-1"),
            entry("GET", "Patient/known?_format=json&_pretty=true"),
        ),
    ).get_json()
    everything, unknown_op, too_deep, no_type, read = body["entry"]
    assert everything["response"]["status"] == "200 OK"
    assert [e["resource"]["id"] for e in everything["resource"]["entry"]] == ["known"]
    assert unknown_op["response"]["status"] == "404 Not Found"
    assert "$nonsense" in unknown_op["response"]["outcome"]["issue"][0]["diagnostics"]
    assert too_deep["response"]["status"] == "404 Not Found"
    assert no_type["response"]["status"] == "400 Bad Request"
    assert "_type" in no_type["response"]["outcome"]["issue"][0]["diagnostics"]
    assert read["response"]["status"] == "200 OK" and read["resource"]["id"] == "known"


def test_entries_never_go_through_flask_dispatch(client, system, monkeypatch):
    """Flask's request dispatch serves the Bundle's own POST only (its internals change between releases)."""
    dispatched = []
    original = Flask.dispatch_request

    def counted(self, *args, **kwargs):
        dispatched.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Flask, "dispatch_request", counted)
    body = post(
        client,
        system,
        bundle("batch", entry("GET", "metadata"), entry("GET", "Patient"), entry("GET", "Patient/nobody")),
    ).get_json()
    assert [e["response"]["status"] for e in body["entry"]] == ["200 OK", "200 OK", "404 Not Found"]
    assert dispatched == [1]


def test_batch_entries_may_not_refer_to_each_other(client, system):
    body = post(
        client,
        system,
        bundle(
            "batch",
            entry("POST", "Patient", patient("P"), URN),
            entry("POST", "Observation", observation(URN)),
        ),
    ).get_json()
    assert body["entry"][0]["response"]["status"] == "201 Created"
    refused = body["entry"][1]["response"]
    assert refused["status"] == "400 Bad Request"
    assert "send a transaction" in refused["outcome"]["issue"][0]["diagnostics"]


def test_conditional_references_resolve_in_a_batch(client, system):
    put(client, system, {**patient("Known", "k-1"), "id": "known"})
    body = post(
        client,
        system,
        bundle(
            "batch",
            entry("POST", "Observation", observation("Patient?identifier=urn:test|k-1")),
            entry("POST", "Observation", observation("Patient?identifier=urn:test|nobody")),
        ),
    ).get_json()
    assert body["entry"][0]["resource"]["subject"]["reference"] == "Patient/known"
    assert body["entry"][1]["response"]["status"] == "422 Unprocessable Content"  # no match (issue 12)


def test_operations_in_a_batch(client, system):
    body = post(
        client,
        system,
        bundle(
            "batch",
            entry("POST", "Patient/$validate", patient("Fine")),
            entry("POST", "Patient/$validate", {**patient("Bad"), "gender": "robot"}),
            entry("POST", "ValueSet/$lookup", {"resourceType": "Parameters"}),
        ),
    ).get_json()
    fine, bad, lookup = body["entry"]
    assert fine["response"]["status"] == "200 OK"
    assert fine["resource"]["issue"][0]["diagnostics"] == "All OK"
    assert bad["resource"]["issue"][0]["severity"] == "error"
    assert lookup["response"]["status"] == "404 Not Found"
    assert "$lookup is not supported" in lookup["response"]["outcome"]["issue"][0]["diagnostics"]
