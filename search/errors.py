"""The one exception search raises; ``fhir_server.searchset`` turns it into a 400 OperationOutcome."""

from __future__ import annotations

__all__ = ["SearchError"]


class SearchError(ValueError):
    """A search the server cannot run as asked: unknown parameter, bad modifier or malformed value.

    ``param`` names the offending parameter (as written in the request) when there is one.
    """

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
