"""Search criteria end to end on mongoeco (fhir_server.searchset over search/): every parameter
type, modifier and prefix on the edge cases of tests/search/dataset.py.

Unit twins: test_parse.py, test_compile.py, test_extract.py."""

from __future__ import annotations

import pytest

from .dataset import BASE
from .dataset import INS

CASES = [
    # string: starts-with, case- and accent-insensitive, every HumanName / Address part
    ("Patient", "name=hel", ["p1"]),
    ("Patient", "name=HÉLÈNE", ["p1"]),
    ("Patient", "family=lefevre", ["p1"]),
    ("Patient", "name=dup", ["p2", "p3", "p5"]),
    ("Patient", "name=durand", ["p2"]),  # second name
    ("Patient", "given=jean-p", ["p2"]),
    ("Patient", "name=dupont marie", ["p5"]),  # HumanName.text
    ("Patient", "family:exact=Lefèvre", ["p1"]),
    ("Patient", "family:exact=lefevre", []),
    ("Patient", "family:contains=fèv", ["p1"]),
    ("Patient", "address=saint-eti", ["p1"]),
    ("Patient", "address=eglise", []),  # starts-with on the whole line
    ("Patient", "address:contains=eglise", ["p1"]),
    ("Patient", "address-postalcode=420", ["p1"]),
    ("Organization", "name=hopital", ["org1"]),
    ("RelatedPerson", "name=luc", ["rp1"]),
    # token
    ("Patient", "gender=female", ["p1", "p3"]),
    ("Patient", "gender=|female", ["p1", "p3"]),
    ("Patient", f"identifier={INS}|279035121518989", ["p1"]),
    ("Patient", "identifier=279035121518989", ["p1"]),
    ("Patient", f"identifier={INS}|", ["p1"]),
    ("Patient", "identifier=|279035121518989", []),
    ("Patient", "identifier:of-type=http://ty|INS-NIR|279035121518989", ["p1"]),
    ("Patient", "gender:not=female", ["p2", "p4", "p5"]),  # :not includes missing values
    ("Patient", "gender:not=female,male", ["p4", "p5"]),  # none of the values
    ("Patient", "_id:not=p1,p2", ["p3", "p4", "p5"]),
    ("Patient", "email=helene@example.org", ["p1"]),
    ("Patient", "telecom=helene@example.org", ["p1"]),
    ("Patient", "active=true", ["p1"]),
    ("Patient", "deceased=true", ["p3"]),
    ("Patient", "deceased=false", ["p1", "p2", "p4", "p5"]),
    ("Patient", "_tag=http://t|vip", ["p1"]),
    ("Patient", "_id=p2,p4", ["p2", "p4"]),
    ("AllergyIntolerance", "code:text=penicil", ["a1"]),
    ("AllergyIntolerance", "code:text=allergie a la", ["a1"]),
    ("AllergyIntolerance", "manifestation:text=oedeme", ["a1"]),
    ("AllergyIntolerance", "criticality=high", ["a2"]),
    ("DocumentReference", "type=http://loinc.org|34112-3", ["d1", "d3"]),
    ("DocumentReference", "type=http://loinc.org|34112-3,http://loinc.org|11502-2", ["d1", "d2", "d3"]),
    ("DocumentReference", "type=34112-3&status=current&contenttype=application/pdf", ["d1", "d3"]),
    ("DocumentReference", "security-label=N", ["d1"]),
    ("PractitionerRole", "role=https://mos.esante.gouv.fr/NOS/TRE_G15|10", ["role1"]),
    ("AuditEvent", "type=110112", ["ae1"]),
    # date: precision, prefixes, time zones
    ("Patient", "birthdate=1980", ["p2", "p3"]),
    ("Patient", "birthdate=1980-06", ["p3"]),
    ("Patient", "birthdate=1979-03-12", ["p1"]),
    ("Patient", "birthdate=ne1980", ["p1", "p4", "p5"]),
    ("Patient", "birthdate=ge1980", ["p2", "p3", "p4"]),
    ("Patient", "birthdate=gt1980", ["p4"]),
    ("Patient", "birthdate=lt1980", ["p1", "p5"]),
    ("Patient", "birthdate=le1979-12", ["p1", "p5"]),
    ("Patient", "birthdate=sa1979", ["p2", "p3", "p4"]),
    ("Patient", "birthdate=eb1980-01-01", ["p1", "p5"]),
    ("Patient", "birthdate=ge1979&birthdate=lt1980", ["p1", "p5"]),
    ("Patient", "birthdate=ap1980-06-15", ["p1", "p2", "p3", "p5"]),  # ±10% of the gap to now
    ("DocumentReference", "date=2020-06-01", ["d1"]),  # 10:00+02:00 is 08:00Z on June 1st
    ("DocumentReference", "date=2020-12-31", ["d2"]),  # 2021-01-01T00:30+01:00 is 2020-12-31T23:30Z
    ("DocumentReference", "date=2021", []),
    ("DocumentReference", "date=ge2021-01-01T00:00:00%2B01:00", ["d2"]),
    ("DocumentReference", "date=lt2020-06-01T10:00:00%2B02:00", []),
    ("DocumentReference", "date=2020-06-01T10:00:00%2B02:00", ["d1"]),
    ("DocumentReference", "period=2020-02", []),
    ("DocumentReference", "period=ge2020-02", ["d3"]),
    ("DocumentReference", "period=sa2019", ["d3"]),
    ("AllergyIntolerance", "onset=2015-05", ["a1"]),
    ("AllergyIntolerance", "onset=2012", []),  # one value must satisfy both bounds
    ("Patient", "_lastUpdated=2024-03-01", ["p3"]),
    ("Patient", "_lastUpdated=gt2024-01-15", ["p2", "p3"]),
    ("Patient", "death-date=2021", ["p3"]),
    # reference
    ("DocumentReference", "subject=Patient/p1", ["d1", "d2"]),
    ("DocumentReference", "subject=p1", ["d1", "d2"]),
    ("DocumentReference", "subject:Patient=p2", ["d3"]),
    ("DocumentReference", "subject:Practitioner=p1", []),
    ("DocumentReference", f"subject={BASE}/Patient/p1", ["d1", "d2"]),
    ("DocumentReference", "patient=p1", ["d1", "d2"]),
    ("DocumentReference", "author=Patient/p1", ["d2"]),
    ("Patient", "general-practitioner:identifier=urn:oid:1.2.250.1.71.4.2.1|810002", ["p2"]),
    ("Patient", "general-practitioner=Practitioner/dr1,Practitioner/dr2", ["p1", "p2"]),
    ("AuditEvent", "patient=p1", ["ae1"]),
    ("AuditEvent", "agent=Practitioner/dr1", ["ae1"]),
    # number, quantity, uri, composite
    ("RiskAssessment", "probability=0.5", ["r1"]),
    ("RiskAssessment", "probability=gt0.4", ["r1"]),
    ("RiskAssessment", "probability=0.3", []),
    ("RiskAssessment", "probability=lt0.01", []),
    ("Observation", "value-quantity=5.4", ["o1"]),
    ("Observation", "value-quantity=5", ["o1"]),  # 5 means [4.5, 5.5)
    ("Observation", "value-quantity=5.40", ["o1"]),
    ("Observation", "value-quantity=5.41", []),
    ("Observation", "value-quantity=gt5|http://unitsofmeasure.org|mg", ["o1"]),
    ("Observation", "value-quantity=5.4||mg", ["o1"]),
    ("Observation", "value-quantity=5.4||g", []),
    ("Observation", "value-quantity=ge100||g/L", ["o2"]),
    ("Observation", "value-quantity=ap95", ["o2"]),
    ("Patient", "_profile=http://p/Patient|1.0", ["p1"]),
    ("Patient", "_profile:below=http://p/", ["p1"]),
    ("Patient", "_source=http://a/b/c", ["p1"]),
    ("Patient", "_source:above=http://a/b/c/d/e", ["p1"]),
    ("Patient", "_source:above=http://a/x", []),
    ("DocumentReference", "relationship=replaces$DocumentReference/d0", ["d1"]),
    ("DocumentReference", "relationship=appends$DocumentReference/d0", []),
    ("DocumentReference", r"relationship=replaces$d0", ["d1"]),
    # :missing on every type
    ("Patient", "name:missing=true", ["p4"]),
    ("Patient", "name:missing=false", ["p1", "p2", "p3", "p5"]),
    ("Patient", "gender:missing=true", ["p5"]),
    ("Patient", "birthdate:missing=true", []),
    ("Patient", "general-practitioner:missing=true", ["p3", "p4", "p5"]),
    ("Patient", "_source:missing=false", ["p1"]),
    ("Observation", "value-quantity:missing=false", ["o1", "o2"]),
    ("RiskAssessment", "probability:missing=true", []),
    ("DocumentReference", "relationship:missing=false", ["d1"]),
    ("Patient", "_id:missing=true", []),
    # chains (up to 3 levels) and reverse chains (nested)
    ("DocumentReference", f"subject:Patient.identifier={INS}|279035121518989", ["d1", "d2"]),
    ("DocumentReference", "subject.name=dupont", ["d3"]),
    ("DocumentReference", "subject:Patient.organization.name=service", ["d1", "d2"]),
    ("DocumentReference", "subject:Patient.organization.partof.name=hopital", ["d1", "d2"]),
    ("DocumentReference", "subject:Patient.organization.partof.name=nowhere", []),
    ("PractitionerRole", "practitioner.identifier=810001", ["role1"]),
    ("Patient", "_has:DocumentReference:subject:type=34112-3", ["p1", "p2"]),
    ("Patient", "_has:DocumentReference:subject:type=11502-2", ["p1"]),
    ("Patient", "_has:AllergyIntolerance:patient:criticality=high", ["p2"]),
    ("Organization", "_has:Patient:organization:_has:DocumentReference:subject:type=11502-2", ["org2"]),
    ("Practitioner", "_has:PractitionerRole:practitioner:organization.partof=Organization/org1", ["dr1"]),
    # AND of repeated parameters, OR of commas
    ("Patient", "name=jean&name=dur", ["p2"]),
    ("Patient", "name=zoe,marie", ["p3"]),
    ("Patient", "name=zoe,dupont marie", ["p3", "p5"]),
    ("Patient", r"name=dupont\,x", []),
    ("Patient", "name=&gender=male", ["p2"]),  # an empty parameter is ignored
    ("Organization", "name=service de cardiologie", ["org2"]),
    ("Organization", "name=" + "service de cardiologie" + " x" * 10, []),  # longer than the prefix table: regex
    ("Organization", "name=centre hospitalier universitaire de saint", ["org3"]),
    ("Organization", "name=centre hospitalier universitaire de saint-etienne", ["org3"]),
    ("Organization", "name=centre hospitalier universitaire de sainte", []),
    ("Organization", "name=SERVICE de cardiologiE", ["org2"]),
]


