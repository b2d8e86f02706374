"""National identifiers checked by their system, whatever profile a resource claims (issue 12).

- INS (``urn:oid:1.2.250.1.213.1.4.8`` INS-NIR, ``.9`` INS-NIA, ``.10`` test, ``.11`` demonstration):
  13 characters (sex, year, month, department — ``2A``/``2B`` in Corsica —, commune, order) and a
  2-digit key, ``97 - (number mod 97)`` with ``2A`` read as 19 and ``2B`` as 18 (the NIR's rule).
- ``urn:oid:1.2.250.1.71.4.2.1`` (idNatPs): ``8`` + an 11-digit RPPS, or ``0`` + a 9-character ADELI.
- ``https://rpps.esante.gouv.fr``: an 11-digit RPPS.
Checked on Patient, Practitioner and PractitionerRole bodies (``identifier``) and on the
identifiers of RelatedPerson; a profile claim adds its other rules.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import issue

INS_SYSTEMS = {
    "urn:oid:1.2.250.1.213.1.4.8": "INS-NIR",
    "urn:oid:1.2.250.1.213.1.4.9": "INS-NIA",
    "urn:oid:1.2.250.1.213.1.4.10": "INS-NIR-TEST",
    "urn:oid:1.2.250.1.213.1.4.11": "INS-NIR-DEMO",
}
IDNATPS = "urn:oid:1.2.250.1.71.4.2.1"
RPPS = "https://rpps.esante.gouv.fr"
_NIR = re.compile(r"^[0-9]{5}([0-9]{2}|2[AB])[0-9]{6}[0-9]{2}$")
_IDNATPS = re.compile(r"^(8[0-9]{11}|0([0-9]{2}|2[AB])[0-9]{7})$")
_RPPS = re.compile(r"^[0-9]{11}$")
CHECKED_TYPES = frozenset({"Patient", "Practitioner", "PractitionerRole", "RelatedPerson"})


def nir_key_ok(value: str) -> bool:
    """Whether a 15-character NIR (or NIA) carries its key: 97 - (the 13 first as a number mod 97)."""
    body = value[:5] + {"2A": "19", "2B": "18"}.get(value[5:7], value[5:7]) + value[7:13]
    return 97 - int(body) % 97 == int(value[13:])


def problem(system: str, value: Any) -> str | None:
    """Why ``value`` is not an identifier of ``system``; None when it is (or the system is not ours)."""
    if system in INS_SYSTEMS:
        name = INS_SYSTEMS[system]
        if not isinstance(value, str) or not _NIR.match(value):
            return f"an {name} is 15 characters: 13 (sex, year, month, department, commune, order) and a 2-digit key"
        if not nir_key_ok(value):
            return f"the key of this {name} is wrong (97 - the 13 first digits mod 97, 2A read 19 and 2B 18)"
    elif system == IDNATPS:
        if not isinstance(value, str) or not _IDNATPS.match(value):
            return "an idNatPs is 8 + an 11-digit RPPS number or 0 + a 9-character ADELI number"
    elif system == RPPS and (not isinstance(value, str) or not _RPPS.match(value)):
        return "an RPPS number is 11 digits"
    return None


def issues(resource: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    """An error issue per national identifier of ``resource`` whose value does not fit its system."""
    if resource_type not in CHECKED_TYPES:
        return []
    found = resource.get("identifier")
    out = []
    for index, identifier in enumerate(found if isinstance(found, list) else []):
        if not isinstance(identifier, dict) or not isinstance(identifier.get("system"), str):
            continue
        why = problem(identifier["system"], identifier.get("value"))
        if why is not None:
            where = f"{resource_type}.identifier[{index}].value"
            out.append(issue("error", "value", f"{where}: {why}", [where]))
    return out
