// Who is behind a reference: names and professions of professionals, read from the directory
// (Practitioner, PractitionerRole) through the FHIR API and kept for the page's life.
import {read, search} from "./fhir.js";
import {PROFESSIONS, RPPS, TRE_G15, codesOf, labelOf, personName} from "./codes.js";

const cache = new Map();

/** {ref, name, profession, rpps} for a Practitioner, PractitionerRole, Patient or RelatedPerson ref. */
export async function describe(ref) {
  if (!ref) return {ref, name: "Inconnu", profession: ""};
  if (!cache.has(ref)) cache.set(ref, lookUp(ref));
  return cache.get(ref);
}

async function lookUp(ref) {
  const [type] = ref.split("/");
  try {
    if (type === "PractitionerRole") {
      const role = await read(ref);
      const practitioner = role.practitioner?.reference;
      const person = practitioner ? await describe(practitioner) : {name: ref};
      return {...person, ref, profession: labelOf((role.code || [])[0], PROFESSIONS) || person.profession};
    }
    const resource = await read(ref);
    const result = {ref, name: personName(resource) || ref, profession: "", rpps: rppsOf(resource), resource};
    if (type === "Practitioner") {
      const roles = await search("PractitionerRole", {practitioner: ref});
      const codes = roles.flatMap((role) => codesOf(role.code || [], TRE_G15));
      result.profession = codes.map((code) => PROFESSIONS[code] || code).filter(Boolean).join(", ");
      result.professionCodes = codes;
    }
    return result;
  } catch (error) {
    return {ref, name: ref, profession: "", unknown: true};
  }
}

function rppsOf(resource) {
  const found = (resource.identifier || []).find((id) => id.system === RPPS);
  return found ? found.value : "";
}

/** Forget what was read (after sign-out). */
export function forget() {
  cache.clear();
}
