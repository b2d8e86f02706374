"""The server's clock: ``CLOCK`` in the app config (a callable returning an aware datetime) when
set, for tests and replays; the system clock otherwise. Every timestamp the server writes or
checks (consent decisions, emergency windows, retention, tokens, job heartbeats) is read here."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

from flask import current_app
from flask import has_app_context


def now() -> datetime:
    """The current time, UTC."""
    configured = current_app.config.get("CLOCK") if has_app_context() else None
    moment: datetime = configured() if configured is not None else datetime.now(UTC)
    return moment.astimezone(UTC)


def epoch() -> float:
    """The current time in seconds since the Unix epoch (JWT NumericDate, expiry fields)."""
    return now().timestamp()


def instant(moment: datetime | None = None) -> str:
    """``moment`` (default: now) as a fixed-width UTC FHIR instant, which sorts as a string."""
    return (moment or now()).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
