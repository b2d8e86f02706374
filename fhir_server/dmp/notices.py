"""Notifications to a record's holder (and attending physician), written by the server as
Communication resources (https://hl7.org/fhir/R4/communication.html) in the patient's compartment:
subject the patient, category ``notification``, the text as payload."""

from __future__ import annotations

import uuid
from datetime import datetime

from consent.elements import instant

from ..errors import PreconditionFailed
from ..storage import Repository
from ..storage import Stored

CATEGORY = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/communication-category",
            "code": "notification",
        }
    ]
}


def notify(
    store: Repository,
    patient: str,
    recipients: list[str],
    text: str,
    *,
    now: datetime,
    about: str | None = None,
    id_: str | None = None,
) -> Stored | None:
    """Write one notification about ``patient`` to ``recipients`` (references, patient first).

    With ``id_`` the write is idempotent: None when that notification was already written.
    """
    resource: dict[str, object] = {
        "resourceType": "Communication",
        "status": "completed",
        "category": [CATEGORY],
        "subject": {"reference": patient},
        "sent": instant(now),
        "recipient": [{"reference": ref} for ref in dict.fromkeys(recipients)],
        "payload": [{"contentString": text}],
    }
    if about is not None:
        resource["about"] = [{"reference": about}]
    try:
        return store.write("Communication", id_ or str(uuid.uuid4()), resource, method="POST", expected_vid=0)
    except PreconditionFailed:
        if id_ is None:
            raise
        return None
