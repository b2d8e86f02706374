"""`GET /fhir/openapi.json`: an OpenAPI 3 document built from the CapabilityStatement's sources,
and a bounded schemathesis run against a live `carnet serve`: no response >= 500, every 4xx an
OperationOutcome."""

from __future__ import annotations

import os
import time

import pytest
import requests

from tests.servers import carnet_server
from tests.servers import embedded_env
from tests.storage.test_crash import token

#: what the fuzzing covers (the whole document has ~1,000 paths: far past the suite's budget)
FUZZED = (
    r"^/(Patient|Consent|Observation|DocumentReference)(/\{id\}(/_history(/\{vid\})?)?|/_history)?$|^/metadata$|^/$"
)
EXAMPLES = 4
BUDGET_S = 50.0


def test_the_document_matches_the_capability_statement(client):
    doc = client.get("/fhir/openapi.json").get_json()  # no token
    assert doc["openapi"].startswith("3.")
    statement = client.get("/fhir/metadata").get_json()
    for resource in statement["rest"][0]["resource"]:
        type_, codes = resource["type"], {i["code"] for i in resource["interaction"]}
        paths = doc["paths"]
        assert ("get" in paths.get(f"/{type_}", {})) == ("search-type" in codes)
        assert ("put" in paths.get(f"/{type_}/{{id}}", {})) == ("update" in codes)
        if "search-type" in codes:
            names = {p["name"] for p in paths[f"/{type_}"]["get"]["parameters"]}
            assert {p["name"] for p in resource["searchParam"]} <= names
        for op in resource.get("operation", []):
            assert any(path.endswith(f"${op['name']}") for path in paths if path.startswith(f"/{type_}/"))
    assert doc["paths"]["/metadata"]["get"]["security"] == []
    assert "smart" in doc["components"]["securitySchemes"]


@pytest.mark.gunicorn
def test_schemathesis_finds_no_server_error_and_only_operation_outcomes(tmp_path):
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck
    from hypothesis import Phase
    from hypothesis import given
    from hypothesis import settings

    env = embedded_env()
    if os.environ.get("MONGODB_URI"):
        pytest.skip("the HTTP surface is the same on both adapters: fuzzed on the SQLite leg")
    with carnet_server(tmp_path, env=env) as base:
        headers = {"Authorization": f"Bearer {token(tmp_path)}"}
        requests.put(
            f"{base}/Patient/example", json={"resourceType": "Patient", "id": "example"}, headers=headers, timeout=30
        ).raise_for_status()
        raw = requests.get(f"{base}/openapi.json", timeout=60).json()
        schema = schemathesis.openapi.from_dict(raw).include(path_regex=FUZZED)
        deadline = time.monotonic() + BUDGET_S
        problems: list[str] = []
        calls = 0
        for result in schema.get_all_operations():
            operation = result.ok()

            @given(case=operation.as_strategy())
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def run(case) -> None:
                nonlocal calls
                if time.monotonic() > deadline:
                    return
                response = case.call(
                    base_url=base, headers=headers, timeout=30
                )  # a fresh connection: no stale keep-alive
                calls += 1
                where = f"{case.method} {case.formatted_path} -> {response.status_code}"
                if response.status_code >= 500:
                    problems.append(f"{where}: {response.text[:200]}")
                elif response.status_code >= 400:
                    try:
                        kind = response.json().get("resourceType")
                    except ValueError:
                        kind = None
                    if kind != "OperationOutcome":
                        problems.append(f"{where}: not an OperationOutcome: {response.text[:200]}")

            run()
        print(f"schemathesis: {calls} calls")
        assert calls > 50, f"only {calls} calls made within the budget"
        assert not problems, "\n".join(problems[:20])
