// Mon dossier: close the record (« Fermer mon dossier », a reason, « Confirmer ») or reopen it,
// through the Patient $close and $reopen operations.
import {act, fill, frenchDate, h, uid} from "../dom.js";
import {operation, read} from "../fhir.js";
import {personName} from "../codes.js";

export const id = "dossier";
export const title = "Mon dossier";

const CLOSING = "https://interop.esante.gouv.fr/ig/fhir/dmp/StructureDefinition/dmp-fermeture";

function closingOf(patient) {
  const extension = (patient.extension || []).find((e) => e.url === CLOSING);
  const part = (name) => (extension?.extension || []).find((e) => e.url === name);
  return {date: part("dateFermeture")?.valueDate || part("dateFermeture")?.valueDateTime,
    reason: part("motifFermeture")?.valueString || part("raisonFermeture")?.valueString || part("motifFermeture")?.valueCodeableConcept?.text};
}

export async function render(body, context) {
  const patient = await read(`Patient/${context.patient.id}`);
  const ref = `Patient/${patient.id}`;
  const closed = patient.active === false;
  const panel = h("div", {});
  const facts = h("dl", {class: "facts"},
    h("dt", {}, "Titulaire"), h("dd", {}, personName(patient)),
    h("dt", {}, "État"), h("dd", {id: "etat-dossier"}, closed ? "Fermé" : "Ouvert"));
  if (closed) {
    const closing = closingOf(patient);
    fill(body, facts,
      h("p", {}, `Votre dossier est fermé${closing.date ? ` depuis le ${frenchDate(closing.date)}` : ""}. Les professionnels ne peuvent plus le consulter ni l'alimenter ; il est conservé dix ans puis supprimé.`),
      h("button", {type: "button", class: "primary", onclick: (e) => act(e.currentTarget, async () => {
        await operation(`${ref}/$reopen`, []);
        context.reload();
      }, "Votre dossier est rouvert.")}, "Rouvrir mon dossier"));
    return;
  }
  const start = h("button", {type: "button", class: "danger", "aria-expanded": "false", onclick: () => {
    start.setAttribute("aria-expanded", "true");
    confirm(panel, ref, context, start);
  }}, "Fermer mon dossier");
  fill(body, facts,
    h("p", {}, "Fermer votre dossier le rend inaccessible aux professionnels. Vous pourrez le rouvrir tant qu'il n'est pas supprimé."),
    start, panel);
}

function confirm(panel, ref, context, start) {
  const reasonId = uid("motif");
  const reason = h("textarea", {id: reasonId, name: "reason", rows: "3", required: true});
  const form = h("form", {class: "panel", "aria-labelledby": `${reasonId}-title`, onsubmit: (event) => {
    event.preventDefault();
    if (!reason.value.trim()) {
      reason.focus();
      return;
    }
    act(form.querySelector("button[type=submit]"), async () => {
      await operation(`${ref}/$close`, [{name: "reason", valueString: reason.value.trim()}]);
      context.reload();
    }, "Votre dossier est fermé.");
  }},
  h("h2", {id: `${reasonId}-title`}, "Confirmer la fermeture"),
  h("p", {class: "field"}, h("label", {for: reasonId}, "Motif de la fermeture"), reason),
  h("div", {class: "actions"}, h("button", {type: "submit", class: "danger"}, "Confirmer"),
    h("button", {type: "button", onclick: () => { fill(panel); start.setAttribute("aria-expanded", "false"); start.focus(); }}, "Annuler")));
  fill(panel, form);
  reason.focus();
}
