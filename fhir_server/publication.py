"""What an integrator needs to find without reading our source (issue 12, point 6): an
OperationDefinition for every operation we serve (from ``operations.REGISTRY``, at the canonical URL
the CapabilityStatement names: ``GET [base]/OperationDefinition?url=<canonical>``, or by id, the
canonical's last segment), and the codes our rules use as CodeSystem (the ANS terminologies, as
fragments holding the codes we act on) and ValueSet resources (search by url works).

Written at every start where missing or stale, like the profiles (``profile_publication``); they are
directory resources, read by every authenticated caller.
"""

from __future__ import annotations

from typing import Any

from consent.checks import POLICY_RULES
from consent.checks import V3_ACT_CODE
from consent.labels import TRE_A07
from consent.labels import V3_CONFIDENTIALITY
from consent.state import ACT_REASON
from consent.state import CONSENT_ACTION
from consent.state import TRE_R248
from consent.state import TRE_R260

from .consent_loader import TRE_G15
from .operations import registry as operations
from .storage import Repository

CANONICAL = "https://carnet.example.org/fhir"
DATE = "2026-12-03"

#: (id, url, title, codes): the ANS code systems our rules read, as fragments
CODE_SYSTEMS: tuple[tuple[str, str, str, tuple[tuple[str, str], ...]], ...] = (
    (
        "TRE-A07-StatutVisibiliteDocument",
        TRE_A07,
        "TRE_A07 Statut de visibilité du document",
        (
            ("MASQUE_PS", "Masqué aux professionnels de santé (the attending physician and the author still see it)"),
            ("INVISIBLE_PATIENT", "Non visible par le patient (until the announcement consultation, 30 days at most)"),
            ("INVISIBLE_REPRESENTANTS_LEGAUX", "Non visible par les représentants légaux"),
        ),
    ),
    (
        "TRE-G15-ProfessionSante",
        TRE_G15,
        "TRE_G15 Profession de santé",
        (
            ("10", "Médecin"),
            ("21", "Pharmacien"),
            ("26", "Audioprothésiste"),
            ("28", "Opticien-Lunetier"),
            ("31", "Assistant dentaire"),
            ("32", "Physicien médical"),
            ("40", "Chirurgien-Dentiste"),
            ("50", "Sage-Femme"),
            ("60", "Infirmier"),
            ("69", "Infirmier psychiatrique"),
            ("70", "Masseur-Kinésithérapeute"),
            ("80", "Pédicure-Podologue"),
            ("86", "Technicien de laboratoire médical"),
            ("91", "Orthophoniste"),
            ("92", "Orthoptiste"),
            ("94", "Ergothérapeute"),
            ("95", "Diététicien"),
            ("96", "Psychomotricien"),
            ("98", "Manipulateur ERM"),
        ),
    ),
    (
        "TRE-R260-HL7RoleClass",
        TRE_R260,
        "TRE_R260 Relation avec le patient",
        (
            ("ECON", "Personne à prévenir en cas d'urgence"),
            ("GUARD", "Responsable légal (the legal representative: reads the record as the patient)"),
            ("NOK", "Personne de confiance"),
        ),
    ),
    (
        "TRE-R248-ModeAcces",
        TRE_R248,
        "TRE_R248 Mode d'accès",
        (
            ("normal", "Accès normal (needs a grant)"),
            ("bris_de_glace", "Bris de glace (emergency; purpose of use BTG)"),
            ("centre_15", "Centre 15 (SAMU regulation; purpose of use ETREAT)"),
        ),
    ),
)

#: (id, title, description, [(system, [(code, display)])])
VALUE_SETS: tuple[tuple[str, str, str, tuple[tuple[str, tuple[tuple[str, str], ...]], ...]], ...] = (
    (
        "visibility",
        "Visibility flags and confidentiality",
        "DocumentReference.securityLabel (meta.security elsewhere): the TRE_A07 flags and one v3 confidentiality code",
        (
            (TRE_A07, CODE_SYSTEMS[0][3]),
            (V3_CONFIDENTIALITY, (("N", "normal"), ("R", "restricted"), ("V", "very restricted"))),
        ),
    ),
    (
        "professions",
        "Professions (PractitionerRole.code)",
        "The TRE_G15 professions the access matrix (GET /dmp/access-matrix) is keyed by",
        ((TRE_G15, CODE_SYSTEMS[1][3]),),
    ),
    (
        "relationships",
        "Relationships (RelatedPerson.relationship)",
        "GUARD makes a legal representative; ECON and NOK are recorded",
        ((TRE_R260, CODE_SYSTEMS[2][3]),),
    ),
    ("access-modes", "Access modes", "The DMP access modes (token purpose_of_use)", ((TRE_R248, CODE_SYSTEMS[3][3]),)),
    (
        "consent-actions",
        "Consent actions (Consent.provision.action)",
        "A grant is for access (or names no action)",
        ((CONSENT_ACTION, (("access", "Access"),)),),
    ),
    (
        "consent-purposes",
        "Consent purposes (Consent.provision.purpose)",
        (
            "A grant is for TREAT (or names no purpose); a deny naming no actor with BTG or ETREAT objects to "
            "break-glass or centre-15 access"
        ),
        (
            (ACT_REASON, (("TREAT", "treatment"), ("BTG", "break the glass"), ("ETREAT", "emergency treatment"))),
            (TRE_R248, (("bris_de_glace", "Bris de glace"), ("centre_15", "Centre 15"))),
        ),
    ),
    (
        "consent-policy-rules",
        "Consent policy rules (Consent.policyRule)",
        "OPTIN for a grant, OPTOUT for a block or an objection",
        ((V3_ACT_CODE, tuple((code, code) for code in sorted(POLICY_RULES))),),
    ),
)

