// Small DOM helpers: build elements, announce status, show errors in words.

/** Build an element: h("button", {type: "button", onclick: f}, "Texte"). */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

let ids = 0;
/** A fresh id for label/description links. */
export function uid(prefix = "c") {
  ids += 1;
  return `${prefix}-${ids}`;
}

/** Replace the content of an element. */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** Say something politely to screen readers and sighted users (the status line). */
export function announce(text) {
  const status = document.getElementById("status");
  fill(status, text);
  clearTimeout(announce.timer);
  announce.timer = setTimeout(() => fill(status), 6000);
}

/** Show an error in words (role="alert"); null clears it. */
export function showError(error) {
  const alert = document.getElementById("alert");
  if (!error) {
    alert.hidden = true;
    fill(alert);
    return;
  }
  const text = error.message || String(error);
  fill(alert, h("p", {}, text),
    h("button", {type: "button", class: "link", onclick: () => showError(null)}, "Fermer le message"));
  alert.hidden = false;
}

/** Run an action from a control: disable it meanwhile, report errors in words. */
export async function act(control, action, done) {
  showError(null);
  if (control) control.disabled = true;
  try {
    const result = await action();
    if (done) announce(done);
    return result;
  } catch (error) {
    showError(error);
    return undefined;
  } finally {
    if (control && control.isConnected) control.disabled = false;
  }
}

/** A French date (and time) for a FHIR date or instant. */
export function frenchDate(value, withTime = false) {
  if (!value) return "date inconnue";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  const options = {day: "numeric", month: "long", year: "numeric"};
  if (withTime) Object.assign(options, {hour: "2-digit", minute: "2-digit"});
  return date.toLocaleString("fr-FR", options);
}
