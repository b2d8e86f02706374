// Accès en urgence: the two objections (bris de glace, centre 15) as switches; each is a Consent
// deny with purpose BTG or ETREAT.
import {act, fill, h, uid} from "../dom.js";
import {create, remove, search} from "../fhir.js";
import {OBJECTIONS, objectionConsent, objectionsTo} from "../codes.js";

export const id = "urgence";
export const title = "Accès en urgence";

export async function render(body, context) {
  const me = `Patient/${context.patient.id}`;
  const consents = await search("Consent", {patient: me, _count: "100"});
  const fieldset = h("fieldset", {}, h("legend", {}, "Je m'oppose à :"));
  for (const [purpose, label] of Object.entries(OBJECTIONS)) {
    const objections = objectionsTo(consents, purpose);
    const inputId = uid("opposition");
    const input = h("input", {type: "checkbox", role: "switch", id: inputId, checked: objections.length > 0,
      "aria-checked": objections.length > 0 ? "true" : "false"});
    input.addEventListener("change", () => act(input, async () => {
      if (input.checked) await create(objectionConsent(me, context.me || me, purpose));
      else {
        const current = await search("Consent", {patient: me, _count: "100"});
        for (const consent of objectionsTo(current, purpose)) await remove(`Consent/${consent.id}`);
      }
      context.reload();
    }, input.checked ? `Opposition enregistrée : ${label}.` : `Opposition levée : ${label}.`).then(() => {
      input.setAttribute("aria-checked", input.checked ? "true" : "false");
    }));
    fieldset.append(h("p", {class: "switch"}, input, h("label", {for: inputId}, label)));
  }
  fill(body,
    h("p", {class: "help"}, "En urgence, un professionnel peut ouvrir votre dossier sans autorisation (bris de glace), et le médecin régulateur du centre 15 aussi. Vous pouvez vous opposer à chacun de ces accès ; vous et votre médecin traitant êtes prévenus de chaque accès en urgence."),
    fieldset);
}
