"""The ``INVISIBLE_PATIENT`` timers (R.1111-53; research/dmp.md §1.5).

The 30-day lift needs no job: the consent rules stop honouring the flag at deposit + 30 days, to
the microsecond (``consent.labels.hiding``); the stored label stays, as history. The 14-day notice
is ``notify_invisible``, run by ``carnet timers`` (e.g. daily from cron): it tells the patient of
each item (access traces aside: they carry the flags of what they name) still flagged 14 to 30
days after its deposit, once per item and deposit (the
Communication's id derives from them, so reruns and concurrent runs write it once), without
naming the item, which is still hidden from them.
"""
from __future__ import annotations

import uuid
from datetime import datetime

from consent.elements import instant
from consent.engine import TRACE_TYPES
from consent.labels import INVISIBLE_PATIENT
from consent.labels import INVISIBLE_PATIENT_LAPSE
from consent.labels import INVISIBLE_PATIENT_NOTICE

from .consent_state import resource_collections
from .notices import notify
from .storage import Store
from .storage import Stored

NOTICE_TEXT = (
    "Votre dossier médical partagé a été mis à jour. Nous vous invitons à consulter un professionnel "
    "de santé, en particulier votre médecin traitant."
)
_NOTICE_IDS = uuid.UUID("1d3b0c9e-6a57-4c52-9f1e-2f4a4c7e9b10")


def notify_invisible(store: Store, now: datetime) -> list[Stored]:
    """Write the notices due at ``now``; the Communications written (none twice)."""
    deposited = {"$gt": instant(now - INVISIBLE_PATIENT_LAPSE), "$lte": instant(now - INVISIBLE_PATIENT_NOTICE)}
    due = {"deleted": False, "acl.labels": INVISIBLE_PATIENT, "acl.deposited": deposited}
    written = []
    for name in sorted(set(resource_collections(store.db)) - TRACE_TYPES):
        for doc in store.db[name].find(due, {"acl": 1}).sort("_id", 1):
            patient = doc["acl"].get("patient")
            if not isinstance(patient, str):
                continue
            id_ = str(uuid.uuid5(_NOTICE_IDS, f"{name}/{doc['_id']}|{doc['acl']['deposited']}"))
            stored = notify(store, patient, [patient], NOTICE_TEXT, now=now, id_=id_)
            if stored is not None:
                written.append(stored)
    return written
