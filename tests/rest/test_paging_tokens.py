"""One paging token format (``search.paging``) for searches, history at every level and
``$everything``: any other ``_page`` is a 400 OperationOutcome, and history links walk every
version once."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from search import paging
from tests.rest.test_crud import create
from tests.rest.test_history import local
from tests.support import bearer


def _token(payload: bytes) -> str:
    return base64.urlsafe_b64encode(payload).decode()


BAD_TOKENS = {
    "empty": "",
    "garbage": "garbage",
    "not base64": "%%%!!",
    "non-ASCII": "é",
    "cut short": paging.encode(40)[:-3],
    "not JSON": _token(b"\xff\xfe\x00"),
    "negative": _token(b'{"v":1,"o":-20}'),
    "a string": _token(b'{"v":1,"o":"20"}'),
    "a fraction": _token(b'{"v":1,"o":1.5}'),
    "a boolean": _token(b'{"v":1,"o":true}'),
    "huge": _token(json.dumps({"v": 1, "o": 2**64}).encode()),
    "too many digits": _token(b'{"v":1,"o":' + b"9" * 5000 + b"}"),
    "deeply nested": _token(b"[" * 20000),
    "the former history format": _token(b"20"),
    "another version": _token(b'{"v":2,"o":20}'),
}
PATHS = [
    "/fhir/Patient/{id}/_history",
    "/fhir/Patient/_history",
    "/fhir/_history",
    "/fhir/Patient",
    "/fhir/Patient/{id}/$everything",
]


@pytest.fixture
def patient(client: Any, system: dict[str, str]) -> str:
    return str(create(client, system).get_json()["id"])


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_a_bad_page_token_is_a_400(client, system, patient, path, token):
    resp = client.get(path.format(id=patient), query_string={"_page": token}, headers=system)
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert resp.get_json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("path", PATHS)
def test_a_page_past_the_end_is_empty(client, system, patient, path):
    resp = client.get(path.format(id=patient), query_string={"_page": paging.encode(paging.MAX_OFFSET)}, headers=system)
    assert resp.status_code == 200 and not resp.get_json().get("entry")


def walk(client: Any, headers: dict[str, str], url: str) -> tuple[list[str], set[int]]:
    """Every entry's ``Type/id/_history/vid`` following the ``next`` links from ``url``, and the totals."""
    seen: list[str] = []
    totals: set[int] = set()
    while url:
        page = client.get(url, headers=headers).get_json()
        totals.add(page["total"])
        seen += [f"{e['fullUrl'].split('/fhir/', 1)[1]}/_history/{e['response']['etag'][3:-1]}" for e in page["entry"]]
        url = next((local(link["url"]) for link in page["link"] if link["relation"] == "next"), "")
    return seen, totals


def test_history_links_walk_every_version_once(app, client, system):
    versions: set[str] = set()
    for _ in range(3):
        created = create(client, system).get_json()
        url = f"/fhir/Patient/{created['id']}"
        for gender in ("male", "female", "other"):
            client.put(url, json={**created, "gender": gender}, headers=system)
        versions |= {f"Patient/{created['id']}/_history/{vid}" for vid in range(1, 5)}
    one = sorted(versions)[0].rsplit("/_history/", 1)[0]
    patients_only = bearer(app, scope="system/Patient.rs")
    for start, expected in [
        (f"/fhir/{one}/_history?_count=3", {v for v in versions if v.startswith(f"{one}/")}),
        ("/fhir/Patient/_history?_count=5", versions),
        ("/fhir/_history?_count=5", versions),
    ]:
        seen, totals = walk(client, patients_only, start)
        assert len(seen) == len(set(seen)) and set(seen) == expected, start
        assert totals == {len(expected)}, start
