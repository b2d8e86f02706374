"""The FHIRPath subset R4 SearchParameter expressions use, parsed into alternative step lists.

https://hl7.org/fhir/R4/fhirpath.html and https://hl7.org/fhirpath/N1/ — only what the 1,400
official R4 definitions use: paths, ``|``, ``as``/``.as()``/``.ofType()``, ``[n]``,
``.where(resolve() is T)``, ``.where(field='literal')``, ``.where(hasExtension('url'))``,
``.extension('url')`` and ``.exists()``. Used by the registry generator (development time);
the run time walks the pre-split steps it produced (see ``search.extract``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import SearchError

__all__ = ["Step", "parse"]

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<num>\d+)|(?P<id>[A-Za-z_][A-Za-z0-9_]*|`[^`]+`)"
    r"|(?P<op>!=|[().|=\[\],]))"
)


@dataclass(frozen=True)
class Step:
    """One navigation step: ``kind`` is child, as, is (resolve() is T), eq, hasext, ext, index, exists."""

    kind: str
    arg: str = ""
    value: str = ""


_IDENT = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*|`[^`]+`)$")


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise SearchError(f"Unsupported FHIRPath near '{text[pos : pos + 20]}'")
        out.append(m.group(m.lastgroup or "op"))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def _unquote(token: str) -> str:
    return token[1:-1].replace("\\'", "'")


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (expected is not None and tok != expected):
            raise SearchError(f"FHIRPath: expected {expected!r}, got {tok!r}")
        self.i += 1
        return tok

    def union(self) -> list[list[Step]]:
        alts = self.typed()
        while self.peek() == "|":
            self.take()
            alts += self.typed()
        return alts

    def typed(self) -> list[list[Step]]:
        alts = self.chain()
        if self.peek() == "as":
            self.take()
            type_ = self.take()
            alts = [[*a, Step("as", type_)] for a in alts]
        return alts

    def chain(self) -> list[list[Step]]:
        if self.peek() == "(":
            self.take()
            alts = self.union()
            self.take(")")
        else:
            name = self.take()
            if not _IDENT.match(name):
                raise SearchError(f"FHIRPath: unexpected {name!r}")
            alts = [[Step("child", name)]]
        while self.peek() in (".", "["):
            if self.take() == "[":
                n = self.take()
                self.take("]")
                alts = [[*a, Step("index", n)] for a in alts]
                continue
            name = self.take()
            if not _IDENT.match(name):
                raise SearchError(f"FHIRPath: expected a name after '.', got {name!r}")
            if self.peek() == "(":
                step = self.function(name)
                alts = [[*a, step] for a in alts]
            else:
                alts = [[*a, Step("child", name.strip("`"))] for a in alts]
        return alts

    def function(self, name: str) -> Step:
        self.take("(")
        if name in ("as", "ofType"):
            step = Step("as", self.take())
        elif name == "extension":
            step = Step("ext", _unquote(self.take()))
        elif name == "exists":
            step = Step("exists")
        elif name == "where":
            step = self.condition()
        else:
            raise SearchError(f"Unsupported FHIRPath function {name}()")
        self.take(")")
        return step

    def condition(self) -> Step:
        head = self.take()
        if head == "resolve":
            self.take("(")
            self.take(")")
            self.take("is")
            return Step("is", self.take())
        if head == "hasExtension":
            self.take("(")
            url = _unquote(self.take())
            self.take(")")
            return Step("hasext", url)
        self.take("=")
        return Step("eq", head, _unquote(self.take()))


def parse(expression: str) -> list[list[Step]]:
    """Alternatives (the ``|`` branches), each a list of steps from the root type name."""
    parser = _Parser(expression)
    alts = parser.union()
    if parser.peek() is not None:
        raise SearchError(f"FHIRPath: unexpected {parser.peek()!r} in {expression!r}")
    return alts
