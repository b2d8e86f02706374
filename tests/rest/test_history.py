"""Instance and type history: Bundle type history, newest first, paged (R4 http.html#history)."""

from __future__ import annotations

from tests.rest.test_crud import create


def local(url: str) -> str:
    """The path and query of an absolute link, for the test client."""
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_instance_history_newest_first(client, system):
    created = create(client, system).get_json()
    url = f"/fhir/Patient/{created['id']}"
    client.put(url, json={**created, "gender": "male"}, headers=system)
    client.delete(url, headers=system)
    bundle = client.get(f"{url}/_history", headers=system).get_json()
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "history"
    assert bundle["total"] == 3
    entries = bundle["entry"]
    assert [e["response"]["etag"] for e in entries] == ['W/"3"', 'W/"2"', 'W/"1"']
    assert [e["request"]["method"] for e in entries] == ["DELETE", "PUT", "POST"]
    assert "resource" not in entries[0]
    assert entries[1]["resource"]["gender"] == "male"


def test_type_history_and_paging(client, system):
    ids = [create(client, system).get_json()["id"] for _ in range(5)]
    first = client.get("/fhir/Patient/_history?_count=2", headers=system).get_json()
    assert first["total"] == 5 and len(first["entry"]) == 2
    seen = [e["resource"]["id"] for e in first["entry"]]
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    while next_url:
        page = client.get(local(next_url), headers=system).get_json()
        seen += [e["resource"]["id"] for e in page["entry"]]
        next_url = next((link["url"] for link in page["link"] if link["relation"] == "next"), None)
    assert sorted(seen) == sorted(ids) and seen == list(reversed(ids))


def test_history_of_unknown_is_404(client, system):
    assert client.get("/fhir/Patient/nope/_history", headers=system).status_code == 404


def test_history_rejects_unknown_parameters(client, system):
    assert client.get("/fhir/Patient/_history?colour=blue", headers=system).status_code == 400
    assert client.get("/fhir/Patient/_history?_count=x", headers=system).status_code == 400
    assert client.get("/fhir/Patient/_history?_page=%%%", headers=system).status_code == 400
