"""Every error the server answers, each rendered as one OperationOutcome.

FHIRError -> status code and issue code; a single Flask error handler renders them
(https://hl7.org/fhir/R4/operationoutcome.html, https://hl7.org/fhir/R4/http.html).
"""

from __future__ import annotations

from typing import Any


class FHIRError(Exception):
    """An error with its wire form: an HTTP status and OperationOutcome issues."""

    status_code = 400
    issue_code = "invalid"
    severity = "error"

    def __init__(
        self,
        diagnostics: str,
        *,
        expression: list[str] | None = None,
        issues: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(diagnostics)
        self.diagnostics = diagnostics
        self.headers = headers or {}
        self.issues = issues or [issue(self.severity, self.issue_code, diagnostics, expression)]


def issue(severity: str, code: str, diagnostics: str, expression: list[str] | None = None) -> dict[str, Any]:
    """One OperationOutcome.issue."""
    out: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        out["expression"] = expression
    return out


def operation_outcome(issues: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": issues}


class BadRequest(FHIRError):
    """400: malformed request (syntax, unknown parameter, bad header)."""


class Unauthorized(FHIRError):
    """401: no valid bearer token."""

    status_code = 401
    issue_code = "login"


class Forbidden(FHIRError):
    """403: the token's scopes do not allow this interaction on this type."""

    status_code = 403
    issue_code = "forbidden"


class NotFound(FHIRError):
    """404: unknown, hidden or unsupported. Hidden and absent answer the same."""

    status_code = 404
    issue_code = "not-found"


class MethodNotAllowed(FHIRError):
    status_code = 405
    issue_code = "not-supported"


class NotAcceptable(FHIRError):
    status_code = 406
    issue_code = "not-supported"


class Conflict(FHIRError):
    status_code = 409
    issue_code = "conflict"


class Gone(FHIRError):
    """410: the resource was deleted (R4 http.html#read)."""

    status_code = 410
    issue_code = "deleted"


class PreconditionFailed(FHIRError):
    """412: If-Match is stale, or a conditional interaction matched several resources."""

    status_code = 412
    issue_code = "conflict"


class PayloadTooLarge(FHIRError):
    status_code = 413
    issue_code = "too-costly"


class UnsupportedMediaType(FHIRError):
    status_code = 415
    issue_code = "not-supported"


class Unprocessable(FHIRError):
    """422: the resource violates the R4 schema, a profile or a business rule."""

    status_code = 422
    issue_code = "processing"
