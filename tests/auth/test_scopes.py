"""SMART scopes: parsing, the matrix of kinds, contexts and interactions, and ``require``.
Integration twin: tests/auth/test_bearer.py builds Requesters from real tokens."""

from __future__ import annotations

import pytest

from consent.requester import Requester
from fhir_server.auth.scopes import ResourceScope
from fhir_server.auth.scopes import allows
from fhir_server.auth.scopes import covers
from fhir_server.auth.scopes import for_kind
from fhir_server.auth.scopes import parse
from fhir_server.auth.scopes import require
from fhir_server.errors import Forbidden


@pytest.mark.parametrize(
    ("scope", "parsed"),
    [
        ("patient/*.rs", ResourceScope("patient", "*", frozenset("rs"))),
        ("user/Patient.cruds", ResourceScope("user", "Patient", frozenset("cruds"))),
        ("system/*.*", ResourceScope("system", "*", frozenset("cruds"))),
        ("patient/Observation.read", ResourceScope("patient", "Observation", frozenset("rs"))),
        ("user/Consent.write", ResourceScope("user", "Consent", frozenset("cud"))),
        (
            "user/Observation.rs?category=laboratory",
            ResourceScope("user", "Observation", frozenset("rs"), "category=laboratory"),
        ),
        ("openid", None),
        ("launch/patient", None),
        ("fhirUser", None),
        ("user/Patient.sr", None),  # v2 letters go in cruds order
        ("user/Patient.x", None),
        ("user/Patient.", None),
        ("user/patient.r", None),
        ("admin/Patient.r", None),
    ],
)
def test_parse(scope: str, parsed: ResourceScope | None) -> None:
    assert parse(scope) == parsed


# (scopes, kind, type, interaction, allowed)
MATRIX = [
    # v2 letters and the interaction -> letter map
    ("user/Patient.r", "practitioner", "Patient", "read", True),
    ("user/Patient.r", "practitioner", "Patient", "vread", True),
    ("user/Patient.r", "practitioner", "Patient", "history-instance", True),
    ("user/Patient.r", "practitioner", "Patient", "search", False),
    ("user/Patient.r", "practitioner", "Patient", "history-type", False),
    ("user/Patient.s", "practitioner", "Patient", "search-type", True),
    ("user/Patient.s", "practitioner", "Patient", "history-type", True),
    ("user/Patient.c", "practitioner", "Patient", "create", True),
    ("user/Patient.c", "practitioner", "Patient", "update", False),
    ("user/Patient.u", "practitioner", "Patient", "update", True),
    ("user/Patient.u", "practitioner", "Patient", "patch", True),
    ("user/Patient.d", "practitioner", "Patient", "delete", True),
    ("user/Patient.cruds", "practitioner", "Observation", "read", False),
    ("user/*.cruds", "practitioner", "Observation", "delete", True),
    # v1
    ("user/Patient.read", "practitioner", "Patient", "search", True),
    ("user/Patient.read", "practitioner", "Patient", "create", False),
    ("user/Patient.write", "practitioner", "Patient", "patch", True),
    ("user/Patient.write", "practitioner", "Patient", "read", False),
    ("user/*.*", "practitioner", "Consent", "delete", True),
    # contexts by kind
    ("patient/*.rs", "patient", "Observation", "search", True),
    ("patient/*.rs", "related", "Observation", "read", True),
    ("user/*.rs", "patient", "Observation", "read", True),
    ("patient/*.rs", "practitioner", "Observation", "read", False),
    ("system/*.rs", "practitioner", "Observation", "read", False),
    ("system/*.rs", "patient", "Observation", "read", False),
    ("system/*.rs", "system", "Observation", "read", True),
    ("user/*.rs", "system", "Observation", "read", False),
    ("patient/*.rs", "system", "Observation", "read", False),
    # query-restricted scopes grant nothing; non-resource scopes are ignored
    ("user/Observation.rs?category=laboratory", "practitioner", "Observation", "search", False),
    ("openid fhirUser launch/patient offline_access", "patient", "Patient", "read", False),
    ("openid user/Patient.rs", "practitioner", "Patient", "read", True),
    ("", "practitioner", "Patient", "read", False),
]


@pytest.mark.parametrize(("scopes", "kind", "resource_type", "interaction", "allowed"), MATRIX)
def test_allows(scopes: str, kind: str, resource_type: str, interaction: str, allowed: bool) -> None:
    assert allows(frozenset(scopes.split()), kind, resource_type, interaction) is allowed  # type: ignore[arg-type]


def test_unknown_interaction() -> None:
    with pytest.raises(ValueError, match="unknown interaction"):
        allows(frozenset({"user/*.*"}), "practitioner", "Patient", "history")


def test_require_names_the_scope() -> None:
    require(Requester("practitioner", "p", scopes=frozenset({"user/Patient.rs"})), "Patient", "read")
    with pytest.raises(Forbidden) as refused:
        require(Requester("patient", "x", scopes=frozenset({"patient/*.rs"})), "Consent", "create")
    assert "patient/Consent.c or user/Consent.c" in refused.value.diagnostics
    assert refused.value.issues[0]["code"] == "forbidden"
    with pytest.raises(Forbidden, match=r"system/Patient\.d"):
        require(Requester("system", "c", scopes=frozenset({"system/*.rs"})), "Patient", "delete")


@pytest.mark.parametrize(
    ("granted", "requested", "covered"),
    [
        ("system/*.rs", "system/Patient.r", True),
        ("system/*.rs", "system/*.rs", True),
        ("system/Patient.rs", "system/*.rs", False),
        ("system/*.rs", "system/Patient.c", False),
        ("system/*.read", "system/Patient.rs", True),
        ("user/*.rs", "patient/*.rs", False),
        ("user/*.rs", "user/Observation.rs?category=laboratory", False),
        ("openid fhirUser", "openid", True),
        ("openid", "offline_access", False),
        ("user/*.*", "user/Consent.cud", True),
    ],
)
def test_covers(granted: str, requested: str, covered: bool) -> None:
    assert covers(granted.split(), requested) is covered


def test_for_kind() -> None:
    scopes = ["openid", "launch/patient", "patient/*.rs", "user/*.rs", "system/*.rs"]
    assert for_kind(scopes, "practitioner") == ["openid", "launch/patient", "user/*.rs"]
    assert for_kind(scopes, "patient") == ["openid", "launch/patient", "patient/*.rs", "user/*.rs"]
    assert for_kind(scopes, "system") == ["openid", "launch/patient", "system/*.rs"]
