// Historique des accès: the AuditEvents of the record, who (name, profession), when, what, and
// whether it was an emergency access (bris de glace, centre 15) with its stated reason.
import {fill, frenchDate, h, uid} from "../dom.js";
import {search} from "../fhir.js";
import {describe} from "../people.js";

export const id = "historique";
export const title = "Historique des accès";

const ACTIONS = {
  read: "Consultation", vread: "Consultation", search: "Recherche", "search-type": "Recherche",
  create: "Ajout", update: "Modification", patch: "Modification", delete: "Suppression",
  "history-instance": "Consultation de l'historique", operation: "Opération", 110127: "Ouverture d'un accès en urgence",
};
const TYPES = {
  DocumentReference: "document", Patient: "dossier", Consent: "consentement", RelatedPerson: "proche",
  AllergyIntolerance: "allergie", AuditEvent: "historique",
};
const MODES = {BTG: "Accès en urgence (bris de glace)", ETREAT: "Accès en urgence (centre 15)"};

/** The emergency mode and reason an AuditEvent states, if any. */
export function emergencyOf(event) {
  const agent = requestor(event);
  const purposes = [...(event.purposeOfEvent || []), ...(agent?.purposeOfUse || [])]
    .flatMap((c) => c.coding || []).map((c) => c.code);
  const mode = purposes.find((code) => MODES[code]);
  if (!mode) return null;
  const policy = (agent?.policy || []).find((p) => p.startsWith("reason:"));
  const text = (event.purposeOfEvent || []).map((c) => c.text).find(Boolean);
  return {label: MODES[mode], reason: policy ? policy.slice(7) : text || event.outcomeDesc || ""};
}

function requestor(event) {
  return (event.agent || []).find((a) => a.requestor) || (event.agent || [])[0];
}

function what(event) {
  const code = (event.subtype || []).map((c) => c.code).find((c) => ACTIONS[c]) || "";
  const all = (event.entity || []).map((e) => e.what?.reference).filter(Boolean);
  const items = all.filter((ref) => !ref.startsWith("Patient/"));
  const refs = items.length ? items : all;
  const kinds = [...new Set(refs.map((ref) => TYPES[ref.split("/")[0]] || ref.split("/")[0]))];
  const action = ACTIONS[code] || "Accès";
  return kinds.length ? `${action} : ${kinds.join(", ")}` : action;
}

export async function render(body, context) {
  const events = await search("AuditEvent", {patient: `Patient/${context.patient.id}`, _sort: "-date", _count: "100"}, 3);
  events.sort((a, b) => String(b.recorded || "").localeCompare(String(a.recorded || "")));
  const toggleId = uid("mine");
  const toggle = h("input", {type: "checkbox", id: toggleId});
  const table = h("div", {class: "table-wrap"});
  const draw = async () => {
    const mine = new Set([context.me, `Patient/${context.patient.id}`]);
    const shown = events.filter((event) => toggle.checked || !mine.has(requestor(event)?.who?.reference));
    if (!shown.length) {
      fill(table, h("p", {}, "Aucun accès par un professionnel n'est enregistré."));
      return;
    }
    const rows = [];
    for (const event of shown) rows.push(await row(event, context));
    fill(table, h("table", {}, h("caption", {}, "Accès à votre dossier, du plus récent au plus ancien"),
      h("thead", {}, h("tr", {}, ["Date", "Qui", "Profession", "Action", "Urgence"].map((t) => h("th", {scope: "col"}, t)))),
      h("tbody", {}, rows)));
  };
  toggle.addEventListener("change", draw);
  fill(body, h("p", {class: "check"}, toggle, h("label", {for: toggleId}, "Afficher aussi mes propres consultations")), table);
  await draw();
}

async function row(event, context) {
  const agent = requestor(event);
  const ref = agent?.who?.reference;
  let name = /^system client/.test(agent?.who?.display || "") || !agent?.who?.display ? "Service informatique" : agent.who.display;
  let profession = "";
  if (ref === `Patient/${context.patient.id}`) name = "Le patient";
  else if (ref === context.me) name = "Vous";
  else if (ref) ({name, profession} = await describe(ref));
  const emergency = emergencyOf(event);
  return h("tr", {class: emergency ? "emergency" : null},
    h("td", {}, frenchDate(event.recorded, true)), h("th", {scope: "row"}, name), h("td", {}, profession || "—"),
    h("td", {}, what(event)),
    h("td", {}, emergency ? [h("strong", {}, emergency.label), emergency.reason ? ` — motif : ${emergency.reason}` : ""] : "Non"));
}
