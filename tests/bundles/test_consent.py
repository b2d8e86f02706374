"""Bundles under consent: an entry the caller may not perform fails as it would alone, and what is
hidden answers exactly as what is absent (DESIGN §5: HAPI #7769)."""

from __future__ import annotations

import pytest

from tests.bundles.helpers import bundle
from tests.bundles.helpers import entry
from tests.bundles.helpers import observation
from tests.bundles.helpers import post
from tests.bundles.helpers import snapshot
from tests.bundles.world import NURSE
from tests.bundles.world import PATIENT
from tests.bundles.world import STRANGER
from tests.bundles.world import headers
from tests.bundles.world import seed

MASKED = "DocumentReference/masque-ps"
ABSENT = "DocumentReference/never-was"


@pytest.fixture(autouse=True)
def world(client, system) -> None:
    seed(client, system)


def same(hidden: dict, absent: dict) -> None:
    """Two answers equal once each names its own id."""
    text = str(hidden).replace("masque-ps", "ID")
    assert text == str(absent).replace("never-was", "ID")


@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.parametrize("who", [STRANGER, NURSE])
def test_a_hidden_resource_fails_a_batch_entry_as_an_absent_one(app, client, who, method):
    body = post(client, headers(app, who), bundle("batch", entry(method, MASKED), entry(method, ABSENT))).get_json()
    hidden, absent = (e["response"] for e in body["entry"])
    assert hidden["status"] == "404 Not Found"
    same(hidden, absent)


@pytest.mark.parametrize("who", [STRANGER, NURSE])
def test_a_hidden_resource_fails_a_transaction_as_an_absent_one(app, client, who):
    before = snapshot(app)
    answers = []
    for target in (MASKED, ABSENT):
        tx = bundle("transaction", entry("POST", "Observation", observation(PATIENT)), entry("DELETE", target))
        resp = post(client, headers(app, who), tx)
        answers.append((resp.status_code, resp.get_json()))
    assert answers[0][0] == answers[1][0] == 404
    same(answers[0][1], answers[1][1])
    assert snapshot(app) == before


def test_a_conditional_reference_resolves_whoever_may_read_the_match(app, client):
    """Issue 12: resolution for writes sees records the writer cannot read (a professional feeds a
    record without reading it, as the DMP allows); a miss says "no match" and nothing more."""
    answers = []
    for value in ("masque-ps", "never-was"):
        ref = f"DocumentReference?_id={value}"
        tx = bundle("transaction", entry("POST", "Observation", observation(PATIENT, derivedFrom=[{"reference": ref}])))
        resp = post(client, headers(app, NURSE), tx)
        answers.append((resp.status_code, resp.get_json()))
    assert answers[0][0] == 200
    assert answers[1][0] == 422
    issue = answers[1][1]["issue"][0]
    assert issue["diagnostics"].endswith("the conditional reference 'DocumentReference?_id=never-was' has no match")
    assert issue["expression"] == ["Bundle.entry[0]", "Bundle.entry[0].resource.derivedFrom[0]"]


def test_a_refused_write_fails_the_entry_or_the_transaction(app, client):
    """The patient may not write an Observation into their record (DESIGN §4 writes)."""
    caller = headers(app, PATIENT)
    batch = post(client, caller, bundle("batch", entry("POST", "Observation", observation(PATIENT)))).get_json()
    assert batch["entry"][0]["response"]["status"] == "403 Forbidden"
    before = snapshot(app)
    tx = post(client, caller, bundle("transaction", entry("POST", "Observation", observation(PATIENT), "urn:uuid:1")))
    assert tx.status_code == 403
    assert tx.get_json()["issue"][0]["diagnostics"].startswith("Bundle.entry[0] (urn:uuid:1): Not allowed")
    assert snapshot(app) == before


def test_reads_in_a_batch_are_filtered_like_searches(app, client):
    body = post(
        client, headers(app, NURSE), bundle("batch", entry("GET", f"DocumentReference?subject={PATIENT}"))
    ).get_json()
    ids = sorted(e["resource"]["id"] for e in body["entry"][0]["resource"]["entry"])
    assert ids == ["bilan"]
