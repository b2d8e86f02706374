"""profiles.load / get / urls / summary, and the shipped French examples against their profiles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import profiles
from fhir_server.validation import supported_types
from fhir_server.validation import validate
from tests.support import EXAMPLES_FR

EXPECTED = {
    "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins": "Patient",
    "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-practitioner": "Practitioner",
    "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-related-person": "RelatedPerson",
    "https://carnet.example.org/fhir/StructureDefinition/dmp-document-reference": "DocumentReference",
    "https://carnet.example.org/fhir/StructureDefinition/patient-privacy-consent": "Consent",
}


def test_load_every_profile_by_url() -> None:
    loaded = profiles.load()
    assert {url: doc.type for url, doc in loaded.items()} == EXPECTED
    assert sorted(profiles.urls()) == sorted(EXPECTED)
    assert profiles.urls_by_type()["Patient"] == ["https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins"]


def test_get_ignores_the_version() -> None:
    url = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-practitioner"
    assert profiles.get(url + "|2.1.0") is profiles.get(url) is not None
    assert profiles.get("https://example.org/unknown") is None


@pytest.mark.parametrize("url", sorted(EXPECTED))
def test_summary_is_a_valid_structure_definition(url: str) -> None:
    summary = profiles.summary(url)
    assert validate(summary, "StructureDefinition") == []
    assert summary["url"] == url
    assert summary["type"] == EXPECTED[url]
    assert (summary["kind"], summary["derivation"], summary["fhirVersion"]) == ("resource", "constraint", "4.0.1")
    assert summary["baseDefinition"].startswith(
        ("http://hl7.org/fhir/StructureDefinition/", "https://hl7.fr/ig/fhir/core/")
    )
    elements = summary["differential"]["element"]
    assert elements and all(e["path"].split(".")[0] == EXPECTED[url] for e in elements)
    assert all(":" not in e["path"] for e in elements)


@pytest.mark.parametrize("url", sorted(EXPECTED))
def test_differential_names_real_r4_elements(url: str) -> None:
    """Each differential path starts with an element of the R4 type (checked through validation)."""
    for element in profiles.summary(url)["differential"]["element"]:
        first = element["path"].split(".")[1]
        probe = {"resourceType": EXPECTED[url], first: None}
        assert all("unknown element" not in i["diagnostics"] for i in validate(probe, EXPECTED[url])), first


def test_summary_of_unknown_profile() -> None:
    with pytest.raises(KeyError):
        profiles.summary("https://example.org/unknown")


def test_profiles_are_only_for_r4_types() -> None:
    assert set(EXPECTED.values()) <= set(supported_types())


@pytest.mark.parametrize("path", sorted(EXAMPLES_FR.glob("*.json")), ids=lambda p: p.name)
def test_french_examples_meet_their_profile(path: Path) -> None:
    """Each example passes the profile of its type; the DMP documents once given a custodian
    (the shipped examples have none, which the DMP DocumentReference requires)."""
    resource = json.loads(path.read_text())
    urls = profiles.urls_by_type().get(resource["resourceType"], [])
    if resource["resourceType"] == "DocumentReference":
        resource["custodian"] = {"reference": "Organization/carnet"}
    for url in urls:
        assert validate(resource, resource["resourceType"], profiles=[url]) == [], url


@pytest.mark.parametrize("url", sorted(EXPECTED))
@pytest.mark.parametrize(
    "garbage",
    [
        {"identifier": "x", "name": 5, "relationship": {"coding": 1}},
        {"securityLabel": {}, "content": [1], "type": [], "category": "x"},
        {"provision": [], "scope": "privacy", "patient": {"reference": 7}},
        {"identifier": [None, {"system": 3}], "extension": [{"url": 1}]},
    ],
    ids=["scalars", "wrong-shapes", "consent-shapes", "nulls"],
)
def test_profiles_report_malformed_resources_without_crashing(url: str, garbage: dict[str, object]) -> None:
    """The R4 layer reports the damage; the profile layer still answers with issues, not an exception."""
    resource = {"resourceType": EXPECTED[url], **garbage}
    issues = validate(resource, EXPECTED[url], profiles=[url])
    assert issues and all(i["severity"] == "error" for i in issues)
