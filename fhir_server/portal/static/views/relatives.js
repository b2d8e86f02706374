// Mes proches: emergency contacts (ECON) and trusted person (NOK) as RelatedPerson resources:
// create, edit, remove. Legal representatives (GUARD) are shown read-only: the consent engine
// leaves them to the administration (system clients).
import {act, fill, h, uid} from "../dom.js";
import {create, remove, search, update} from "../fhir.js";
import {GUARDIAN_SYSTEMS, RELATIONSHIPS, TRE_R260, V3_ROLE_CLASS, codesOf, personName} from "../codes.js";

export const id = "proches";
export const title = "Mes proches";

const EDITABLE = ["ECON", "NOK"];

function isGuardian(person) {
  return GUARDIAN_SYSTEMS.some((system) => codesOf(person.relationship || [], system).includes("GUARD"));
}

function relationOf(person) {
  if (isGuardian(person)) return "GUARD";
  const codes = [...codesOf(person.relationship || [], TRE_R260), ...codesOf(person.relationship || [], V3_ROLE_CLASS)];
  return codes.find((code) => RELATIONSHIPS[code]) || "";
}

function actions(editor, context, person, headingId) {
  if (relationOf(person) === "GUARD") {
    return h("p", {class: "help"}, "Représentant légal géré par l'administration : il ne peut pas être modifié ici.");
  }
  return h("div", {class: "actions"},
    h("button", {type: "button", "aria-describedby": headingId, onclick: () => form(editor, context, person)}, "Modifier"),
    h("button", {type: "button", class: "danger", "aria-describedby": headingId, onclick: (e) => act(e.currentTarget, async () => {
      await remove(`RelatedPerson/${person.id}`);
      context.reload();
    }, "Proche retiré.")}, "Retirer"));
}

function phoneOf(person) {
  return (person.telecom || []).find((t) => t.system === "phone")?.value || "";
}

export async function render(body, context) {
  const me = `Patient/${context.patient.id}`;
  const people = await search("RelatedPerson", {patient: me, _count: "100"});
  const list = h("ul", {class: "cards"});
  const editor = h("div", {});
  for (const person of people) {
    const headingId = uid("proche");
    const relation = relationOf(person);
    list.append(h("li", {class: "card"},
      h("h3", {id: headingId}, personName(person) || "Sans nom"),
      h("p", {class: "meta"}, [RELATIONSHIPS[relation] || "Proche", phoneOf(person)].filter(Boolean).join(" · ")),
      actions(editor, context, person, headingId)));
  }
  fill(body,
    h("p", {class: "help"}, "Vos contacts en cas d'urgence et votre personne de confiance : ajoutez-les, modifiez-les ou retirez-les. Les représentants légaux sont enregistrés par l'administration."),
    people.length ? list : h("p", {}, "Aucun proche enregistré."),
    h("button", {type: "button", onclick: () => form(editor, context, null)}, "Ajouter un proche"),
    editor);
}

function field(label, input) {
  const inputId = uid("champ");
  input.id = inputId;
  return h("p", {class: "field"}, h("label", {for: inputId}, label), input);
}

function form(editor, context, person) {
  const me = `Patient/${context.patient.id}`;
  const given = h("input", {name: "given", required: true, autocomplete: "off", value: person?.name?.[0]?.given?.join(" ") || ""});
  const family = h("input", {name: "family", required: true, autocomplete: "off", value: person?.name?.[0]?.family || ""});
  const phone = h("input", {name: "phone", type: "tel", autocomplete: "off", value: person ? phoneOf(person) : ""});
  const relation = h("select", {name: "relationship"}, EDITABLE.map((code) => h("option", {value: code, selected: person && relationOf(person) === code}, RELATIONSHIPS[code])));
  const element = h("form", {class: "panel", "aria-label": person ? "Modifier un proche" : "Ajouter un proche", onsubmit: (event) => {
    event.preventDefault();
    act(element.querySelector("button[type=submit]"), async () => {
      const resource = {
        ...(person || {}), resourceType: "RelatedPerson", patient: {reference: me}, active: true,
        relationship: [{coding: [{system: TRE_R260, code: relation.value, display: RELATIONSHIPS[relation.value]}]}],
        name: [{family: family.value.trim(), given: given.value.trim().split(/\s+/)}],
        telecom: phone.value.trim() ? [{system: "phone", value: phone.value.trim(), use: "mobile"}] : undefined,
      };
      if (person) await update(resource);
      else await create(resource);
      context.reload();
    }, person ? "Proche modifié." : "Proche ajouté.");
  }},
  h("h2", {}, person ? "Modifier un proche" : "Ajouter un proche"),
  field("Prénom", given), field("Nom", family), field("Téléphone", phone), field("Lien", relation),
  h("div", {class: "actions"}, h("button", {type: "submit", class: "primary"}, "Enregistrer"),
    h("button", {type: "button", onclick: () => fill(editor)}, "Annuler")));
  fill(editor, element);
  given.focus();
}
