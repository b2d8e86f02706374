// The codes of the consent model (DESIGN §4) and their French labels; Consent shapes the engine
// reads as a grant, a block or an objection to emergency access.

export const TRE_A07 = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument";
export const MASQUE_PS = "MASQUE_PS";
export const TRE_A05 = "https://mos.esante.gouv.fr/NOS/TRE_A05-TypeDocComplementaire/FHIR/TRE-A05-TypeDocComplementaire";
export const TRE_A03 = "https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument";
export const TRE_G15 = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante";
export const TRE_R260 = "https://mos.esante.gouv.fr/NOS/TRE_R260-HL7RoleClass/FHIR/TRE-R260-HL7RoleClass";
export const V3_ROLE_CLASS = "http://terminology.hl7.org/CodeSystem/v3-RoleClass";
export const V3_ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode";
/** The systems in which a relationship GUARD makes a RelatedPerson the legal representative. */
export const GUARDIAN_SYSTEMS = [TRE_R260, V3_ROLE_CLASS, V3_ROLE_CODE];
export const ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
export const RPPS = "urn:oid:1.2.250.1.71.4.2.1";
export const EXPPAT_3 = "EXPPAT_3";

export const DOCUMENT_TYPES = {
  "11502-2": "Compte rendu de biologie", "34112-3": "Compte rendu d'hospitalisation",
  "60591-5": "Synthèse médicale", REMB: "Historique des remboursements",
  EXPPAT_3: "Directives anticipées", "11488-4": "Note de consultation", "18748-4": "Compte rendu d'imagerie",
};
export const DOCUMENT_CLASSES = {
  10: "Compte rendu", 11: "Synthèse", 31: "Imagerie", 42: "Prescription",
  60: "Remboursements", 90: "Document déposé par le patient",
};
export const PROFESSIONS = {
  10: "Médecin", 21: "Pharmacien", 26: "Audioprothésiste", 28: "Opticien-lunetier",
  40: "Chirurgien-dentiste", 50: "Sage-femme", 60: "Infirmier", 70: "Masseur-kinésithérapeute",
  80: "Pédicure-podologue", 81: "Orthoprothésiste", 91: "Orthophoniste", 92: "Orthoptiste",
  94: "Ergothérapeute", 95: "Diététicien", 96: "Psychomotricien", 98: "Manipulateur ERM",
};
export const RELATIONSHIPS = {
  ECON: "Contact d'urgence", NOK: "Personne de confiance", GUARD: "Représentant légal",
};
/** The objections to emergency access: ActReason purpose -> French label. */
export const OBJECTIONS = {
  BTG: "Accès en urgence par bris de glace",
  ETREAT: "Accès par le centre de régulation (centre 15 / SAMU)",
};

/** The codes of a CodeableConcept (or a list of them) in `system` (any system when omitted). */
export function codesOf(concepts, system) {
  const list = Array.isArray(concepts) ? concepts : [concepts];
  return list.flatMap((concept) => concept?.coding || [])
    .filter((coding) => !system || coding.system === system).map((coding) => coding.code);
}

/** A readable label for a CodeableConcept, from the tables above, its text or its display. */
export function labelOf(concept, table) {
  for (const coding of concept?.coding || []) {
    if (table[coding.code]) return table[coding.code];
  }
  return concept?.text || concept?.coding?.find((c) => c.display)?.display || concept?.coding?.[0]?.code || "";
}

/** Whether a DocumentReference carries MASQUE_PS. */
export function masked(document) {
  return (document.securityLabel || []).some((label) => codesOf(label, TRE_A07).includes(MASQUE_PS));
}

/** A person's name as "Prénom Nom". */
export function personName(resource) {
  const name = (resource?.name || [])[0];
  if (!name) return "";
  if (name.text) return name.text;
  return [...(name.prefix || []), ...(name.given || []), name.family].filter(Boolean).join(" ");
}

function privacyConsent(patient, author, provision, policy) {
  return {
    resourceType: "Consent", status: "active",
    scope: {coding: [{system: "http://terminology.hl7.org/CodeSystem/consentscope", code: "patient-privacy"}]},
    category: [{coding: [{system: "http://loinc.org", code: "59284-0", display: "Patient Consent"}]}],
    patient: {reference: patient}, dateTime: new Date().toISOString(), performer: [{reference: author}],
    policyRule: {coding: [{system: "http://terminology.hl7.org/CodeSystem/v3-ActCode", code: policy}]},
    provision,
  };
}

function actor(ref) {
  return {
    role: {coding: [{system: "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", code: "IRCP"}]},
    reference: {reference: ref},
  };
}

/** A grant to a professional (permit + actor, for treatment). */
export function grantConsent(patient, author, professional) {
  return privacyConsent(patient, author, {
    type: "permit", actor: [actor(professional)], purpose: [{system: ACT_REASON, code: "TREAT"}],
  }, "OPTIN");
}

/** A block of a professional (deny + actor). */
export function blockConsent(patient, author, professional) {
  return privacyConsent(patient, author, {type: "deny", actor: [actor(professional)]}, "OPTOUT");
}

/** An objection to an emergency mode (deny + purpose BTG or ETREAT, no actor). */
export function objectionConsent(patient, author, purpose) {
  return privacyConsent(patient, author, {type: "deny", purpose: [{system: ACT_REASON, code: purpose}]}, "OPTOUT");
}

function privacy(consent) {
  return consent.status === "active" && codesOf(consent.scope).includes("patient-privacy");
}

function actorsOf(provision) {
  return (provision?.actor || []).map((a) => a.reference?.reference).filter(Boolean);
}

/** Consents whose only rule is `type` on `professional` (ours to delete), and others naming them. */
export function directivesFor(consents, type, professional) {
  const own = [];
  const other = [];
  for (const consent of consents.filter(privacy)) {
    const provision = consent.provision || {};
    const top = provision.type === type && actorsOf(provision).includes(professional);
    const nested = (provision.provision || []).some((p) => (p.type || provision.type) === type && actorsOf(p).includes(professional));
    if (top && actorsOf(provision).length === 1 && !(provision.provision || []).length) own.push(consent);
    else if (top || nested) other.push(consent);
  }
  return {own, other};
}

/** Consents objecting to the emergency mode of `purpose` (deny without actor). */
export function objectionsTo(consents, purpose) {
  return consents.filter(privacy).filter((consent) => {
    const provision = consent.provision || {};
    return provision.type === "deny" && !actorsOf(provision).length
      && (provision.purpose || []).some((p) => p.system === ACT_REASON && p.code === purpose);
  });
}
