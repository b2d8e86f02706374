"""The MHD flow (issue 13 points 4-6): ITI-65 provide as one transaction, ITI-67 find, ITI-68
retrieve through attachment.url, integrity checks and replacement, all under consent."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import pytest

from tests.bundles.world import GP
from tests.bundles.world import NURSE
from tests.bundles.world import PATIENT
from tests.bundles.world import STRANGER
from tests.bundles.world import headers
from tests.bundles.world import seed
from tests.support import stored

EXAMPLES = Path(__file__).parent / "examples"
PROVIDE = json.loads((EXAMPLES / "Bundle-provide-comprehensive.json").read_text())


@pytest.fixture(autouse=True)
def world(client, system) -> None:
    seed(client, system)


def provide(client, who_headers, bundle=None):
    return client.post("/fhir", json=bundle or copy.deepcopy(PROVIDE), headers=who_headers)


def written(resp, type_):
    return next(e for e in resp.get_json()["entry"] if e["response"]["location"].startswith(f"{type_}/"))


def test_provide_bundle_stores_list_document_and_content_in_one_transaction(app, client):
    resp = provide(client, headers(app, GP))
    assert resp.status_code == 200, resp.get_json()
    doc_id = written(resp, "DocumentReference")["response"]["location"].split("/")[1]
    bin_id = written(resp, "Binary")["response"]["location"].split("/")[1]
    gp = headers(app, GP)
    doc = client.get(f"/fhir/DocumentReference/{doc_id}", headers=gp).get_json()
    url = doc["content"][0]["attachment"]["url"]
    assert url == f"Binary/{bin_id}"  # urn:uuid rewritten in a url element too
    binary = client.get(f"/fhir/Binary/{bin_id}?_format=json", headers=gp).get_json()
    assert binary["securityContext"] == {"reference": f"DocumentReference/{doc_id}"}
    lst = client.get(f"/fhir/List?code=submissionset&patient={PATIENT}", headers=gp).get_json()
    assert lst["total"] == 1
    assert lst["entry"][0]["resource"]["entry"][0]["item"]["reference"] == f"DocumentReference/{doc_id}"
    # ITI-68: retrieve through attachment.url, under the document's consent
    pdf = base64.b64decode(PROVIDE["entry"][2]["resource"]["data"])
    for who in (GP, PATIENT):
        got = client.get(f"/fhir/{url}", headers={**headers(app, who), "Accept": "application/pdf"})
        assert got.status_code == 200 and got.data == pdf, who
    for who in (NURSE, STRANGER):  # the content answers exactly as its document (the matrix hides it from the nurse)
        doc_status = client.get(f"/fhir/DocumentReference/{doc_id}", headers=headers(app, who)).status_code
        assert client.get(f"/fhir/{url}", headers=headers(app, who)).status_code == doc_status == 404, who


@pytest.mark.parametrize("field, value", [("size", 3), ("hash", base64.b64encode(b"\0" * 20).decode())])
def test_a_size_or_hash_mismatch_stores_nothing(app, client, field, value):
    bundle = copy.deepcopy(PROVIDE)
    bundle["entry"][1]["resource"]["content"][0]["attachment"][field] = value
    with app.app_context():
        before = {t: len(stored(t)) for t in ("List", "DocumentReference", "Binary")}
    resp = provide(client, headers(app, GP), bundle)
    assert resp.status_code == 422, resp.get_json()
    assert field in resp.get_json()["issue"][0]["diagnostics"]
    with app.app_context():
        assert {t: len(stored(t)) for t in ("List", "DocumentReference", "Binary")} == before


def test_size_and_hash_are_filled_when_absent(app, client):
    bundle = copy.deepcopy(PROVIDE)
    attachment = bundle["entry"][1]["resource"]["content"][0]["attachment"]
    size, sha = attachment.pop("size"), attachment.pop("hash")
    resp = provide(client, headers(app, GP), bundle)
    assert resp.status_code == 200, resp.get_json()
    doc_id = written(resp, "DocumentReference")["response"]["location"].split("/")[1]
    doc = client.get(f"/fhir/DocumentReference/{doc_id}", headers=headers(app, GP)).get_json()
    assert doc["content"][0]["attachment"]["size"] == size
    assert doc["content"][0]["attachment"]["hash"] == sha


ITI67 = [
    "patient=Patient/ins-adulte",
    "patient.identifier=urn:oid:1.2.250.1.213.1.4.8|279035121518989",
    "status=current",
    "date=ge2026-11-01",
    "period=ge2026-11-01",
    "type=http://loinc.org|11488-4",
    "category=10",
    "setting=SA07",
    "facility=SA07",
    "event=SM54",
    "security-label=N",
    "format=urn:ihe:iti:xds:2017:mimeTypeSufficient",
    "related:identifier=urn:oid:1.2.250.1.999.3|SEJ-7001",
    "author.family=Lambert",
    "author.given=Claire",
]


@pytest.mark.parametrize("query", ITI67)
def test_iti67_find_parameters(app, client, system, query):
    assert provide(client, headers(app, GP)).status_code == 200
    resp = client.get(f"/fhir/DocumentReference?{query}", headers=system)
    assert resp.status_code == 200, resp.get_json()
    ids = {
        e["resource"]["masterIdentifier"]["value"]
        for e in resp.get_json().get("entry", [])
        if "masterIdentifier" in e["resource"]
    }
    assert PROVIDE["entry"][1]["resource"]["masterIdentifier"]["value"] in ids


def test_iti67_finds_the_provided_document_under_consent(app, client):
    provide(client, headers(app, GP))
    query = "/fhir/DocumentReference?patient=Patient/ins-adulte&type=http://loinc.org|11488-4&status=current"
    assert client.get(query, headers=headers(app, GP)).get_json()["total"] == 1
    assert client.get(query, headers=headers(app, STRANGER)).get_json().get("total", 0) == 0


def test_a_replacement_supersedes_the_old_document_in_the_same_transaction(app, client):
    gp = headers(app, GP)
    first = provide(client, gp)
    old_id = written(first, "DocumentReference")["response"]["location"].split("/")[1]
    bundle = copy.deepcopy(PROVIDE)
    bundle["entry"][1]["resource"]["relatesTo"] = [
        {"code": "replaces", "target": {"reference": f"DocumentReference/{old_id}"}}
    ]
    bundle["entry"][1]["resource"]["masterIdentifier"]["value"] += ".2"
    resp = provide(client, gp, bundle)
    assert resp.status_code == 200, resp.get_json()
    old = client.get(f"/fhir/DocumentReference/{old_id}", headers=gp).get_json()
    assert old["status"] == "superseded"
    found = client.get(
        "/fhir/DocumentReference?patient=Patient/ins-adulte&status=current&type=11488-4", headers=gp
    ).get_json()
    assert found["total"] == 1 and found["entry"][0]["resource"]["id"] != old_id


def test_only_author_attending_or_system_may_replace(app, client, system):
    gp = headers(app, GP)
    old_id = written(provide(client, gp), "DocumentReference")["response"]["location"].split("/")[1]
    bundle = copy.deepcopy(PROVIDE)
    doc = bundle["entry"][1]["resource"]
    doc["relatesTo"] = [{"code": "replaces", "target": {"reference": f"DocumentReference/{old_id}"}}]
    doc["author"] = [{"reference": PATIENT}]  # the patient sees the old document but did not write it
    bundle["entry"][0]["resource"]["source"] = {"reference": PATIENT}
    resp = provide(client, headers(app, PATIENT), bundle)
    assert resp.status_code == 403, resp.get_json()
    assert client.get(f"/fhir/DocumentReference/{old_id}", headers=gp).get_json()["status"] == "current"


# _content and _text ------------------------------------------------------------------------
def pdf_with_text(text: str) -> bytes:
    """A one-page PDF whose text layer holds ``text`` (built by hand: no writer library needed)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>"
        ),
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


