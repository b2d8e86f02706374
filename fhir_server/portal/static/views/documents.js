// Mes documents: every document the person may see, newest first, masking for professionals.
import {act, announce, fill, frenchDate, h, uid} from "../dom.js";
import {patch, read, request, search} from "../fhir.js";
import {DOCUMENT_CLASSES, DOCUMENT_TYPES, MASQUE_PS, TRE_A07, codesOf, labelOf, masked} from "../codes.js";
import {describe} from "../people.js";

export const id = "documents";
export const title = "Mes documents";

/** The list of a record's documents (also used by Directives anticipées). */
export async function listDocuments(patient, params = {}) {
  const found = await search("DocumentReference", {patient: `Patient/${patient.id}`, _sort: "-date", _count: "100", ...params});
  return found.sort((a, b) => String(b.date || "").localeCompare(String(a.date || "")));
}

export async function render(body, context) {
  const docs = await listDocuments(context.patient);
  if (!docs.length) {
    fill(body, h("p", {}, "Aucun document dans ce dossier."));
    return;
  }
  const list = h("ul", {class: "cards"});
  fill(body, h("p", {class: "help"},
    "Un document masqué reste visible par vous, votre médecin traitant et son auteur ; les autres professionnels ne le voient plus."), list);
  for (const doc of docs) list.append(await card(doc, context));
}

async function card(doc, context) {
  const headingId = uid("doc");
  const author = await authors(doc, context);
  const viewer = h("div", {class: "viewer"});
  const item = h("li", {class: "card", "aria-labelledby": headingId},
    h("h2", {id: headingId}, doc.description || labelOf(doc.type, DOCUMENT_TYPES) || "Document"),
    h("dl", {class: "facts"},
      h("dt", {}, "Type"), h("dd", {}, labelOf(doc.type, DOCUMENT_TYPES) || labelOf((doc.category || [])[0], DOCUMENT_CLASSES) || "—"),
      h("dt", {}, "Date"), h("dd", {}, frenchDate(doc.date)),
      h("dt", {}, "Auteur"), h("dd", {}, author)),
    masked(doc) ? h("p", {class: "badge"}, "Masqué aux professionnels") : null,
    h("div", {class: "actions"},
      h("button", {type: "button", "aria-describedby": headingId, onclick: (e) => act(e.currentTarget, () => openContent(doc, viewer))}, "Ouvrir"),
      maskButton(doc, headingId, context)),
    viewer);
  return item;
}

async function authors(doc, context) {
  const names = [];
  for (const author of doc.author || []) {
    const ref = author.reference;
    if (ref === `Patient/${context.patient.id}`) names.push("Le patient");
    else if (ref) {
      const person = await describe(ref);
      names.push(person.profession ? `${person.name} (${person.profession})` : person.name);
    } else if (author.display) names.push(author.display);
  }
  return names.join(", ") || "—";
}

function maskButton(doc, headingId, context) {
  const hidden = masked(doc);
  return h("button", {type: "button", "aria-describedby": headingId, onclick: (e) => act(e.currentTarget, async () => {
    const current = await read(`DocumentReference/${doc.id}`);
    await patch(`DocumentReference/${doc.id}`, hidden ? unmask(current) : mask(current));
    context.reload();
  }, hidden ? "Le document est de nouveau visible par les professionnels autorisés." : "Le document est masqué aux professionnels.")},
  hidden ? "Rendre visible" : "Masquer aux professionnels");
}

/** JSON Patch adding the MASQUE_PS label. */
export function mask(doc) {
  const label = {coding: [{system: TRE_A07, code: MASQUE_PS}]};
  if (!doc.securityLabel) return [{op: "add", path: "/securityLabel", value: [label]}];
  return [{op: "add", path: "/securityLabel/-", value: label}];
}

/** JSON Patch removing every label carrying MASQUE_PS (highest index first, each tested). */
export function unmask(doc) {
  const operations = [];
  (doc.securityLabel || []).forEach((label, index) => {
    if (codesOf(label, TRE_A07).includes(MASQUE_PS)) operations.unshift(
      {op: "test", path: `/securityLabel/${index}`, value: label}, {op: "remove", path: `/securityLabel/${index}`});
  });
  return operations;
}

/** Show a document's content: text inline, anything else as a file to open. */
export async function openContent(doc, viewer) {
  const attachment = (doc.content || [])[0]?.attachment;
  if (!attachment) {
    fill(viewer, h("p", {}, "Ce document n'a pas de contenu."));
    return;
  }
  let bytes;
  let type = attachment.contentType || "application/octet-stream";
  if (attachment.data) {
    bytes = Uint8Array.from(atob(attachment.data), (c) => c.charCodeAt(0));
  } else if (attachment.url && !/^[a-z]+:/i.test(attachment.url)) {
    const binary = await request("GET", attachment.url);
    type = binary.contentType || type;
    bytes = Uint8Array.from(atob(binary.data || ""), (c) => c.charCodeAt(0));
  } else {
    fill(viewer, h("p", {}, "Contenu externe : ", h("a", {href: attachment.url, rel: "noopener noreferrer"}, attachment.title || attachment.url)));
    return;
  }
  const name = attachment.title || "document";
  if (type.startsWith("text/")) {
    fill(viewer, h("h3", {}, name), h("pre", {class: "content", tabindex: "0", "aria-label": `Contenu : ${name}`}, new TextDecoder().decode(bytes)));
  } else {
    const url = URL.createObjectURL(new Blob([bytes], {type}));
    fill(viewer, h("a", {href: url, download: name, class: "file"}, `Télécharger « ${name} »`));
  }
  announce(`Document ouvert : ${name}`);
}
