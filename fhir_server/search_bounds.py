"""How much one search may fetch (includes, chain fan-out), and the error past those bounds."""

from __future__ import annotations

from .errors import FHIRError

#: resources one search may add through _include/_revinclude (``:iterate`` rounds included)
MAX_INCLUDED = 1000
#: ids a chained or _has criterion may match before the outer query (MongoDB adapter: it lists them)
MAX_FANOUT = 10_000


class TooCostly(FHIRError):
    """A search whose includes or chains would fetch more than the server bounds."""

    status_code = 400
    issue_code = "too-costly"