CDA = (
    b"<ClinicalDocument xmlns='urn:hl7-org:v3'><component><structuredBody><component><section>"
    b"<title>Conclusion</title><text><paragraph>Fibrillation auriculaire paroxystique</paragraph></text>"
    b"</section></component></structuredBody></component></ClinicalDocument>"
)


@pytest.mark.parametrize(
    "mime, data, query",
    [
        ("application/pdf", pdf_with_text("Insuffisance cardiaque droite"), "insuffisance cardiaque"),
        ("text/xml", CDA, "fibrillation auriculaire"),
        ("text/plain", "Hémoglobine glyquée élevée".encode(), "hemoglobine"),
    ],
)
def test_content_search_reads_the_documents_content_under_consent(app, client, mime, data, query):
    bundle = copy.deepcopy(PROVIDE)
    attachment = bundle["entry"][1]["resource"]["content"][0]["attachment"]
    attachment.pop("size"), attachment.pop("hash")
    attachment["contentType"] = mime
    bundle["entry"][2]["resource"].update(contentType=mime, data=base64.b64encode(data).decode())
    assert provide(client, headers(app, GP), bundle).status_code == 200
    url = f"/fhir/DocumentReference?_content={query}"
    assert client.get(url, headers=headers(app, GP)).get_json()["total"] == 1
    assert client.get(url, headers=headers(app, STRANGER)).get_json().get("total", 0) == 0
    assert client.get("/fhir/DocumentReference?_content=absentword", headers=headers(app, GP)).get_json()["total"] == 0


def test_text_search_reads_the_narrative(app, client, system):
    doc = client.get("/fhir/DocumentReference/bilan", headers=system).get_json()
    doc["text"] = {
        "status": "generated",
        "div": '<div xmlns="http://www.w3.org/1999/xhtml">Bilan <b>lipidique</b></div>',
    }
    assert client.put("/fhir/DocumentReference/bilan", json=doc, headers=system).status_code == 200
    assert client.get("/fhir/DocumentReference?_text=lipidique", headers=system).get_json()["total"] == 1
    assert (
        client.get("/fhir/DocumentReference?_text=lipidique", headers=headers(app, STRANGER)).get_json().get("total", 0)
        == 0
    )
