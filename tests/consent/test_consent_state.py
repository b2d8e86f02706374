"""fhir_server.consent_loader on the configured store (SQLite, or MongoDB with MONGODB_URI):
identities and consent states read from stored resources, with the French examples. Pure rules: test_state.py,
test_engine.py.
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

import pytest

from consent.attributes import access_attributes
from consent.engine import decide
from consent.engine import policy
from consent.predicate import evaluate
from consent.requester import Requester
from consent.state import Directive
from fhir_server.consent_loader import enrich
from fhir_server.consent_loader import load_states
from fhir_server.indexing import index_resource
from fhir_server.storage import no_policy
from fhir_server.storage import open_repository
from search.plan import TRUE
from search.plan import Attr
from tests.support import app_config

NOW = datetime(2026, 11, 25, 19, 0, tzinfo=UTC)
ADULT, MINOR = "Patient/ins-adulte", "Patient/ins-mineur"


def store(repo, *resources):
    """Write ``resources`` as the server does (versions, search values, access attributes, actor links)."""
    for resource in resources:
        repo.write(resource["resourceType"], resource["id"], resource, method="PUT")


@pytest.fixture
def db(fr, tmp_path):
    repo = open_repository(app_config(tmp_path), index_resource)
    store(repo, *fr.values())
    store(
        repo,
        {
            "resourceType": "PractitionerRole",
            "id": "urgentiste-chu",
            "practitioner": {"reference": "Practitioner/urgentiste"},
            "organization": {"reference": "Organization/chu-exemple"},
        },
        {
            "resourceType": "PractitionerRole",
            "id": "urgentiste-ancien",
            "active": False,
            "practitioner": {"reference": "Practitioner/urgentiste"},
            "organization": {"reference": "Organization/ancienne"},
        },
    )
    yield repo
    repo.drop()
    repo.close()


def practitioner(ref):
    return Requester("practitioner", ref, ref)


def test_enrich_a_practitioner_with_roles_organizations_and_profession(db):
    requester = enrich(db, practitioner("Practitioner/medecin-traitant"))
    assert requester.identities == {
        "Practitioner/medecin-traitant",
        "PractitionerRole/medecin-traitant-role",
        "Organization/cabinet-lambert",
    }
    assert (requester.profession, requester.specialty) == ("10", "SM54")


def test_enrich_a_practitioner_role(db):
    requester = enrich(db, practitioner("PractitionerRole/infirmier-role"))
    assert requester.identities == {"PractitionerRole/infirmier-role", "Practitioner/infirmier"}
    assert requester.profession == "60"


def test_inactive_roles_give_no_organization(db):
    assert enrich(db, practitioner("Practitioner/urgentiste")).identities == {
        "Practitioner/urgentiste",
        "PractitionerRole/urgentiste-chu",
        "Organization/chu-exemple",
    }
    inactive = enrich(db, practitioner("PractitionerRole/urgentiste-ancien"))
    assert inactive.identities == {"PractitionerRole/urgentiste-ancien", "Practitioner/urgentiste"}


def test_enrich_keeps_the_token_profession_without_a_directory_one(db):
    requester = enrich(db, Requester("practitioner", "x", "Practitioner/inconnu", profession="21"))
    assert (requester.identities, requester.profession) == (frozenset({"Practitioner/inconnu"}), "21")


def test_enrich_patients_and_systems(db):
    assert enrich(db, Requester("patient", "p", ADULT)).identities == {ADULT}
    system = Requester("system", "batch")
    assert enrich(db, system) == system


def test_attending_physician_finds_their_patients(db):
    states = load_states(db, enrich(db, practitioner("Practitioner/medecin-traitant")), now=NOW)
    assert set(states) == {ADULT}
    assert states[ADULT].general_practitioners == {"Practitioner/medecin-traitant"}
    assert len(states[ADULT].blocks) == 1 and len(states[ADULT].objections) == 2


def test_a_former_attending_physician_loads_a_state_that_gives_nothing(db, fr):
    """Links are never removed: the old link loads the record, whose state no longer names them."""
    store(db, fr["Patient-ins-adulte"] | {"generalPractitioner": [{"reference": "Practitioner/successeur"}]})
    former = enrich(db, practitioner("Practitioner/medecin-traitant"))
    states = load_states(db, former, now=NOW)
    assert set(states) == {ADULT} and states[ADULT].general_practitioners == {"Practitioner/successeur"}
    unauthored = {"resourceType": "AllergyIntolerance", "patient": {"reference": ADULT}}
    acl = access_attributes("AllergyIntolerance", unauthored, [ADULT])
    assert not decide(former, states[ADULT], acl, now=NOW).allowed
    assert set(load_states(db, enrich(db, practitioner("Practitioner/successeur")), now=NOW)) == {ADULT}


def test_granted_practitioner_finds_the_record_and_the_grant(db):
    states = load_states(db, enrich(db, practitioner("PractitionerRole/infirmier-role")), now=NOW)
    assert states[ADULT].grant_for({"Practitioner/infirmier"}) == Directive(
        "Practitioner/infirmier", "Consent/autorisation-praticien"
    )
    early = load_states(db, enrich(db, practitioner("Practitioner/infirmier")), now=datetime(2026, 10, 1, tzinfo=UTC))
    assert set(early) == {ADULT} and not early[ADULT].grant_for({"Practitioner/infirmier"})


def test_organization_grant_reaches_its_members(db):
    requester = enrich(db, practitioner("Practitioner/urgentiste"))
    states = load_states(db, requester, now=NOW)
    directive = states[ADULT].grant_for(requester.identities)
    assert directive is not None and directive.consent == "Consent/autorisation-etablissement"


def test_blocked_practitioner_gets_the_block(db):
    states = load_states(db, enrich(db, practitioner("Practitioner/praticien-bloque")), now=NOW)
    directive = states[ADULT].block_for({"Practitioner/praticien-bloque"})
    assert directive is not None and directive.consent == "Consent/blocage-praticien"


def test_authors_find_the_records_they_fed(db):
    assert set(load_states(db, enrich(db, practitioner("Practitioner/biologiste")), now=NOW)) == {ADULT}


def test_nested_actors_are_found(db, fr):
    consent = fr["Consent-autorisation-praticien"] | {"id": "imbrique", "patient": {"reference": MINOR}}
    consent["provision"] = {
        "type": "deny",
        "provision": [
            {
                "type": "permit",
                "provision": [{"type": "deny", "actor": [{"reference": {"reference": "Practitioner/lointain"}}]}],
            }
        ],
    }
    store(db, consent)
    states = load_states(db, practitioner("Practitioner/lointain"), now=NOW)
    directive = states[MINOR].block_for({"Practitioner/lointain"})
    assert directive is not None and directive.consent == "Consent/imbrique"


def test_legal_representative_gets_the_minor(db):
    states = load_states(db, Requester("related", "r", "RelatedPerson/representant-legal"), now=NOW)
    assert set(states) == {MINOR}
    assert states[MINOR].guardians == {"RelatedPerson/representant-legal"}
    contact = load_states(db, Requester("related", "c", "RelatedPerson/contact-urgence"), now=NOW)
    assert set(contact) == {ADULT} and not contact[ADULT].guardians


def test_patient_gets_their_record(db):
    assert set(load_states(db, Requester("patient", "p", MINOR), now=NOW)) == {MINOR}


def test_strangers_get_only_what_is_asked(db):
    stranger = practitioner("Practitioner/inconnu")
    assert load_states(db, stranger, now=NOW) == {}
    assert set(load_states(db, stranger, [MINOR, "Patient/absent", "Organization/x"], now=NOW)) == {MINOR}
    doctor = enrich(db, practitioner("Practitioner/medecin-traitant"))
    assert set(load_states(db, doctor, [MINOR], now=NOW, discover=False)) == {MINOR}


def test_a_consent_change_counts_on_the_next_load(db, fr):
    doctor = enrich(db, practitioner("Practitioner/medecin-traitant"))
    assert not load_states(db, doctor, now=NOW)[ADULT].block_for(doctor.identities)
    block = fr["Consent-blocage-praticien"] | {"id": "blocage-mt"}
    block["provision"]["actor"][0]["reference"]["reference"] = "Organization/cabinet-lambert"
    store(db, block)
    directive = load_states(db, doctor, now=NOW)[ADULT].block_for(doctor.identities)
    assert directive is not None and directive.consent == "Consent/blocage-mt"
    db.write("Consent", "blocage-mt", None, method="DELETE")
    assert not load_states(db, doctor, now=NOW)[ADULT].block_for(doctor.identities)


def test_closed_or_deleted_records(db, fr):
    store(db, fr["Patient-ins-adulte"] | {"active": False})
    assert not load_states(db, Requester("patient", "p", ADULT), now=NOW)[ADULT].open
    db.write("Patient", "ins-adulte", None, method="DELETE")
    assert load_states(db, Requester("patient", "p", ADULT), now=NOW) == {}


@pytest.mark.parametrize(
    "requester",
    [
        practitioner("Practitioner/medecin-traitant"),
        practitioner("Practitioner/infirmier"),
        practitioner("Practitioner/urgentiste"),
        practitioner("Practitioner/praticien-bloque"),
        practitioner("Practitioner/biologiste"),
        practitioner("Practitioner/inconnu"),
        Requester("practitioner", "u", "Practitioner/urgentiste", mode="bris_de_glace", reason="coma"),
        Requester("patient", "p", ADULT),
        Requester("patient", "m", MINOR),
        Requester("related", "r", "RelatedPerson/representant-legal"),
        Requester("system", "batch"),
    ],
)
def test_the_loaded_policy_selects_what_decide_allows(db, requester):
    """End to end on the store: states loaded, policy run by the store (as a query condition and as
    the read policy), each resource decided."""
    requester = enrich(db, requester)
    states = load_states(db, requester, now=NOW)
    names = db.types()
    assert {"Patient", "Consent", "DocumentReference", "PractitionerRole"} <= set(names)
    for name in names:
        docs = db.find(name, TRUE, no_policy)
        assert docs
        allowed = {d.id for d in docs if decide(requester, states.get(d.acl.get("patient") or ""), d.acl).allowed}
        selected = policy(requester, states, name)
        assert {d.id for d in docs if evaluate(selected, d.acl)} == allowed
        assert {d.id for d in db.find(name, Attr(selected), no_policy)} == allowed
        assert {d.id for d in db.find(name, TRUE, lambda type_, selected=selected: selected)} == allowed
        assert db.count(name, TRUE, lambda type_, selected=selected: selected) == len(allowed)


def test_what_each_caller_sees_of_the_adult_documents(db):
    def visible(requester):
        requester = enrich(db, requester)
        states = load_states(db, requester, now=NOW)
        return {d.id for d in db.find("DocumentReference", TRUE, lambda type_: policy(requester, states, type_))}

    everything = {"compte-rendu", "directives-anticipees", "invisible-patient", "masque-ps"}
    assert visible(practitioner("Practitioner/medecin-traitant")) == everything
    assert visible(practitioner("Practitioner/infirmier")) == everything - {"masque-ps"}
    assert visible(practitioner("Practitioner/biologiste")) == {"invisible-patient", "masque-ps"}
    assert visible(practitioner("Practitioner/praticien-bloque")) == set()
    assert visible(Requester("patient", "p", ADULT)) == everything - {"invisible-patient"}
    assert visible(Requester("practitioner", "u", "Practitioner/inconnu", mode="bris_de_glace", reason="coma")) == set()
