// Professionnels: who accessed the record or was authorised, the attending physician shown as
// such; « Autoriser », « Bloquer », « Débloquer » each write or delete a Consent; a search by
// name or RPPS number.
import {act, fill, h, uid} from "../dom.js";
import {create, read, remove, search} from "../fhir.js";
import {RPPS, blockConsent, directivesFor, grantConsent, personName} from "../codes.js";
import {describe} from "../people.js";

export const id = "professionnels";
export const title = "Professionnels";

const PROFESSIONAL = /^(Practitioner|PractitionerRole|Organization)\//;

async function known(context) {
  const patient = await read(`Patient/${context.patient.id}`);
  const consents = await search("Consent", {patient: `Patient/${context.patient.id}`, _count: "100"});
  const attending = new Set((patient.generalPractitioner || []).map((r) => r.reference).filter(Boolean));
  const refs = new Set(attending);
  for (const consent of consents) {
    const stack = [consent.provision];
    while (stack.length) {
      const provision = stack.pop();
      if (!provision) continue;
      for (const actor of provision.actor || []) if (PROFESSIONAL.test(actor.reference?.reference || "")) refs.add(actor.reference.reference);
      stack.push(...(provision.provision || []));
    }
  }
  try {
    const events = await search("AuditEvent", {patient: `Patient/${context.patient.id}`, _count: "100"}, 2);
    for (const event of events) for (const agent of event.agent || []) {
      if (PROFESSIONAL.test(agent.who?.reference || "")) refs.add(agent.who.reference);
    }
  } catch (error) {
    // the history is optional here
  }
  return {consents, attending, refs: [...refs]};
}

export async function render(body, context) {
  const state = await known(context);
  const list = h("ul", {class: "cards"});
  const results = h("div", {"aria-live": "polite"});
  fill(body,
    h("p", {class: "help"}, "Un professionnel autorisé peut lire votre dossier ; un professionnel bloqué ne le peut plus, même votre médecin traitant."),
    searchForm(results, state, context),
    results,
    h("h2", {}, "Vos professionnels"),
    state.refs.length ? list : h("p", {}, "Aucun professionnel n'a encore accédé à votre dossier ni été autorisé."));
  for (const ref of state.refs.sort()) list.append(await card(ref, state, context));
}

function searchForm(results, state, context) {
  const inputId = uid("recherche");
  const input = h("input", {id: inputId, type: "search", name: "q", required: true, autocomplete: "off"});
  const form = h("form", {class: "search", role: "search", onsubmit: (event) => {
    event.preventDefault();
    act(form.querySelector("button"), async () => {
      const text = input.value.trim();
      const found = /^\d+$/.test(text)
        ? await search("Practitioner", {identifier: `${RPPS}|${text},${RPPS}|8${text}`})
        : await search("Practitioner", {name: text});
      const list = h("ul", {class: "cards"});
      for (const practitioner of found) list.append(await card(`Practitioner/${practitioner.id}`, state, context));
      fill(results, h("h2", {}, `Résultats de la recherche (${found.length})`),
        found.length ? list : h("p", {}, "Aucun professionnel ne correspond."));
    });
  }},
  h("label", {for: inputId}, "Rechercher un professionnel (nom ou numéro RPPS)"),
  h("div", {class: "row"}, input, h("button", {type: "submit"}, "Rechercher")));
  return form;
}

async function card(ref, state, context) {
  const person = await describe(ref);
  const headingId = uid("pro");
  const blocks = directivesFor(state.consents, "deny", ref);
  const grants = directivesFor(state.consents, "permit", ref);
  const blocked = blocks.own.length + blocks.other.length > 0;
  const granted = grants.own.length + grants.other.length > 0;
  const attending = state.attending.has(ref);
  const statuses = [
    attending ? "Médecin traitant" : null,
    blocked ? "Bloqué" : null,
    granted && !blocked ? "Autorisé" : null,
  ].filter(Boolean);
  const me = `Patient/${context.patient.id}`;
  const author = context.me || me;
  const buttons = [];
  const reload = () => context.reload();
  if (!blocked && !granted && !attending) buttons.push(h("button", {type: "button", "aria-describedby": headingId,
    onclick: (e) => act(e.currentTarget, async () => { await create(grantConsent(me, author, ref)); reload(); }, `${person.name} est autorisé.`)}, "Autoriser"));
  if (grants.own.length && !blocked) buttons.push(h("button", {type: "button", "aria-describedby": headingId,
    onclick: (e) => act(e.currentTarget, async () => {
      for (const consent of grants.own) await remove(`Consent/${consent.id}`);
      reload();
    }, `L'autorisation de ${person.name} est retirée.`)}, "Retirer l'autorisation"));
  if (!blocked) buttons.push(h("button", {type: "button", class: "danger", "aria-describedby": headingId,
    onclick: (e) => act(e.currentTarget, async () => { await create(blockConsent(me, author, ref)); reload(); }, `${person.name} est bloqué.`)}, "Bloquer"));
  if (blocked) buttons.push(h("button", {type: "button", "aria-describedby": headingId,
    onclick: (e) => act(e.currentTarget, async () => {
      if (blocks.other.length) throw new Error("Ce blocage fait partie d'un consentement plus large : il ne peut pas être levé ici.");
      for (const consent of blocks.own) await remove(`Consent/${consent.id}`);
      reload();
    }, `${person.name} est débloqué.`)}, "Débloquer"));
  return h("li", {class: "card"},
    h("h3", {id: headingId}, person.name || personName(person.resource) || ref),
    h("p", {class: "meta"}, [person.profession, person.rpps ? `RPPS ${person.rpps}` : null].filter(Boolean).join(" · ") || "Profession non renseignée"),
    statuses.length ? h("p", {class: "badges"}, statuses.map((s) => h("span", {class: `badge ${s === "Bloqué" ? "bad" : ""}`}, s))) : null,
    attending && blocked ? h("p", {class: "notice"}, "Votre médecin traitant est bloqué : le blocage l'emporte, il ne voit plus votre dossier.") : null,
    h("div", {class: "actions"}, buttons));
}
