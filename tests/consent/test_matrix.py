"""consent.matrix: the packaged rows (profession x document -> readable), the file checks at load,
specialties and structured resources. Policy = decide with the matrix: test_policy.py; over HTTP:
tests/dmp/test_emergency.py, GET /dmp/access-matrix in tests/dmp/test_matrix_endpoint.py."""

from __future__ import annotations

import copy
import json
import re

import pytest

from consent.engine import decide
from consent.engine import policy
from consent.matrix import MATRIX_FILE
from consent.matrix import MatrixError
from consent.matrix import load
from consent.matrix import parse
from consent.predicate import evaluate
from consent.requester import Requester
from consent.state import Directive
from consent.state import PatientState

P = "Patient/p"
MATRIX = load()
RAW = json.loads(MATRIX_FILE.read_text())
RECORD = PatientState(P, grants=frozenset({Directive("Practitioner/x", "Consent/grant")}))


def professional(profession, specialty=None):
    return Requester(
        "practitioner",
        "x",
        "Practitioner/x",
        profession=profession,
        specialty=specialty,
        identities=frozenset({"Practitioner/x"}),
    )


def item(resource_type="DocumentReference", doc_class="10", doc_type="34112-3"):
    document = resource_type == "DocumentReference"
    return {
        "type": resource_type,
        "patients": [P],
        "patient": P,
        "labels": [],
        "authors": [],
        "docClass": [doc_class] if document else [],
        "docType": [doc_type] if document else [resource_type],
    }


#: profession -> what it reads through a grant: (resource type, class, type) -> readable
TABLE = {
    "10": {
        ("DocumentReference", "10", "34112-3"): True,
        ("DocumentReference", "90", "ATTEST-RESID"): False,
        ("DocumentReference", "60", "REMB"): True,
        ("DocumentReference", "10", "68599-0"): True,
        ("AllergyIntolerance", "", ""): True,
        ("RelatedPerson", "", ""): True,
        ("Patient", "", ""): True,
        ("Consent", "", ""): False,
        ("Communication", "", ""): False,
    },
    "40": {
        ("DocumentReference", "10", "34112-3"): True,
        ("DocumentReference", "11", "68599-0"): False,
        ("DocumentReference", "10", "83901-9"): False,
        ("DocumentReference", "11", "75496-0"): False,
        ("DocumentReference", "10", "83981-1"): False,
        ("DocumentReference", "44", "80788-3"): False,
        ("DocumentReference", "90", "ATTEST-RESID"): False,
        ("AllergyIntolerance", "", ""): True,
    },
    "21": {
        ("DocumentReference", "42", "57833-6"): True,
        ("DocumentReference", "10", "11502-2"): True,
        ("DocumentReference", "10", "34112-3"): False,
        ("AllergyIntolerance", "", ""): True,
        ("RelatedPerson", "", ""): False,
        ("Patient", "", ""): True,
    },
    "60": {
        ("DocumentReference", "44", "18776-5"): True,
        ("DocumentReference", "10", "34112-3"): False,
        ("DocumentReference", "42", "PRESC-INF"): True,
        ("AllergyIntolerance", "", ""): True,
    },
    "70": {
        ("DocumentReference", "42", "PRESC-KINE"): True,
        ("DocumentReference", "42", "PRESC-INF"): False,
        ("DocumentReference", "11", "60591-5"): True,
    },
    "26": {
        ("DocumentReference", "11", "60591-5"): False,
        ("AllergyIntolerance", "", ""): False,
        ("Patient", "", ""): True,
    },
    None: {("DocumentReference", "11", "60591-5"): False, ("Patient", "", ""): True},
    "99": {("DocumentReference", "11", "60591-5"): False, ("Patient", "", ""): True},
}
CELLS = [(profession, key, allowed) for profession, row in TABLE.items() for key, allowed in row.items()]


