"""One probe per pitfall of DESIGN §5: nothing observable differs between hidden and absent.

Unit twin: tests/consent (the engine's table and the policy/decide agreement).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.leaks.world import World
from tests.leaks.world import build
from tests.leaks.world import document

GRANTED, GP, BLOCKED, AUTHOR, STRANGER, ORGDOC = (
    f"Practitioner/{p}" for p in ("granted", "gp", "blocked", "author", "stranger", "orgdoc")
)


@pytest.fixture
def world(app) -> World:
    return build(app)


def same_as_absent(world: World, who: str, url: str, hidden_id: str, method: str = "get", **kw) -> None:
    """``url`` (with ``{id}``) answers for the hidden id exactly as for an id that never existed:
    status, body and headers."""
    call = getattr(world.client, method)
    absent_id = "z" * len(hidden_id)  # same length: Content-Length must match too
    hidden = call(url.format(id=hidden_id), headers=world.headers(who), **kw)
    absent = call(url.format(id=absent_id), headers=world.headers(who), **kw)
    assert hidden.status_code == absent.status_code == 404
    assert hidden.get_data(as_text=True).replace(hidden_id, "ID") == absent.get_data(as_text=True).replace(
        absent_id, "ID"
    )
    skip = {"Date", "X-Request-Id"}  # per-request nonces, equal in distribution
    assert {k: v for k, v in hidden.headers if k not in skip} == {k: v for k, v in absent.headers if k not in skip}


@pytest.mark.parametrize(
    "who,visible",
    [
        (GP, ["d1", "d2", "d3"]),
        (GRANTED, ["d1", "d3"]),
        (ORGDOC, ["d1", "d3"]),
        (AUTHOR, ["d1", "d2", "d3"]),
        (BLOCKED, []),
        (STRANGER, []),
        ("Patient/p1", ["d1", "d2"]),
        (None, ["d1", "d2", "d3"]),
    ],
)
def test_search_totals_and_entries_are_exact(world, who, visible):
    bundle = world.get(who, "/fhir/DocumentReference?subject=Patient/p1&_total=accurate").get_json()
    assert bundle["total"] == len(visible)
    assert world.ids(who, "/fhir/DocumentReference?subject=Patient/p1") == visible


def test_paging_is_exact_under_consent(world):
    first = world.get(GRANTED, "/fhir/DocumentReference?subject=Patient/p1&_count=1&_total=accurate").get_json()
    assert first["total"] == 2 and len(first["entry"]) == 1
    nxt = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = world.get(GRANTED, "/" + nxt.split("://", 1)[1].split("/", 1)[1]).get_json()
    assert len(second["entry"]) == 1
    assert not any(link["relation"] == "next" for link in second["link"])


@pytest.mark.parametrize(
    "who,hidden",
    [
        (GRANTED, "d2"),
        (BLOCKED, "d1"),
        (STRANGER, "d1"),
        ("Patient/p1", "d3"),
        ("RelatedPerson/guard", "d4"),
        (GP, "d5"),
        (GRANTED, "d5"),
    ],
)
def test_read_of_hidden_is_absent(world, who, hidden):
    for url in (
        "/fhir/DocumentReference/{id}",
        "/fhir/DocumentReference/{id}/_history/1",
        "/fhir/DocumentReference/{id}/_history",
    ):
        same_as_absent(world, who, url, hidden)


@pytest.mark.parametrize("method", ["delete", "patch", "put"])
def test_writes_to_hidden_are_absent_and_change_nothing(world, method):
    kw: dict[str, Any] = {}
    if method == "patch":
        kw = {
            "json": [{"op": "replace", "path": "/status", "value": "superseded"}],
            "content_type": "application/json-patch+json",
        }
    hidden = getattr(world.client, method)(
        "/fhir/DocumentReference/d2",
        headers=world.headers(GRANTED),
        **(kw or ({"json": document("d2", "Patient/p1", GRANTED)} if method == "put" else {})),
    )
    assert hidden.status_code == 404
    stored = world.get(None, "/fhir/DocumentReference/d2").get_json()
    assert stored["meta"]["versionId"] == "1" and stored["status"] == "current"


def test_includes_never_pull_hidden_targets(world):
    ids = world.ids(GRANTED, "/fhir/Patient?_id=p1&_revinclude=DocumentReference:subject")
    assert ids == ["d1", "d3", "p1"]
    assert world.ids(BLOCKED, "/fhir/DocumentReference?_id=d1&_include=DocumentReference:subject") == []
    ids = world.ids(GRANTED, "/fhir/DocumentReference?subject=Patient/p1&_include=DocumentReference:author")
    assert "d2" not in ids


def test_has_and_chains_are_no_oracle(world):
    assert world.ids(GRANTED, "/fhir/Patient?_has:DocumentReference:subject:identifier=d2") == []
    assert world.ids(GP, "/fhir/Patient?_has:DocumentReference:subject:identifier=d2") == ["p1"]
    assert world.ids(STRANGER, "/fhir/DocumentReference?subject.family=Durand") == []
    assert world.ids(GRANTED, "/fhir/DocumentReference?subject.family=Durand") == ["d1", "d3"]


def test_history_hides_versions_that_are_now_hidden(world):
    patient = world.headers("Patient/p1")
    masked = world.client.patch(
        "/fhir/DocumentReference/d1",
        headers=patient,
        content_type="application/json-patch+json",
        json=[
            {
                "op": "add",
                "path": "/securityLabel/0",
                "value": {
                    "coding": [
                        {
                            "system": "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument",
                            "code": "MASQUE_PS",
                        }
                    ]
                },
            }
        ],
    )
    assert masked.status_code == 200, masked.get_json()
    same_as_absent(world, GRANTED, "/fhir/DocumentReference/{id}/_history/1", "d1")
    history = world.get(GRANTED, "/fhir/DocumentReference/_history").get_json()
    assert {e["resource"]["id"] for e in history.get("entry", []) if "resource" in e} == {"d3", "d4"}
    assert world.get(GP, "/fhir/DocumentReference/d1/_history/1").status_code == 200


def test_conditional_create_does_not_reveal_a_hidden_match(world):
    body = document("x", "Patient/p1", GRANTED, identifier="d2")
    resp = world.client.post(
        "/fhir/DocumentReference",
        json=body,
        headers={**world.headers(GRANTED), "If-None-Exist": "identifier=urn:carnet:doc|d2"},
    )
    assert resp.status_code == 201 and resp.get_json()["id"] != "d2"


def test_conditional_update_and_delete_never_touch_a_hidden_match(world):
    body = document("x", "Patient/p1", GRANTED, identifier="d2")
    del body["id"]
    resp = world.client.put(
        "/fhir/DocumentReference?identifier=urn:carnet:doc|d2", json=body, headers=world.headers(GRANTED)
    )
    assert resp.status_code == 201 and resp.get_json()["id"] != "d2"
    gone = world.client.delete("/fhir/DocumentReference?identifier=urn:carnet:doc|d2", headers=world.headers(GRANTED))
    assert gone.status_code == 204
    assert world.get(None, "/fhir/DocumentReference/d2").get_json()["meta"]["versionId"] == "1"


def test_closed_record_shows_nothing_to_professionals(world):
    for who in (GP, GRANTED):
        assert world.ids(who, "/fhir/DocumentReference?subject=Patient/p2") == []
        assert world.get(who, "/fhir/Patient/p2").status_code == 404
    assert world.ids("Patient/p2", "/fhir/DocumentReference?subject=Patient/p2") == ["d5"]


def test_representative_sees_the_minor_minus_flagged(world):
    assert world.get("RelatedPerson/guard", "/fhir/Patient/minor").status_code == 200
    assert world.ids("RelatedPerson/guard", "/fhir/DocumentReference?subject=Patient/minor") == []
    assert world.ids("Patient/minor", "/fhir/DocumentReference?subject=Patient/minor") == ["d4"]


def test_who_saw_my_record(world):
    world.get(GRANTED, "/fhir/DocumentReference/d1")
    world.get(GP, "/fhir/DocumentReference/d3")
    events = world.get("Patient/p1", "/fhir/AuditEvent?patient=Patient/p1").get_json()
    seen = [ent["what"]["reference"] for e in events["entry"] for ent in e["resource"]["entity"] if "what" in ent]
    assert any(ref.startswith("DocumentReference/d1") for ref in seen)
    assert not any(ref.startswith("DocumentReference/d3") for ref in seen)
    assert world.ids(STRANGER, "/fhir/AuditEvent?patient=Patient/p1") == []


def test_error_texts_do_not_differ(world):
    hidden = world.get(GRANTED, "/fhir/DocumentReference/d2").get_json()["issue"][0]["diagnostics"]
    absent = world.get(GRANTED, "/fhir/DocumentReference/zz").get_json()["issue"][0]["diagnostics"]
    assert hidden.replace("d2", "ID") == absent.replace("zz", "ID")
