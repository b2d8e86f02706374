"""One JSON line per request (request id, status, duration, client id) and no health data in any
log: no bodies, names, identifiers, query strings or resource ids."""

from __future__ import annotations

import json
import logging

import pytest

SECRET_NAME = "Zyxwvutname"
SECRET_ID = "279035121518989"  # a well-formed NIR (format and key are checked)


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not any(r is record for r in self.records):
            self.records.append(record)


@pytest.fixture
def captured():
    handler = Capture()
    root, access = logging.getLogger(), logging.getLogger("carnet.access")
    old = root.level, access.level
    root.addHandler(handler)
    access.addHandler(handler)  # a `carnet serve`-style app in the same process stops propagation
    root.setLevel(logging.DEBUG)
    access.setLevel(logging.INFO)
    yield handler
    root.removeHandler(handler)
    access.removeHandler(handler)
    root.setLevel(old[0])
    access.setLevel(old[1])


def test_one_json_line_per_request_without_health_data(client, system, captured):
    patient = {
        "resourceType": "Patient",
        "name": [{"family": SECRET_NAME}],
        "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": SECRET_ID}],
    }
    created = client.post("/fhir/Patient", json=patient, headers={**system, "X-Request-Id": "abc-123"})
    assert created.status_code == 201 and created.headers["X-Request-Id"] == "abc-123"
    pid = created.get_json()["id"]
    client.get(f"/fhir/Patient?name={SECRET_NAME}&identifier={SECRET_ID}", headers=system)
    client.get(f"/fhir/Patient/{pid}", headers=system)
    client.get(f"/fhir/Patient/{pid}")  # 401
    client.get("/fhir/Nope/1", headers=system)  # 404
    access = [json.loads(r.getMessage()) for r in captured.records if r.name == "carnet.access"]
    assert len(access) == 5
    assert [a["status"] for a in access] == [201, 200, 200, 401, 404]
    assert access[0]["request_id"] == "abc-123"
    assert len({a["request_id"] for a in access}) == 5
    for line in access:
        assert set(line) >= {"request_id", "status", "duration_ms", "client_id", "method", "route"}
        assert line["duration_ms"] >= 0
    assert access[2]["route"] == "/fhir/<type_>/<id_>" or "<" in access[2]["route"]
    assert access[0]["client_id"]  # the system token's client
    everything = "\n".join(r.getMessage() for r in captured.records)
    for secret in (SECRET_NAME, SECRET_ID, pid):
        assert secret not in everything


def test_a_forged_request_id_is_replaced(client, captured):
    resp = client.get("/healthz", headers={"X-Request-Id": 'x" {"status":200}'})
    assert resp.headers["X-Request-Id"] != 'x" {"status":200}' and len(resp.headers["X-Request-Id"]) == 32