@pytest.mark.parametrize(("profession", "key", "allowed"), CELLS)
def test_packaged_rows(profession, key, allowed):
    requester, acl = professional(profession), item(*key)
    decision = decide(requester, RECORD, acl, matrix=MATRIX)
    assert decision.allowed is allowed, decision
    assert evaluate(policy(requester, {P: RECORD}, key[0], matrix=MATRIX), acl) is allowed
    if not allowed and key[0] in ("DocumentReference", "AllergyIntolerance"):
        assert decision.rule.endswith("access matrix")


def test_provisional_rows_say_so():
    assert RAW["status"] == "provisional"
    sourced = [row for row in RAW["rows"] if not row.get("provisional")]
    assert {row["profession"] for row in sourced} == {"10"}
    assert all(row["label"] for row in RAW["rows"])


def test_specialty_rows_apply_to_that_specialty_only():
    raw = copy.deepcopy(RAW)
    raw["rows"].append({"profession": "10", "specialty": "SM26", "effect": "deny", "docType": ["68599-0"]})
    matrix, acl = parse(raw), item(doc_type="68599-0")
    assert not evaluate(matrix(professional("10", "SM26")), acl)
    assert evaluate(matrix(professional("10", "SM54")), acl)
    assert evaluate(matrix(professional("10")), acl)


def broken(path, value):
    raw = copy.deepcopy(RAW)
    *parents, last = path
    target = raw
    for key in parents:
        target = target[key]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return raw


DELETE = object()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (broken(("rows", 0, "profession"), "99"), "rows[0]: profession '99' is not a TRE_G15 code in force"),
        (broken(("rows", 0, "profession"), 10), "rows[0]: profession 10 is not a TRE_G15 code"),
        (broken(("rows", 1, "effect"), "allow"), "rows[1]: effect must be 'permit' or 'deny'"),
        (broken(("rows", 1, "docClass"), ["10"]), "rows[1]: give exactly one of all, docClass, docType"),
        (broken(("rows", 1, "docType"), DELETE), "rows[1]: give exactly one of all, docClass, docType"),
        (broken(("rows", 1, "docType"), []), "rows[1]: docType must be a non-empty list of codes"),
        (broken(("rows", 1, "docType"), "ATTEST-RESID"), "rows[1]: docType must be a non-empty list of codes"),
        (broken(("rows", 0, "all"), False), "rows[0]: all must be true"),
        (broken(("rows", 0, "specialty"), ""), "rows[0]: specialty must be a TRE_R38 code"),
        (broken(("rows", 0, "provisional"), "yes"), "rows[0]: provisional must be a bool"),
        (broken(("rows", 0, "docTypes"), ["x"]), "rows[0]: unknown key(s) docTypes"),
        (broken(("rows", 2), "row"), "rows[2]: must be a JSON object"),
        (broken(("rows",), {}), "rows must be a list"),
        (broken(("rows",), DELETE), "missing 'rows'"),
        (broken(("comment",), "x"), "unknown key(s) comment"),
        (broken(("structured", "AllergyIntolerance"), {"docClass": "11"}), "structured.AllergyIntolerance"),
        (
            broken(("structured", "DocumentReference"), {"docClass": "11", "docType": "x"}),
            "structured.DocumentReference",
        ),
        (broken(("unfiltered",), "Patient"), "unfiltered: must be a list of resource type names"),
        (broken(("unfiltered",), ["Patient", "AllergyIntolerance"]), "unfiltered: AllergyIntolerance cannot be both"),
        ([], "must be a JSON object"),
    ],
)
def test_malformed_files_are_refused(raw, message):
    with pytest.raises(MatrixError, match=re.escape(message)):
        parse(raw)


def test_unreadable_files_are_refused(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(MatrixError, match=r"bad\.json"):
        load(tmp_path / "bad.json")
    with pytest.raises(MatrixError, match=r"missing\.json"):
        load(tmp_path / "missing.json")
