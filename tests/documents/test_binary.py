"""Binary content over HTTP (issue 13 points 1-3): raw upload and download, the FHIR JSON form,
versions, 413, and consent following the securityContext DocumentReference."""

from __future__ import annotations

import base64
import hashlib

import pytest

from fhir_server.storage import get_store_of
from tests.bundles.world import GP
from tests.bundles.world import NURSE
from tests.bundles.world import PATIENT
from tests.bundles.world import STRANGER
from tests.bundles.world import headers
from tests.bundles.world import seed

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 5000 + b"\n%%EOF\n"  # ~1.3 MB: several chunks


@pytest.fixture(autouse=True)
def world(client, system) -> None:
    seed(client, system)


def put_content(client, system, id_: str, context: str | None, data: bytes = PDF, mime: str = "application/pdf"):
    extra = {"X-Security-Context": context} if context else {}
    resp = client.put(f"/fhir/Binary/{id_}", data=data, headers={**system, **extra, "Content-Type": mime})
    assert resp.status_code in (200, 201), resp.get_json()
    return resp


def test_raw_upload_answers_the_bytes_with_their_content_type(client, system):
    resp = client.post(
        "/fhir/Binary",
        data=PDF,
        headers={**system, "Content-Type": "application/pdf", "X-Security-Context": "DocumentReference/bilan"},
    )
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert "data" not in body and body["contentType"] == "application/pdf"
    assert body["securityContext"] == {"reference": "DocumentReference/bilan"}
    got = client.get(f"/fhir/Binary/{body['id']}", headers={**system, "Accept": "application/pdf"})
    assert got.status_code == 200
    assert got.data == PDF
    assert got.mimetype == "application/pdf"
    assert got.headers["ETag"] == 'W/"1"'
    assert int(got.headers["Content-Length"]) == len(PDF)


def test_json_form_on_request_and_base64_upload(client, system):
    text = b"Compte rendu: RAS"
    resource = {
        "resourceType": "Binary",
        "id": "cr",
        "contentType": "text/plain",
        "data": base64.b64encode(text).decode(),
    }
    assert client.put("/fhir/Binary/cr", json=resource, headers=system).status_code == 201
    raw = client.get("/fhir/Binary/cr", headers=system)
    assert raw.data == text and raw.mimetype == "text/plain"
    for query, accept in (("", "application/fhir+json"), ("?_format=json", "*/*")):
        got = client.get(f"/fhir/Binary/cr{query}", headers={**system, "Accept": accept}).get_json()
        assert base64.b64decode(got["data"]) == text and got["meta"]["versionId"] == "1"


def test_versions_keep_their_own_content(client, system):
    put_content(client, system, "v", None, b"first", "text/plain")
    put_content(client, system, "v", None, b"second", "text/plain")
    assert client.get("/fhir/Binary/v", headers=system).data == b"second"
    assert client.get("/fhir/Binary/v/_history/1", headers=system).data == b"first"
    assert client.get("/fhir/Binary/v", headers=system).headers["ETag"] == 'W/"2"'


def test_content_is_stored_as_content_not_inside_the_resource(app, client, system):
    put_content(client, system, "big", "DocumentReference/bilan")
    store = get_store_of(app)
    with app.app_context():
        stored = store.current("Binary", "big")
        assert stored is not None and "data" not in stored.resource
        blob = store.open_blob("Binary/big/1")
        assert (
            blob is not None
            and blob.size == len(PDF)
            and hashlib.sha1(blob.read()).digest() == hashlib.sha1(PDF).digest()
        )


def test_too_large_answers_413_before_reading(make_app):
    app = make_app(MAX_BINARY_BYTES=1000)
    client = app.test_client()
    from tests.support import bearer

    system = bearer(app)
    resp = client.post("/fhir/Binary", data=b"x" * 1001, headers={**system, "Content-Type": "application/pdf"})
    assert resp.status_code == 413
    assert resp.get_json()["resourceType"] == "OperationOutcome"
    ok = client.post("/fhir/Binary", data=b"x" * 1000, headers={**system, "Content-Type": "application/pdf"})
    assert ok.status_code == 201


def test_too_large_while_streaming_without_content_length(make_app):
    from tests.support import bearer

    app = make_app(MAX_BINARY_BYTES=1000)
    client = app.test_client()

    import io

    resp = client.post(
        "/fhir/Binary",
        input_stream=io.BytesIO(b"y" * 2000),
        environ_overrides={"wsgi.input_terminated": True},
        headers={**bearer(app), "Content-Type": "application/pdf"},
    )
    assert resp.status_code == 413


# consent follows the document ---------------------------------------------------------------
MASKED_DOC = "DocumentReference/masque-ps"


@pytest.mark.parametrize("who, status", [(NURSE, 404), (STRANGER, 404), (GP, 200), (PATIENT, 200)])
def test_a_masked_documents_content_is_hidden_like_the_document(app, client, system, who, status):
    put_content(client, system, "masque-ps-pdf", MASKED_DOC)
    resp = client.get("/fhir/Binary/masque-ps-pdf", headers={**headers(app, who), "Accept": "application/pdf"})
    assert resp.status_code == status
    if status == 200:
        assert resp.data == PDF
    else:  # exactly as absent
        absent = client.get("/fhir/Binary/never-was", headers={**headers(app, who), "Accept": "application/pdf"})
        assert absent.status_code == 404
        assert resp.data.replace(b"masque-ps-pdf", b"ID") == absent.data.replace(b"never-was", b"ID")


