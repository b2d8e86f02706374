// The portal's shell: sign-in, the record being looked at, navigation between the sections.
import {announce, fill, h, showError, uid} from "./dom.js";
import {search} from "./fhir.js";
import {personName} from "./codes.js";
import {forget} from "./people.js";
import {completeSignIn, session, signIn, signOut} from "./smart.js";
import * as documents from "./views/documents.js";
import * as history from "./views/history.js";
import * as professionals from "./views/professionals.js";
import * as emergency from "./views/emergency.js";
import * as relatives from "./views/relatives.js";
import * as directives from "./views/directives.js";
import * as record from "./views/record.js";

const SECTIONS = [documents, history, professionals, emergency, relatives, directives, record];
const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");

/** What every section works on: the signed-in person and the record chosen. */
export const context = {me: null, records: [], patient: null, reload: () => show(current)};
let current = SECTIONS[0];

function welcome(message) {
  nav.hidden = true;
  fill(who);
  fill(main,
    h("h1", {}, "Mon dossier médical"),
    h("p", {}, "Consultez vos documents, voyez qui y a accédé et décidez qui peut les lire."),
    message ? h("p", {class: "notice"}, message) : null,
    h("button", {type: "button", class: "primary", onclick: () => signIn()}, "Se connecter"));
}

function chooser() {
  if (context.records.length < 2) return null;
  const id = uid("dossier");
  return h("p", {class: "chooser"}, h("label", {for: id}, "Dossier de "),
    h("select", {id, onchange: (event) => {
      context.patient = context.records.find((p) => `Patient/${p.id}` === event.target.value);
      show(current);
    }}, context.records.map((p) => h("option", {value: `Patient/${p.id}`,
      selected: context.patient === p}, personName(p) || p.id))));
}

function header() {
  const patient = context.patient;
  const label = context.me.startsWith("RelatedPerson/") ? `Dossier de ${personName(patient)} (vous le représentez)` : `Dossier de ${personName(patient)}`;
  fill(who, h("span", {class: "record-name"}, label), " ",
    h("button", {type: "button", class: "link", onclick: () => { signOut(); forget(); welcome("Vous êtes déconnecté."); }}, "Se déconnecter"));
  fill(nav, h("ul", {}, SECTIONS.map((section) => h("li", {}, h("a", {
    href: `#${section.id}`, "aria-current": section === current ? "page" : null,
  }, section.title)))));
  nav.hidden = false;
}

async function show(section) {
  current = section;
  showError(null);
  header();
  const body = h("div", {class: "section-body"}, h("p", {}, "Chargement…"));
  const chosen = chooser();
  fill(main, h("h1", {id: "title"}, section.title), chosen, body);
  document.title = `${section.title} — Carnet`;
  main.setAttribute("aria-busy", "true");
  try {
    await section.render(body, context);
  } catch (error) {
    fill(body);
    showError(error);
    if (error.status === 401) welcome("Votre session a expiré : reconnectez-vous.");
  } finally {
    main.setAttribute("aria-busy", "false");
  }
}

function route() {
  const wanted = location.hash.slice(1);
  const section = SECTIONS.find((s) => s.id === wanted) || SECTIONS[0];
  show(section).then(() => {
    if (wanted) main.focus();
  });
}

async function start() {
  let current_session;
  try {
    current_session = await completeSignIn();
  } catch (error) {
    welcome(error.message);
    return;
  }
  if (!current_session) {
    welcome();
    return;
  }
  context.me = current_session.fhirUser;
  const none = "Aucun dossier ne vous est ouvert : ce portail est celui des patients et de leurs représentants légaux.";
  try {
    context.records = await search("Patient", {_count: "50"});
  } catch (error) {
    signOut();
    welcome(error.status === 403 ? none : error.message);
    return;
  }
  const own = context.records.find((p) => `Patient/${p.id}` === context.me);
  context.patient = own || context.records[0] || null;
  if (!context.patient) {
    signOut();
    welcome(none);
    return;
  }
  announce(`Connecté : ${personName(context.patient)}`);
  window.addEventListener("hashchange", route);
  route();
}

start();
