"""The CapabilityStatement says exactly what the server does."""

from __future__ import annotations

from fhir_server import catalog
from search import registry


def test_capability_statement(client):
    cs = client.get("/fhir/metadata").get_json()
    assert cs["resourceType"] == "CapabilityStatement"
    assert cs["fhirVersion"] == "4.0.1"
    assert "application/fhir+json" in cs["format"]
    resources = {r["type"]: r for r in cs["rest"][0]["resource"]}
    assert set(resources) == set(catalog.load().types)
    assert [i["code"] for i in resources["AuditEvent"]["interaction"]] == list(
        catalog.load().types["AuditEvent"].interactions
    )
    reg = registry.load()
    for type_, resource in resources.items():
        assert {p["name"] for p in resource["searchParam"]} == set(reg.params(type_))


def test_every_advertised_search_parameter_is_accepted(client, system):
    """One search per type with every advertised parameter (``:missing``, ANDed): an unknown one
    would answer 400 naming it, a parameter the compiler cannot translate 500."""
    cs = client.get("/fhir/metadata").get_json()
    for resource in cs["rest"][0]["resource"]:
        query = "&".join(f"{p['name']}:missing=true" for p in resource["searchParam"])
        resp = client.get(f"/fhir/{resource['type']}?{query}&_count=1", headers=system)
        assert resp.status_code == 200, (resource["type"], resp.get_json())
        assert resp.get_json()["type"] == "searchset"


def test_a_parameter_not_advertised_is_refused(client, system):
    resp = client.get("/fhir/Patient?gender:missing=true&not-advertised:missing=true", headers=system)
    assert resp.status_code == 400
    assert "not-advertised" in resp.get_json()["issue"][0]["diagnostics"]
