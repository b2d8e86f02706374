// Sign-in through the server's own SMART authorization code flow with PKCE (S256), as the
// public client the page names; the token lives in sessionStorage, for this tab only.

const config = document.documentElement.dataset;
const SESSION = "carnet.session";
const PENDING = "carnet.pkce";

function base64url(bytes) {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function random(size) {
  return base64url(crypto.getRandomValues(new Uint8Array(size)));
}

function redirectUri() {
  return `${location.origin}/portal/`;
}

/** The FHIR base URL the page was served with. */
export function fhirBase() {
  return config.fhirBase;
}

/** Leave for the sign-in page (the authorization endpoint). */
export async function signIn() {
  const verifier = random(32);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  const state = random(16);
  sessionStorage.setItem(PENDING, JSON.stringify({verifier, state}));
  const params = new URLSearchParams({
    response_type: "code", client_id: config.clientId, redirect_uri: redirectUri(),
    scope: config.scope, state, aud: config.fhirBase,
    code_challenge: base64url(new Uint8Array(digest)), code_challenge_method: "S256",
  });
  location.assign(`${config.authorize}?${params}`);
}

/** Finish a sign-in when the URL carries a code (or an error); returns the session or null. */
export async function completeSignIn() {
  const query = new URLSearchParams(location.search);
  if (!query.has("code") && !query.has("error")) return session();
  history.replaceState(null, "", "/portal/");
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
  sessionStorage.removeItem(PENDING);
  if (query.has("error")) {
    const refused = query.get("error") === "access_denied";
    throw new Error(refused ? "Connexion annulée." : `Connexion refusée : ${query.get("error_description") || query.get("error")}`);
  }
  if (!pending || pending.state !== query.get("state")) throw new Error("La connexion a expiré : recommencez.");
  const response = await fetch(config.token, {
    method: "POST",
    headers: {"Content-Type": "application/x-www-form-urlencoded", Accept: "application/json"},
    body: new URLSearchParams({
      grant_type: "authorization_code", code: query.get("code"), redirect_uri: redirectUri(),
      client_id: config.clientId, code_verifier: pending.verifier,
    }),
  });
  const token = await response.json();
  if (!response.ok) throw new Error(`Connexion refusée : ${token.error_description || token.error}`);
  const claims = JSON.parse(atob(token.id_token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
  const fhirUser = String(claims.fhirUser || "").split("/").slice(-2).join("/");
  const stored = {
    accessToken: token.access_token, scope: token.scope, fhirUser, username: claims.sub,
    expires: Date.now() + 1000 * (token.expires_in || 3600),
  };
  sessionStorage.setItem(SESSION, JSON.stringify(stored));
  return stored;
}

/** The current session, or null when signed out or expired. */
export function session() {
  const stored = JSON.parse(sessionStorage.getItem(SESSION) || "null");
  if (!stored || stored.expires <= Date.now()) return null;
  return stored;
}

/** Forget the token (the server's tokens expire by themselves). */
export function signOut() {
  sessionStorage.removeItem(SESSION);
}
