"""Text out of document content, for the ``_content`` and ``_text`` search values (``search.fulltext``).

- ``text/plain`` (and other ``text/*`` but XML): the text, decoded (UTF-8, else Latin-1);
- ``text/xml``, ``application/xml``, ``application/hl7-v3+xml`` (CDA R2): the narrative, i.e. the
  text of every ``section/text`` block (all text of the document when it has none);
- ``application/pdf``: the text layer, by pypdf (pure Python, BSD, maintained by the py-pdf
  organisation with regular releases; no native library to build or ship, unlike PyMuPDF (AGPL)
  or poppler bindings, and faster to install and safer to run on untrusted input than
  pdfminer.six for a search index); a scanned PDF without a text layer gives nothing;
- anything else: nothing.

Extraction never fails a write: unreadable content gives no text.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterable
from typing import Any
from xml.etree import ElementTree

from search.fulltext import MAX_CHARS

log = logging.getLogger(__name__)
#: content larger than this is not read for its text (the bytes stay retrievable)
MAX_EXTRACT_BYTES = 32 * 1024 * 1024
_XML = ("text/xml", "application/xml", "application/hl7-v3+xml", "application/cda+xml")
_TAGS = re.compile(r"<[^>]+>")


def text_of(content_type: str | None, data: bytes) -> str:
    """The searchable text of ``data`` as ``content_type``; '' when there is none."""
    mime = (content_type or "").split(";")[0].strip().lower()
    if len(data) > MAX_EXTRACT_BYTES:
        return ""
    try:
        if mime in _XML or mime.endswith("+xml"):
            return _xml_narrative(data)
        if mime.startswith("text/"):
            return _decode(data)
        if mime == "application/pdf":
            return _pdf_text(data)
    except Exception as exc:  # noqa: BLE001 -- a broken file (any parser's error) is no search text, never a failed write
        log.info("no text extracted from %s content: %s", mime, exc)
    return ""


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _xml_narrative(data: bytes) -> str:
    root = ElementTree.fromstring(data)  # the stdlib parser resolves no external entities
    blocks = [el for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "text" and _parent_is_section(root, el)]
    chosen: Iterable[ElementTree.Element] = blocks or [root]
    return " ".join(" ".join(block.itertext()) for block in chosen)


def _parent_is_section(root: ElementTree.Element, element: ElementTree.Element) -> bool:
    for parent in root.iter():
        if element in list(parent):
            return parent.tag.rsplit("}", 1)[-1] == "section"
    return False


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    out, size = [], 0
    for page in reader.pages:
        text = page.extract_text() or ""
        out.append(text)
        size += len(text)
        if size > MAX_CHARS:
            break
    return "\n".join(out)


def narrative(resource: dict[str, Any]) -> str:
    """The text of a resource's narrative (``text.div``, XHTML)."""
    div = (resource.get("text") or {}).get("div") if isinstance(resource.get("text"), dict) else None
    return _TAGS.sub(" ", div) if isinstance(div, str) else ""