@pytest.mark.parametrize("type_, query, expected", CASES, ids=[f"{t}?{q}" for t, q, _ in CASES])
def test_criteria(loaded, type_, query, expected):
    b = loaded.bundle(type_, query)
    got = sorted(e["fullUrl"].rsplit("/", 1)[1] for e in b["entry"] if e["search"]["mode"] == "match")
    assert got == sorted(expected)
    assert b["total"] == len(expected)


def test_deleted_never_appear(loaded):
    assert "Patient/gone" not in loaded.ids("Patient", "family=dupont&_count=100")
    assert loaded.bundle("Patient", "gender=male")["total"] == 1


def test_entries_are_stored_resources(loaded):
    b = loaded.bundle("Patient", "_id=p1")
    entry = b["entry"][0]
    assert b["resourceType"] == "Bundle" and b["type"] == "searchset"
    assert entry["fullUrl"] == f"{BASE}/Patient/p1"
    assert entry["resource"]["name"][0]["family"] == "Lefèvre"
    assert entry["search"] == {"mode": "match"}
    assert "idx" not in entry["resource"] and "acl" not in entry["resource"]


def test_system_search(loaded):
    assert loaded.ids(["Patient", "Practitioner"], "name=martin") == ["Practitioner/dr1"]
    b = loaded.bundle(["Patient", "Practitioner", "Organization"], "_lastUpdated=lt2024&_count=3")
    assert b["total"] == 2 + 2 + 3  # p4 + p5 (ts 2023), practitioners, organizations
    seen, url = [], None
    while True:
        page = b if url is None else loaded.bundle(["Patient", "Practitioner", "Organization"], _query(url))
        seen += [e["fullUrl"] for e in page["entry"]]
        nxt = [link["url"] for link in page["link"] if link["relation"] == "next"]
        if not nxt:
            break
        url = nxt[0]
    assert len(seen) == len(set(seen)) == b["total"]
    assert b["link"][0]["url"].startswith(f"{BASE}?")


def _query(url: str) -> str:
    return url.split("?", 1)[1]