#: parameters of the operations we define (others: a Resource out)
PARAMETERS: dict[str, list[dict[str, Any]]] = {
    "close": [
        {"name": "reason", "use": "in", "min": 1, "max": "1", "type": "string"},
        {"name": "erase", "use": "in", "min": 0, "max": "1", "type": "boolean"},
        {"name": "return", "use": "out", "min": 1, "max": "1", "type": "Patient"},
    ],
    "reopen": [{"name": "return", "use": "out", "min": 1, "max": "1", "type": "Patient"}],
    "preview": [
        {"name": "consent", "use": "in", "min": 1, "max": "1", "type": "Consent"},
        {"name": "return", "use": "out", "min": 1, "max": "1", "type": "Parameters"},
    ],
}


def code_systems() -> list[dict[str, Any]]:
    return [
        {
            "resourceType": "CodeSystem",
            "id": id_,
            "url": url,
            "name": id_.replace("-", ""),
            "title": title,
            "status": "active",
            "date": DATE,
            "publisher": "ANS (fragment served by Carnet)",
            "content": "fragment",
            "caseSensitive": True,
            "concept": [{"code": code, "display": display} for code, display in codes],
        }
        for id_, url, title, codes in CODE_SYSTEMS
    ]


def value_sets() -> list[dict[str, Any]]:
    return [
        {
            "resourceType": "ValueSet",
            "id": f"carnet-{id_}",
            "url": f"{CANONICAL}/ValueSet/carnet-{id_}",
            "name": "Carnet" + "".join(part.title() for part in id_.split("-")),
            "title": title,
            "status": "active",
            "date": DATE,
            "publisher": "Carnet",
            "description": description,
            "compose": {
                "include": [
                    {"system": system, "concept": [{"code": c, "display": d} for c, d in codes]}
                    for system, codes in includes
                ]
            },
        }
        for id_, title, description, includes in VALUE_SETS
    ]


def operation_definitions() -> list[dict[str, Any]]:
    """One OperationDefinition per canonical the registry names (types merged)."""
    found: dict[str, dict[str, Any]] = {}
    for op in operations.REGISTRY:
        id_ = op.definition.rstrip("/").rsplit("/", 1)[-1]
        existing = found.get(op.definition)
        if existing is not None:
            existing["resource"] = sorted(set(existing["resource"]) | set(op.types or ("Resource",)))
            existing["type"] = existing["type"] or op.type_level
            existing["instance"] = existing["instance"] or op.instance_level
            continue
        found[op.definition] = {
            "resourceType": "OperationDefinition",
            "id": id_,
            "url": op.definition,
            "name": "".join(part.title() for part in op.code.split("-")),
            "title": f"${op.code}",
            "status": "active",
            "kind": "operation",
            "date": DATE,
            "publisher": "Carnet",
            "description": op.documentation,
            "affectsState": op.affects_state,
            "code": op.code,
            "resource": list(op.types or ("Resource",)),
            "system": False,
            "type": op.type_level,
            "instance": op.instance_level,
            "parameter": PARAMETERS.get(
                op.code, [{"name": "return", "use": "out", "min": 1, "max": "1", "type": "Resource"}]
            ),
        }
    return list(found.values())


def export_definitions() -> list[dict[str, Any]]:
    """The Bulk Data export operations the CapabilityStatement names (system, Patient, Group/<id>)."""
    from .capability import BULK

    levels = [
        ("export", ["Resource"], True, False, False),
        ("patient-export", ["Patient"], False, True, False),
        ("group-export", ["Group"], False, False, True),
    ]
    return [
        {
            "resourceType": "OperationDefinition",
            "id": name,
            "url": f"{BULK}/OperationDefinition/{name}",
            "name": "".join(part.title() for part in name.split("-")),
            "title": "$export",
            "status": "active",
            "kind": "operation",
            "date": DATE,
            "publisher": "Carnet",
            "affectsState": False,
            "code": "export",
            "description": "Bulk Data export (FHIR Bulk Data Access v2): Prefer: respond-async, then poll the status "
            "URL; what the caller may search, as NDJSON files",
            "resource": resource,
            "system": system,
            "type": type_level,
            "instance": instance,
            "parameter": [
                {"name": n, "use": "in", "min": 0, "max": "1", "type": t}
                for n, t in (
                    ("_outputFormat", "string"),
                    ("_since", "instant"),
                    ("_type", "string"),
                    ("_typeFilter", "string"),
                )
            ],
        }
        for name, resource, system, type_level, instance in levels
    ]


def publish(store: Repository) -> None:
    """Write each resource where it is missing or stale (idempotent at every start)."""
    for resource in [*operation_definitions(), *export_definitions(), *code_systems(), *value_sets()]:
        current = store.current(resource["resourceType"], resource["id"])
        if (
            current is not None
            and not current.deleted
            and {k: v for k, v in current.resource.items() if k != "meta"} == resource
        ):
            continue
        store.write(resource["resourceType"], resource["id"], resource, method="PUT")
