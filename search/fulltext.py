"""Full-text search parameters (https://hl7.org/fhir/R4/search.html#content): ``_content`` (the
document's content: attachments as text) and ``_text`` (the narrative), on DocumentReference.

Their values are one folded text each (``words``: lower case, accents removed, punctuation as
spaces), stored as ordinary search values under the parameter's code, so both adapters match them
inside the query with the consent policy (the plan's ``word`` operator: the text holds the
searched words at a word start). Extraction from bytes lives with the server (``fhir_server.fulltext``).
"""

from __future__ import annotations

import re

from .normalize import fold

__all__ = ["CODES", "MAX_CHARS", "TYPES", "URLS", "words"]

#: the full-text parameters (string parameters the server fills) and their R4 SearchParameter
URLS = {
    "_content": "http://hl7.org/fhir/SearchParameter/Resource-content",
    "_text": "http://hl7.org/fhir/SearchParameter/DomainResource-text",
}
CODES = tuple(URLS)
#: the types whose full text is indexed
TYPES = frozenset({"DocumentReference"})
#: indexed characters per resource and parameter (a search value, not an archive)
MAX_CHARS = 200_000
_NOT_WORD = re.compile(r"[^\w]+")


def words(text: str) -> str:
    """``text`` as the full-text parameters store and search it."""
    return _NOT_WORD.sub(" ", fold(text)).strip()[:MAX_CHARS]
