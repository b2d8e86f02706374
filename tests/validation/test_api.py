"""The public surface of fhir_server.validation: types, errors, profiles wiring."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_server.errors import Unprocessable
from fhir_server.validation import check_required_profiles
from fhir_server.validation import raise_for_issues
from fhir_server.validation import supported_types
from fhir_server.validation import validate

INS = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins"


def test_supported_types_are_the_146_r4_resources() -> None:
    types = supported_types()
    assert len(types) == 146
    assert {"Patient", "DocumentReference", "Consent", "Bundle", "Parameters", "SubstancePolymer"} <= set(types)
    assert "Element" not in types and "ResourceList" not in types


@pytest.mark.parametrize("resource_type", supported_types())
def test_every_type_validates_its_minimal_instance(resource_type: str) -> None:
    """Each type gets a validator; a bare instance is only refused for its required elements."""
    issues = validate({"resourceType": resource_type}, resource_type)
    assert all(i["code"] == "required" for i in issues), issues


def test_unknown_type() -> None:
    [found] = validate({"resourceType": "Patients"}, "Patients")
    assert found["code"] == "not-supported"


def test_not_an_object() -> None:
    [found] = validate(["Patient"], "Patient")
    assert found["expression"] == ["Patient"]
    assert "JSON object" in found["diagnostics"]


def test_raise_for_issues_raises_422_with_every_issue() -> None:
    issues = validate({"resourceType": "Patient", "active": "yes", "gender": "F"}, "Patient")
    with pytest.raises(Unprocessable) as caught:
        raise_for_issues(issues)
    assert caught.value.status_code == 422
    assert caught.value.issues == issues
    assert "(and 1 more)" in caught.value.diagnostics


def test_raise_for_issues_lets_warnings_through() -> None:
    issues = validate({"resourceType": "Patient", "meta": {"profile": ["http://example.org/p"]}}, "Patient")
    assert [i["severity"] for i in issues] == ["warning"]
    raise_for_issues(issues)


def patient(**extra: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "gender": "female", **extra}


def test_claimed_core_profile_is_the_base_type() -> None:
    assert validate(patient(meta={"profile": ["http://hl7.org/fhir/StructureDefinition/Patient"]}), "Patient") == []


def test_unknown_profile_asked_for_is_an_error() -> None:
    [found] = validate(patient(), "Patient", profiles=["http://example.org/p"])
    assert (found["severity"], found["code"]) == ("error", "not-supported")


def test_claimed_profile_of_ours_is_enforced() -> None:
    issues = validate(patient(meta={"profile": [INS]}), "Patient")
    assert issues and all(i["severity"] == "error" for i in issues)


def test_claimed_profile_version_is_ignored() -> None:
    assert validate(patient(meta={"profile": [INS + "|2.1.0"]}), "Patient") == validate(
        patient(meta={"profile": [INS]}), "Patient"
    )


def test_profile_of_another_type_is_an_error() -> None:
    [found] = validate({"resourceType": "Practitioner"}, "Practitioner", profiles=[INS])
    assert "constrains Patient, not Practitioner" in found["diagnostics"]


def test_required_profiles_apply_per_type() -> None:
    required = {"Patient": [INS]}
    assert validate(patient(), "Patient", required_profiles=required)
    assert validate({"resourceType": "Practitioner"}, "Practitioner", required_profiles=required) == []


def test_check_required_profiles() -> None:
    check_required_profiles({"Patient": [INS]})
    with pytest.raises(ValueError, match="unknown profile"):
        check_required_profiles({"Patient": ["http://example.org/p"]})
    with pytest.raises(ValueError, match="constrains Patient"):
        check_required_profiles({"Practitioner": [INS]})