def test_the_granted_nurse_reads_a_visible_documents_content(app, client, system):
    put_content(client, system, "bilan-pdf", "DocumentReference/bilan")
    assert client.get("/fhir/Binary/bilan-pdf", headers=headers(app, NURSE)).data == PDF
    assert client.get("/fhir/Binary/bilan-pdf", headers=headers(app, STRANGER)).status_code == 404


A07 = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument"


def test_masking_the_document_hides_its_content_at_once_every_version(app, client, system):
    put_content(client, system, "bilan-pdf", "DocumentReference/bilan", b"v1", "text/plain")
    put_content(client, system, "bilan-pdf", "DocumentReference/bilan", b"v2", "text/plain")
    nurse = headers(app, NURSE)
    assert client.get("/fhir/Binary/bilan-pdf/_history/1", headers=nurse).data == b"v1"
    patch = [{"op": "add", "path": "/securityLabel/-", "value": {"coding": [{"system": A07, "code": "MASQUE_PS"}]}}]
    resp = client.patch(
        "/fhir/DocumentReference/bilan",
        json=patch,
        headers={**headers(app, PATIENT), "Content-Type": "application/json-patch+json"},
    )
    assert resp.status_code == 200, resp.get_json()
    for url in ("/fhir/Binary/bilan-pdf", "/fhir/Binary/bilan-pdf/_history/1", "/fhir/Binary/bilan-pdf/_history/2"):
        assert client.get(url, headers=nurse).status_code == 404, url
    assert client.get("/fhir/Binary/bilan-pdf/_history", headers=nurse).status_code == 404
    assert client.get("/fhir/Binary/bilan-pdf", headers=headers(app, GP)).data == b"v2"
    assert client.get("/fhir/Binary?_id=bilan-pdf", headers=nurse).get_json().get("total", 0) == 0


def test_content_without_security_context_is_its_uploaders_only(app, client, system):
    gp = headers(app, GP)
    resp = client.post("/fhir/Binary", data=b"notes", headers={**gp, "Content-Type": "text/plain"})
    assert resp.status_code == 201, resp.get_json()
    id_ = resp.get_json()["id"]
    assert client.get(f"/fhir/Binary/{id_}", headers=gp).data == b"notes"
    assert client.get(f"/fhir/Binary/{id_}", headers=system).data == b"notes"
    for who in (NURSE, STRANGER, PATIENT):
        assert client.get(f"/fhir/Binary/{id_}", headers=headers(app, who)).status_code == 404, who
    assert client.get("/fhir/Binary", headers=headers(app, NURSE)).get_json().get("total", 0) == 0


def test_only_the_documents_authors_upload_its_content(app, client, system):
    # the granted nurse sees the document but did not write it
    resp = client.post(
        "/fhir/Binary",
        data=b"x",
        headers={**headers(app, NURSE), "Content-Type": "text/plain", "X-Security-Context": "DocumentReference/bilan"},
    )
    assert resp.status_code == 403


@pytest.mark.parametrize("context", ["DocumentReference/masque-ps", "DocumentReference/never-was"])
def test_uploading_under_a_hidden_document_answers_as_under_an_absent_one(app, client, context):
    resp = client.post(
        "/fhir/Binary",
        data=b"x",
        headers={**headers(app, NURSE), "Content-Type": "text/plain", "X-Security-Context": context},
    )
    assert resp.status_code == 404
    assert context.split("/")[1] in resp.get_json()["issue"][0]["diagnostics"]


def test_a_provide_bundle_listing_the_binary_first_still_follows_its_document(app, client):
    import copy
    import json
    from pathlib import Path

    bundle = json.loads((Path(__file__).parent / "examples" / "Bundle-provide-comprehensive.json").read_text())
    bundle["entry"] = [bundle["entry"][2], bundle["entry"][0], bundle["entry"][1]]
    resp = client.post("/fhir", json=copy.deepcopy(bundle), headers=headers(app, GP))
    assert resp.status_code == 200, resp.get_json()
    binary = resp.get_json()["entry"][0]["response"]["location"].split("/_history")[0]
    assert client.get(f"/fhir/{binary}", headers=headers(app, PATIENT)).status_code == 200


def test_a_bundle_get_entry_answers_the_fhir_form_with_data(app, client, system):
    put_content(client, system, "bilan-pdf", "DocumentReference/bilan", b"contenu", "text/plain")
    batch = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [{"request": {"method": "GET", "url": "Binary/bilan-pdf"}}],
    }
    got = client.post("/fhir", json=batch, headers=headers(app, GP)).get_json()["entry"][0]
    assert base64.b64decode(got["resource"]["data"]) == b"contenu"
    hidden = client.post("/fhir", json=batch, headers=headers(app, STRANGER)).get_json()["entry"][0]
    assert hidden["response"]["status"].startswith("404")
