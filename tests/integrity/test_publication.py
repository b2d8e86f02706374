"""Issue 12, point 6: every operation's OperationDefinition at the canonical the CapabilityStatement
names, and the codes our rules use as CodeSystem and ValueSet resources (search by url)."""

from __future__ import annotations

import pytest

from fhir_server.publication import publish
from fhir_server.storage import get_store_of
from tests.support import bearer

A07 = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument"
G15 = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
R260 = "https://mos.esante.gouv.fr/NOS/TRE_R260-HL7RoleClass/FHIR/TRE-R260-HL7RoleClass"


@pytest.fixture
def reader(app):
    """A practitioner with no link to any record: directory data is theirs to read."""
    return bearer(app, fhir_user="Practitioner/anyone", scope="user/*.rs")


def named_operations(client, headers):
    statement = client.get("/fhir/metadata", headers=headers).get_json()
    return {(op["name"], op["definition"]) for r in statement["rest"][0]["resource"] for op in r.get("operation", [])}


def test_an_unknown_canonical_finds_nothing(client, reader):
    found = client.get(
        "/fhir/OperationDefinition?url=https://carnet.example.org/fhir/OperationDefinition/nope", headers=reader
    ).get_json()
    assert found["total"] == 0


def test_every_operation_the_capability_statement_names_is_defined_there(client, reader):
    named = named_operations(client, reader)
    assert {"close", "reopen", "preview", "summary", "everything", "validate"} <= {code for code, _ in named}
    for code, canonical in named:
        found = client.get(f"/fhir/OperationDefinition?url={canonical}", headers=reader).get_json()
        assert found["total"] == 1, canonical
        definition = found["entry"][0]["resource"]
        assert (definition["code"], definition["url"]) == (code, canonical)
        read = client.get(f"/fhir/OperationDefinition/{canonical.rsplit('/', 1)[-1]}", headers=reader)
        assert read.status_code == 200 and read.get_json()["url"] == canonical


def test_the_close_definition_names_the_parameters_close_reads(client, reader):
    definition = client.get("/fhir/OperationDefinition/Patient-close", headers=reader).get_json()
    inputs = {p["name"]: (p["min"], p["type"]) for p in definition["parameter"] if p["use"] == "in"}
    assert inputs == {"reason": (1, "string"), "erase": (0, "boolean")}


@pytest.mark.parametrize(("url", "code"), [(A07, "MASQUE_PS"), (G15, "60"), (R260, "GUARD")])
def test_code_systems_are_found_by_url(client, reader, url, code):
    found = client.get(f"/fhir/CodeSystem?url={url}", headers=reader).get_json()
    assert found["total"] == 1
    assert code in {c["code"] for c in found["entry"][0]["resource"]["concept"]}


@pytest.mark.parametrize(
    ("id_", "system", "code"),
    [
        ("carnet-visibility", A07, "MASQUE_PS"),
        ("carnet-professions", G15, "10"),
        ("carnet-relationships", R260, "ECON"),
        ("carnet-consent-actions", "http://terminology.hl7.org/CodeSystem/consentaction", "access"),
        ("carnet-consent-purposes", "http://terminology.hl7.org/CodeSystem/v3-ActReason", "BTG"),
        ("carnet-consent-policy-rules", "http://terminology.hl7.org/CodeSystem/v3-ActCode", "OPTIN"),
    ],
)
def test_value_sets_are_found_by_url(client, reader, id_, system, code):
    url = f"https://carnet.example.org/fhir/ValueSet/{id_}"
    found = client.get(f"/fhir/ValueSet?url={url}", headers=reader).get_json()
    assert found["total"] == 1
    include = {
        i["system"]: {c["code"] for c in i["concept"]} for i in found["entry"][0]["resource"]["compose"]["include"]
    }
    assert code in include[system]


def test_publication_is_idempotent(app, client, system):
    """A second start over the same store writes nothing new."""
    before = client.get("/fhir/OperationDefinition/Patient-close", headers=system).get_json()["meta"]["versionId"]
    publish(get_store_of(app))
    after = client.get("/fhir/OperationDefinition/Patient-close", headers=system).get_json()["meta"]["versionId"]
    assert before == after == "1"
