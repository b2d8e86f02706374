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
    assert [i["code"] for i in resources["AuditEvent"]["interaction"]] == list(catalog.load().types["AuditEvent"].interactions)
    reg = registry.load()
    for type_, resource in resources.items():
        assert {p["name"] for p in resource["searchParam"]} == set(reg.params(type_))


def test_every_advertised_search_parameter_is_accepted(client, system):
    cs = client.get("/fhir/metadata").get_json()
    for resource in cs["rest"][0]["resource"]:
        for param in resource["searchParam"]:
            name = param["name"]
            resp = client.get(f"/fhir/{resource['type']}?{name}:missing=true&_count=1", headers=system)
            assert resp.status_code == 200, (resource["type"], name, resp.get_json())
