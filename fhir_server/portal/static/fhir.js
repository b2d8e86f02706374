// The FHIR REST API with the signed-in person's bearer token; errors carry the server's words.
import {fhirBase, session, signOut} from "./smart.js";

/** A refused or failed request, with the OperationOutcome's text as its message. */
export class FhirError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** The words of an OperationOutcome (details.text, else diagnostics), or "". */
export function outcomeText(body) {
  if (!body || body.resourceType !== "OperationOutcome") return "";
  return (body.issue || []).map((issue) => issue.details?.text || issue.diagnostics || issue.code).join(" ");
}

const STATUS_WORDS = {
  400: "Demande refusée", 401: "Session expirée : reconnectez-vous", 403: "Action non autorisée",
  404: "Introuvable", 409: "Conflit", 412: "Modifié entre-temps : rechargez la page", 422: "Données refusées",
};

/** Send a request to the FHIR API; resolves with the JSON body (or null). */
export async function request(method, path, {body, contentType, headers = {}} = {}) {
  const current = session();
  if (!current) throw new FhirError(401, STATUS_WORDS[401]);
  const init = {method, headers: {Accept: "application/fhir+json", Authorization: `Bearer ${current.accessToken}`, ...headers}};
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    init.headers["Content-Type"] = contentType || "application/fhir+json";
  }
  let response;
  try {
    response = await fetch(`${fhirBase()}/${path}`, init);
  } catch (error) {
    throw new FhirError(0, "Le serveur ne répond pas : vérifiez votre connexion.");
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (error) {
    data = null;
  }
  if (response.status === 401) signOut();
  if (!response.ok) {
    const words = outcomeText(data);
    const label = STATUS_WORDS[response.status] || `Erreur ${response.status}`;
    throw new FhirError(response.status, words ? `${label} : ${words}` : label);
  }
  return data;
}

/** The resources of type `type` a search finds (following `next` links, up to `pages`). */
export async function search(type, params = {}, pages = 5) {
  const query = new URLSearchParams(params);
  let bundle = await request("GET", `${type}?${query}`);
  const found = [];
  for (let page = 0; bundle && page < pages; page += 1) {
    for (const entry of bundle.entry || []) {
      if (entry.resource?.resourceType === type) found.push(entry.resource);
    }
    const next = (bundle.link || []).find((link) => link.relation === "next");
    if (!next) break;
    bundle = await request("GET", next.url.slice(fhirBase().length + 1));
  }
  return found;
}

export const read = (ref) => request("GET", ref);
export const create = (resource) => request("POST", resource.resourceType, {body: resource});
export const update = (resource) => request("PUT", `${resource.resourceType}/${resource.id}`, {body: resource});
export const remove = (ref) => request("DELETE", ref);
export const patch = (ref, operations) => request("PATCH", ref, {body: operations, contentType: "application/json-patch+json"});
export const operation = (path, parameters) => request("POST", path, {body: {resourceType: "Parameters", parameter: parameters}});
