// Directives anticipées: DocumentReference of type EXPPAT_3 (TRE_A05), deposited by the patient
// (class 90, author the patient): write or upload, read, replace, remove.
import {act, fill, frenchDate, h, uid} from "../dom.js";
import {create, remove} from "../fhir.js";
import {EXPPAT_3, TRE_A03, TRE_A05} from "../codes.js";
import {listDocuments, openContent} from "./documents.js";

export const id = "directives";
export const title = "Directives anticipées";

export async function render(body, context) {
  const docs = await listDocuments(context.patient, {type: `${TRE_A05}|${EXPPAT_3}`});
  const list = h("ul", {class: "cards"});
  for (const doc of docs) {
    const headingId = uid("directive");
    const viewer = h("div", {class: "viewer"});
    list.append(h("li", {class: "card"},
      h("h3", {id: headingId}, doc.description || "Directives anticipées"),
      h("p", {class: "meta"}, `Déposées le ${frenchDate(doc.date)}`),
      h("div", {class: "actions"},
        h("button", {type: "button", "aria-describedby": headingId, onclick: (e) => act(e.currentTarget, () => openContent(doc, viewer))}, "Lire"),
        h("button", {type: "button", class: "danger", "aria-describedby": headingId, onclick: (e) => act(e.currentTarget, async () => {
          await remove(`DocumentReference/${doc.id}`);
          context.reload();
        }, "Directives supprimées.")}, "Supprimer")),
      viewer));
  }
  fill(body,
    h("p", {class: "help"}, "Vos volontés sur la fin de vie, lisibles par les professionnels qui vous soignent. Vous pouvez les modifier ou les supprimer à tout moment."),
    docs.length ? list : h("p", {}, "Aucune directive anticipée déposée."),
    editor(context));
}

function editor(context) {
  const textId = uid("texte");
  const fileId = uid("fichier");
  const text = h("textarea", {id: textId, name: "text", rows: "6"});
  const file = h("input", {id: fileId, type: "file", name: "file", accept: ".pdf,.txt,application/pdf,text/plain"});
  const form = h("form", {class: "panel", "aria-labelledby": `${textId}-title`, onsubmit: (event) => {
    event.preventDefault();
    act(form.querySelector("button[type=submit]"), async () => {
      const chosen = file.files[0];
      let data;
      let contentType = "text/plain";
      let title = "Directives anticipées";
      if (chosen) {
        const bytes = new Uint8Array(await chosen.arrayBuffer());
        data = toBase64(bytes);
        contentType = chosen.type || "application/octet-stream";
        title = chosen.name;
      } else if (text.value.trim()) {
        data = toBase64(new TextEncoder().encode(text.value));
      } else {
        throw new Error("Écrivez vos directives ou choisissez un fichier.");
      }
      await create(directive(context, data, contentType, title));
      context.reload();
    }, "Directives anticipées enregistrées.");
  }},
  h("h2", {id: `${textId}-title`}, "Déposer des directives"),
  h("p", {class: "field"}, h("label", {for: textId}, "Rédiger mes directives"), text),
  h("p", {class: "field"}, h("label", {for: fileId}, "Ou joindre un fichier (PDF ou texte)"), file),
  h("button", {type: "submit", class: "primary"}, "Enregistrer mes directives"));
  return form;
}

function toBase64(bytes) {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function directive(context, data, contentType, title) {
  const patient = `Patient/${context.patient.id}`;
  return {
    resourceType: "DocumentReference", status: "current",
    type: {coding: [{system: TRE_A05, code: EXPPAT_3, display: "Directives anticipées"}]},
    category: [{coding: [{system: TRE_A03, code: "90"}]}],
    subject: {reference: patient}, date: new Date().toISOString(), author: [{reference: patient}],
    description: "Directives anticipées",
    content: [{attachment: {contentType, data, title}}],
  };
}
