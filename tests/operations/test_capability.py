"""The CapabilityStatement lists the operations of the registry and the bundle interactions."""

from __future__ import annotations

from fhir_server.operations import registry as operations


def test_operations_and_system_interactions_are_listed(client):
    statement = client.get("/fhir/metadata").get_json()
    rest = statement["rest"][0]
    assert {i["code"] for i in rest["interaction"]} == {"transaction", "batch", "search-system", "history-system"}
    resources = {r["type"]: r for r in rest["resource"]}
    assert {"everything", "summary", "validate"} <= {o["name"] for o in resources["Patient"]["operation"]}
    assert [o["name"] for o in resources["Observation"]["operation"]] == ["validate"]
    everything = next(o for o in resources["Patient"]["operation"] if o["name"] == "everything")
    assert everything["definition"] == "http://hl7.org/fhir/OperationDefinition/Patient-everything"
    assert {"everything", "summary", "validate"} <= {o.code for o in operations.REGISTRY}


def test_every_listed_operation_is_routed(app):
    rules = {r.rule for r in app.url_map.iter_rules()}
    for op in operations.REGISTRY:
        type_ = op.types[0] if len(op.types) == 1 else "<resource_type>"
        if op.type_level:
            assert f"/fhir/{type_}/${op.code}" in rules
        if op.instance_level:
            assert f"/fhir/{type_}/<id_>/${op.code}" in rules
