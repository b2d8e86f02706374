"""FHIRPath Patch (issue 13 point 7) on PATCH and in transaction entries: the PDSm replacement
flow (the old document superseded by a patch of its status), every operation type, a failing
patch changing nothing, and the consent rules of JSON Patch (flags only for the patient)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from fhir_server import fhirpatch
from tests.bundles.world import A07
from tests.bundles.world import GP
from tests.bundles.world import NURSE
from tests.bundles.world import PATIENT
from tests.bundles.world import headers
from tests.bundles.world import seed

EXAMPLES = Path(__file__).parent / "examples"
PROVIDE = json.loads((EXAMPLES / "Bundle-provide-comprehensive.json").read_text())
FHIR = "application/fhir+json"


def op(kind: str, path: str, **parts) -> dict:
    out = [{"name": "type", "valueCode": kind}, {"name": "path", "valueString": path}]
    for name, value in parts.items():
        if name == "name":
            out.append({"name": "name", "valueString": value})
        elif name in ("index", "source", "destination"):
            out.append({"name": name, "valueInteger": value})
        else:
            out.append({"name": "value", **value})
    return {"name": "operation", "part": out}


def parameters(*ops) -> dict:
    return {"resourceType": "Parameters", "parameter": list(ops)}


@pytest.fixture(autouse=True)
def world(client, system) -> None:
    seed(client, system)


def patch(client, who, url, body):
    return client.patch(url, data=json.dumps(body), headers={**who, "Content-Type": FHIR})


def test_replace_add_insert_move_delete(client, system):
    url = "/fhir/DocumentReference/bilan"
    body = parameters(
        op("replace", "DocumentReference.description", value={"valueString": "Bilan revu"}),
        op(
            "add",
            "DocumentReference",
            name="securityLabel",
            value={"valueCodeableConcept": {"coding": [{"system": A07, "code": "INVISIBLE_PATIENT"}]}},
        ),
        op("insert", "DocumentReference.securityLabel", index=0, value={"valueCodeableConcept": {"text": "first"}}),
        op("move", "DocumentReference.securityLabel", source=0, destination=1),
        op("delete", "DocumentReference.securityLabel.where(text = 'first')"),
    )
    resp = patch(client, system, url, body)
    assert resp.status_code == 200, resp.get_json()
    doc = resp.get_json()
    assert doc["description"] == "Bilan revu" and doc["meta"]["versionId"] == "2"
    assert [c["code"] for s in doc["securityLabel"] for c in s.get("coding", [])][-1] == "INVISIBLE_PATIENT"
    assert not any(s.get("text") == "first" for s in doc["securityLabel"])


def test_a_failing_operation_changes_nothing(client, system):
    before = client.get("/fhir/DocumentReference/bilan", headers=system).get_json()
    body = parameters(
        op("replace", "DocumentReference.description", value={"valueString": "changed"}),
        op("replace", "DocumentReference.nothing", value={"valueString": "x"}),
    )
    assert patch(client, system, "/fhir/DocumentReference/bilan", body).status_code == 422
    assert client.get("/fhir/DocumentReference/bilan", headers=system).get_json() == before


def test_the_patient_masks_by_fhirpath_patch_but_changes_nothing_else(app, client):
    masking = parameters(
        op(
            "add",
            "DocumentReference",
            name="securityLabel",
            value={"valueCodeableConcept": {"coding": [{"system": A07, "code": "MASQUE_PS"}]}},
        )
    )
    assert patch(client, headers(app, PATIENT), "/fhir/DocumentReference/bilan", masking).status_code == 200
    assert client.get("/fhir/DocumentReference/bilan", headers=headers(app, NURSE)).status_code == 404
    status = parameters(op("replace", "DocumentReference.status", value={"valueCode": "entered-in-error"}))
    assert patch(client, headers(app, PATIENT), "/fhir/DocumentReference/bilan", status).status_code == 403


def test_pdsm_replacement_new_document_and_old_superseded_by_patch_in_one_transaction(app, client):
    """PDSm replacement (st_maj / ExempleComprehensiveProvideDocumentBundleReplace): the provide
    bundle carries the new document (relatesTo replaces) and a FHIRPath Patch of the old one's status."""
    gp = headers(app, GP)
    first = client.post("/fhir", json=copy.deepcopy(PROVIDE), headers=gp).get_json()
    old_id = next(
        e["response"]["location"].split("/")[1]
        for e in first["entry"]
        if e["response"]["location"].startswith("DocumentReference/")
    )
    bundle = copy.deepcopy(PROVIDE)
    new_doc = bundle["entry"][1]["resource"]
    new_doc["relatesTo"] = [{"code": "replaces", "target": {"reference": f"DocumentReference/{old_id}"}}]
    new_doc["masterIdentifier"]["value"] += ".2"
    bundle["entry"].append(
        {
            "request": {"method": "PATCH", "url": f"DocumentReference/{old_id}"},
            "resource": parameters(op("replace", "DocumentReference.status", value={"valueCode": "superseded"})),
        }
    )
    resp = client.post("/fhir", json=bundle, headers=gp)
    assert resp.status_code == 200, resp.get_json()
    old = client.get(f"/fhir/DocumentReference/{old_id}", headers=gp).get_json()
    assert old["status"] == "superseded"
    related = client.get(f"/fhir/DocumentReference?relatesto=DocumentReference/{old_id}", headers=gp).get_json()
    assert related["total"] == 1 and related["entry"][0]["resource"]["relatesTo"][0]["code"] == "replaces"
    summary = client.get("/fhir/Patient/ins-adulte/$summary", headers=gp)
    assert summary.status_code == 200, summary.get_json()
    listed = {(e["resource"]["resourceType"], e["resource"].get("id")) for e in summary.get_json()["entry"]}
    assert ("DocumentReference", old_id) not in listed  # $summary lists current documents only
    assert ("DocumentReference", related["entry"][0]["resource"]["id"]) in listed


@pytest.mark.parametrize("path", ["DocumentReference.status.foo(1)", "Patient.status", "DocumentReference..x"])
def test_paths_outside_the_subset_are_400(path):
    from fhir_server.errors import BadRequest

    with pytest.raises(BadRequest):
        fhirpatch.apply({"resourceType": "DocumentReference", "status": "current"}, parameters(op("delete", path)))
