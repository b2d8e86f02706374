"""``carnet timers`` and ``carnet purge``: the DMP's scheduled jobs (run them from cron).

``carnet timers --data-dir D`` writes the INVISIBLE_PATIENT 14-day notices due
(``fhir_server.dmp.timers``). ``carnet purge --data-dir D [--patient Patient/x] [--early] [--apply]``
lists the closed records due for purging (``fhir_server.dmp.retention``) and removes them only with
``--apply``; ``--early`` purges the ``--patient`` record before its term (it must be closed).
"""

from __future__ import annotations

import argparse
from typing import Any

from ..app import command_app


def add_parser(sub: Any) -> None:
    """Add the ``timers`` and ``purge`` subcommands to the ``carnet`` parser's subparsers."""
    timers = sub.add_parser("timers", help="write the notifications the visibility timers owe")
    timers.add_argument("--data-dir", default="./var")
    timers.set_defaults(func=timers_command)

    purge = sub.add_parser("purge", help="remove closed records past retention (dry run by default)")
    purge.add_argument("--data-dir", default="./var")
    purge.add_argument("--patient", help="only this record (Patient/id)")
    purge.add_argument("--early", action="store_true", help="purge --patient now, before its term")
    purge.add_argument("--apply", action="store_true", help="remove the data (default: only list them)")
    purge.set_defaults(func=purge_command)


def timers_command(args: argparse.Namespace) -> int:
    from .. import clock
    from ..storage import get_store
    from . import timers

    with command_app(args.data_dir):
        for stored in timers.notify_invisible(get_store(), clock.now()):
            print(f"notified {stored.resource['subject']['reference']}: Communication/{stored.id}")
    return 0


def purge_command(args: argparse.Namespace) -> int:
    from .. import clock
    from ..storage import get_store
    from . import retention

    if args.early and not args.patient:
        print("carnet purge: --early needs --patient")
        return 2
    with command_app(args.data_dir) as app:
        store = get_store()
        years = int(app.config.get("RETENTION_YEARS", retention.RETENTION_YEARS))
        records = retention.due(store, clock.now(), years=years, patient=args.patient, early=args.early)
        for record in records:
            counts = ", ".join(f"{name} {count}" for name, count in sorted(record.documents.items()))
            if args.apply:
                retention.purge(store, record)
            verb = "purged" if args.apply else "would purge"
            print(f"{verb} {record.patient} (closed {record.closed}; {record.why}): {counts}")
    if args.patient and not records:
        print(f"carnet purge: {args.patient} is not a closed record due for purging (see --early)")
        return 1
    return 0
