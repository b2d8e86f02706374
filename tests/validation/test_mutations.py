"""Invalid mutations of valid resources: each is rejected at the right element, in plain words."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from fhir_server.validation import validate

PATIENT: dict[str, Any] = {
    "resourceType": "Patient",
    "id": "ins-adulte",
    "meta": {"lastUpdated": "2026-11-25T19:00:00.123Z"},
    "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "279035121518989"}],
    "active": True,
    "name": [{"use": "official", "family": "Durand", "given": ["Marie", "Louise"]}],
    "gender": "female",
    "birthDate": "1979-03-12",
    "multipleBirthInteger": 1,
}
DOCUMENT: dict[str, Any] = {
    "resourceType": "DocumentReference",
    "id": "compte-rendu",
    "status": "current",
    "type": {"coding": [{"system": "http://loinc.org", "code": "34112-3"}]},
    "subject": {"reference": "Patient/ins-adulte"},
    "date": "2026-11-20T14:00:00+01:00",
    "content": [{"attachment": {"contentType": "application/pdf", "url": "Binary/cr", "size": 10}}],
}

Mutation = Callable[[dict[str, Any]], None]


def setter(key: str, value: Any) -> Mutation:
    return lambda resource: resource.__setitem__(key, value)


def dropper(*keys: str) -> Mutation:
    def drop(resource: dict[str, Any]) -> None:
        for key in keys:
            resource.pop(key)

    return drop


def name_given(value: Any) -> Mutation:
    return lambda resource: resource["name"][0].__setitem__("given", value)


CASES: list[tuple[str, dict[str, Any], Mutation, str, str, str]] = [
    # id, base, mutation, expression, issue code, words in the diagnostics
    ("boolean-as-string", PATIENT, setter("active", "yes"), "Patient.active", "structure", "'yes' is not a boolean"),
    ("boolean-as-string-true", PATIENT, setter("active", "true"), "Patient.active", "structure", "is not a boolean"),
    ("unknown-element", PATIENT, setter("colour", "blue"), "Patient.colour", "structure", "unknown element 'colour'"),
    ("r4b-comments", PATIENT, setter("fhir_comments", ["x"]), "Patient.fhir_comments", "structure", "unknown element"),
    ("unknown-extension-holder", PATIENT, setter("_colour", {"id": "x"}), "Patient._colour", "structure", "unknown"),
    (
        "single-for-array",
        PATIENT,
        setter("name", {"family": "Durand"}),
        "Patient.name",
        "structure",
        "must be an array",
    ),
    ("array-for-single", PATIENT, setter("birthDate", ["1979"]), "Patient.birthDate", "structure", "single value"),
    ("array-for-code", PATIENT, setter("gender", ["female"]), "Patient.gender", "structure", "single value"),
    ("bad-gender", PATIENT, setter("gender", "F"), "Patient.gender", "code-invalid", "'F' is not one of: male"),
    ("bad-date", PATIENT, setter("birthDate", "12/03/1979"), "Patient.birthDate", "value", "not a valid date"),
    ("bad-month", PATIENT, setter("birthDate", "1979-13-01"), "Patient.birthDate", "value", "not a valid date"),
    ("impossible-day", PATIENT, setter("birthDate", "2023-02-30"), "Patient.birthDate", "value", "day value"),
    (
        "datetime-without-zone",
        PATIENT,
        setter("deceasedDateTime", "2020-01-01T10:00:00"),
        "Patient.deceasedDateTime",
        "value",
        "not a valid dateTime",
    ),
    (
        "instant-date-only",
        PATIENT,
        setter("meta", {"lastUpdated": "2026-11-25"}),
        "Patient.meta.lastUpdated",
        "value",
        "not a valid instant",
    ),
    (
        "wrong-resource-type",
        PATIENT,
        setter("resourceType", "Practitioner"),
        "Patient.resourceType",
        "invalid",
        "resourceType must be 'Patient'",
    ),
    ("no-resource-type", PATIENT, dropper("resourceType"), "Patient.resourceType", "required", "missing"),
    ("id-with-space", PATIENT, setter("id", "ins adulte"), "Patient.id", "value", "not a valid id"),
    ("id-too-long", PATIENT, setter("id", "x" * 65), "Patient.id", "value", "not a valid id"),
    ("id-with-slash", PATIENT, setter("id", "a/b"), "Patient.id", "value", "not a valid id"),
    (
        "number-for-string",
        PATIENT,
        name_given(["Marie", 3]),
        "Patient.name[0].given[1]",
        "structure",
        "3 is not a string",
    ),
    ("empty-string", PATIENT, name_given(["Marie", ""]), "Patient.name[0].given[1]", "value", "empty string"),
    (
        "empty-uri",
        PATIENT,
        setter("identifier", [{"system": "", "value": "1"}]),
        "Patient.identifier[0].system",
        "value",
        "empty string",
    ),
    ("empty-array", PATIENT, setter("name", []), "Patient.name", "structure", "array must not be empty"),
    ("empty-object", PATIENT, setter("name", [{}]), "Patient.name[0]", "structure", "object must not be empty"),
    ("null-value", PATIENT, setter("active", None), "Patient.active", "structure", "null"),
    ("unaligned-null", PATIENT, name_given([None, "Louise"]), "Patient.name[0].given[0]", "structure", "null"),
    (
        "control-character",
        PATIENT,
        setter("name", [{"family": "Du\x01rand"}]),
        "Patient.name[0].family",
        "value",
        "control characters",
    ),
    (
        "bad-uri",
        PATIENT,
        setter("identifier", [{"system": "urn:oid: 1.2", "value": "1"}]),
        "Patient.identifier[0].system",
        "value",
        "not a valid uri",
    ),
    (
        "fractional-integer",
        PATIENT,
        setter("multipleBirthInteger", 1.5),
        "Patient.multipleBirthInteger",
        "structure",
        "1.5 is not an integer",
    ),
    (
        "integer-out-of-range",
        PATIENT,
        setter("multipleBirthInteger", 2**31),
        "Patient.multipleBirthInteger",
        "value",
        "above the maximum",
    ),
    (
        "two-choices",
        PATIENT,
        lambda r: r.update(deceasedBoolean=True, deceasedDateTime="2020-01-01"),
        "Patient",
        "invariant",
        "only one of deceased[x]",
    ),
    (
        "extension-without-url",
        PATIENT,
        setter("extension", [{"valueString": "x"}]),
        "Patient.extension[0].url",
        "required",
        "needs a url",
    ),
    (
        "extension-without-value",
        PATIENT,
        setter("extension", [{"url": "http://x.org/e"}]),
        "Patient.extension[0]",
        "invariant",
        "ext-1",
    ),
    (
        "extension-value-and-children",
        PATIENT,
        setter(
            "extension", [{"url": "http://x.org/e", "valueCode": "a", "extension": [{"url": "b", "valueCode": "c"}]}]
        ),
        "Patient.extension[0]",
        "invariant",
        "not both",
    ),
    (
        "extension-two-values",
        PATIENT,
        setter("extension", [{"url": "http://x.org/e", "valueCode": "a", "valueBoolean": True}]),
        "Patient.extension[0]",
        "invariant",
        "only one of value[x]",
    ),
    (
        "modifier-extension-without-url",
        PATIENT,
        setter("modifierExtension", [{"valueCode": "a"}]),
        "Patient.modifierExtension[0].url",
        "required",
        "needs a url",
    ),
    (
        "bad-extension-in-twin",
        PATIENT,
        setter("_gender", {"extension": [{"url": "http://x.org/e"}]}),
        "Patient._gender.extension[0]",
        "invariant",
        "ext-1",
    ),
    (
        "twins-of-different-length",
        PATIENT,
        lambda r: r["name"][0].__setitem__("_given", [{"id": "a"}]),
        "Patient.name[0].given",
        "structure",
        "same length",
    ),
    (
        "narrative-not-xhtml",
        PATIENT,
        setter("text", {"status": "generated", "div": "<p>Marie</p>"}),
        "Patient.text.div",
        "value",
        "<div xmlns",
    ),
    (
        "narrative-script",
        PATIENT,
        setter(
            "text",
            {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml"><script>x()</script></div>'},
        ),
        "Patient.text.div",
        "value",
        "txt-1",
    ),
    (
        "narrative-event-handler",
        PATIENT,
        setter(
            "text",
            {
                "status": "generated",
                "div": '<div xmlns="http://www.w3.org/1999/xhtml"><img src="a" onerror="x()"/></div>',
            },
        ),
        "Patient.text.div",
        "value",
        "txt-1",
    ),
    (
        "contained-bad-boolean",
        PATIENT,
        setter("contained", [{"resourceType": "Patient", "id": "p", "active": "no"}]),
        "Patient.contained[0].active",
        "structure",
        "is not a boolean",
    ),
    (
        "contained-unknown-type",
        PATIENT,
        setter("contained", [{"resourceType": "Patients", "id": "p"}]),
        "Patient.contained[0].resourceType",
        "code-invalid",
        "not an R4 resource type",
    ),
    (
        "contained-not-object",
        PATIENT,
        setter("contained", ["Patient/1"]),
        "Patient.contained[0]",
        "structure",
        "not an object",
    ),
    (
        "contained-in-contained",
        PATIENT,
        setter(
            "contained", [{"resourceType": "Patient", "id": "p", "contained": [{"resourceType": "Patient", "id": "q"}]}]
        ),
        "Patient.contained[0].contained",
        "invariant",
        "dom-2",
    ),
    (
        "contained-with-version",
        PATIENT,
        setter("contained", [{"resourceType": "Patient", "id": "p", "meta": {"versionId": "1"}}]),
        "Patient.contained[0].meta.versionId",
        "invariant",
        "dom-4",
    ),
    (
        "contained-impossible-date",
        PATIENT,
        setter("contained", [{"resourceType": "Patient", "id": "p", "birthDate": "2023-02-29"}]),
        "Patient.contained[0].birthDate",
        "value",
        "day value",
    ),
    (
        "bad-status",
        DOCUMENT,
        setter("status", "final"),
        "DocumentReference.status",
        "code-invalid",
        "'final' is not one of",
    ),
    ("missing-content", DOCUMENT, dropper("content"), "DocumentReference.content", "required", "missing"),
    ("missing-status", DOCUMENT, dropper("status"), "DocumentReference.status", "required", "missing"),
    (
        "negative-size",
        DOCUMENT,
        lambda r: r["content"][0]["attachment"].__setitem__("size", -1),
        "DocumentReference.content[0].attachment.size",
        "value",
        "below the minimum 0",
    ),
    (
        "bad-base64",
        DOCUMENT,
        lambda r: r["content"][0]["attachment"].__setitem__("data", 42),
        "DocumentReference.content[0].attachment.data",
        "structure",
        "is not a base64Binary",
    ),
    (
        "reference-as-string",
        DOCUMENT,
        setter("subject", "Patient/ins-adulte"),
        "DocumentReference.subject",
        "structure",
        "is not an object",
    ),
]


@pytest.mark.parametrize(
    ("base", "mutate", "expression", "code", "words"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_mutation_is_rejected(base: dict[str, Any], mutate: Mutation, expression: str, code: str, words: str) -> None:
    resource = copy.deepcopy(base)
    mutate(resource)
    issues = validate(resource, base["resourceType"])
    matching = [i for i in issues if i["expression"] == [expression]]
    assert matching, issues
    assert matching[0]["severity"] == "error"
    assert matching[0]["code"] == code
    assert words in matching[0]["diagnostics"]
    assert matching[0]["diagnostics"].startswith(f"{expression}: ")


@pytest.mark.parametrize("base", [PATIENT, DOCUMENT], ids=["Patient", "DocumentReference"])
def test_unmutated_bases_are_valid(base: dict[str, Any]) -> None:
    assert validate(copy.deepcopy(base), base["resourceType"]) == []


@pytest.mark.parametrize(
    "resource",
    [
        # json.html: nulls align a repeating primitive with its extensions
        {"resourceType": "Patient", "name": [{"given": [None, "Louise"], "_given": [{"id": "g"}, None]}]},
        # a required primitive may be replaced by its extensions (data-absent-reason)
        {
            "resourceType": "DocumentReference",
            "_status": {
                "extension": [
                    {"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}
                ]
            },
            "content": [{"attachment": {"url": "Binary/1"}}],
        },
        # canonical elements may carry extensions, which the official schema forgets
        {
            "resourceType": "Patient",
            "meta": {"profile": ["http://hl7.org/fhir/StructureDefinition/Patient"], "_profile": [{"id": "p"}]},
        },
        # French text has no-break spaces, which the official string pattern refuses
        {"resourceType": "Patient", "name": [{"text": "Marie\u00a0Durand", "family": "Durand\u202f"}]},
        # an extension whose primitive value only has extensions
        {
            "resourceType": "Patient",
            "extension": [
                {"url": "http://x.org/e", "_valueString": {"extension": [{"url": "http://x.org/f", "valueCode": "a"}]}}
            ],
        },
        # an element named resourceType that is not a resource (ExampleScenario.instance)
        {
            "resourceType": "ExampleScenario",
            "status": "draft",
            "instance": [{"resourceId": "r1", "resourceType": "Patient"}],
        },
    ],
    ids=[
        "aligned-nulls",
        "extended-required-primitive",
        "canonical-twin",
        "no-break-spaces",
        "extended-extension-value",
        "element-named-resourceType",
    ],
)
def test_valid_r4_json_the_schema_or_r4b_would_refuse(resource: dict[str, Any]) -> None:
    assert validate(resource, resource["resourceType"]) == []


def test_every_nested_resource_is_checked_with_its_own_type() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": dict(PATIENT, active="yes")},
            {
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"text": "t"},
                    "valueQuantity": {"value": "1"},
                }
            },
            {
                "resource": {
                    "resourceType": "Parameters",
                    "parameter": [{"name": "p", "resource": dict(PATIENT, gender="F")}],
                }
            },
        ],
    }
    expressions = [i["expression"][0] for i in validate(bundle, "Bundle")]
    assert expressions == [
        "Bundle.entry[0].resource.active",
        "Bundle.entry[1].resource.valueQuantity.value",
        "Bundle.entry[2].resource.parameter[0].resource.gender",
    ]


def test_all_errors_are_reported_at_once() -> None:
    resource = dict(PATIENT, active="yes", gender="F", colour="blue")
    expressions = {i["expression"][0] for i in validate(resource, "Patient")}
    assert expressions == {"Patient.colour", "Patient.active", "Patient.gender"}
