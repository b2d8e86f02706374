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
from consent.predicate import After
from consent.predicate import And
from consent.predicate import AnyOf
from consent.predicate import Not
from search.plan import Attr

from ..storage import Repository
from ..storage import Stored
from ..storage import no_policy
from .notices import notify

NOTICE_TEXT = (
    "Votre dossier médical partagé a été mis à jour. Nous vous invitons à consulter un professionnel "
    "de santé, en particulier votre médecin traitant."
)
_NOTICE_IDS = uuid.UUID("1d3b0c9e-6a57-4c52-9f1e-2f4a4c7e9b10")


def notify_invisible(store: Repository, now: datetime) -> list[Stored]:
    """Write the notices due at ``now``; the Communications written (none twice)."""
    due = Attr(
        And(
            (
                AnyOf("labels", (INVISIBLE_PATIENT,)),
                After("deposited", instant(now - INVISIBLE_PATIENT_LAPSE)),
                Not(After("deposited", instant(now - INVISIBLE_PATIENT_NOTICE))),
                Not(AnyOf("type", tuple(sorted(TRACE_TYPES)))),
            )
        )
    )
    written = []
    for item in sorted(store.find(None, due, no_policy), key=lambda s: (s.type, s.id)):
        patient = item.acl.get("patient")
        if not isinstance(patient, str):
            continue
        id_ = str(uuid.uuid5(_NOTICE_IDS, f"{item.type}/{item.id}|{item.acl['deposited']}"))
        stored = notify(store, patient, [patient], NOTICE_TEXT, now=now, id_=id_)
        if stored is not None:
            written.append(stored)
    return written
