"""The FHIRPath subset of R4 SearchParameter expressions (search.fhirpath)."""

from __future__ import annotations

import pytest

from search.errors import SearchError
from search.fhirpath import Step
from search.fhirpath import parse


def test_union_and_paths():
    assert parse("Patient.name | Person.name") == [
        [Step("child", "Patient"), Step("child", "name")],
        [Step("child", "Person"), Step("child", "name")],
    ]


@pytest.mark.parametrize(
    "expr",
    [
        "(Observation.value as Quantity)",
        "Observation.value.as(Quantity)",
        "Observation.value as Quantity",
    ],
)
def test_as_forms(expr):
    assert parse(expr) == [[Step("child", "Observation"), Step("child", "value"), Step("as", "Quantity")]]


def test_where_forms():
    assert parse("Account.subject.where(resolve() is Patient)")[0][-1] == Step("is", "Patient")
    assert parse("Patient.telecom.where(system='email')")[0][-1] == Step("eq", "system", "email")
    steps = parse("QuestionnaireResponse.item.where(hasExtension('http://x')).answer.value.ofType(Reference)")[0]
    assert Step("hasext", "http://x") in steps and steps[-1] == Step("as", "Reference")


def test_extension_and_index():
    assert parse("Patient.extension('http://e')")[0][-1] == Step("ext", "http://e")
    assert parse("Bundle.entry[0].resource")[0][2] == Step("index", "0")


@pytest.mark.parametrize("bad", ["Patient.name.first()", "Patient.(", "%resource.x", "Patient.name and x"])
def test_unsupported(bad):
    with pytest.raises(SearchError):
        parse(bad)
