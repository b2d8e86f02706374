"""INVISIBLE_PATIENT timers over HTTP and in the store: the lift at deposit + 30 days to the
microsecond (lazy, in the consent rules), the notice at 14 days (fhir_server.dmp.timers, `carnet timers`).
The rule itself: tests/consent/test_timers.py."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from flask import Flask

from consent.labels import INVISIBLE_PATIENT
from consent.predicate import After
from fhir_server.dmp import cli as dmp_cli
from fhir_server.dmp import timers
from fhir_server.storage import get_store
from tests.dmp.world import DEPOSIT
from tests.dmp.world import P
from tests.dmp.world import communications
from tests.dmp.world import document
from tests.dmp.world import put
from tests.dmp.world import seed
from tests.dmp.world import token
from tests.support import bearer
from tests.support import shared_store

PATIENT = "Patient/ins-adulte"


@pytest.mark.usefixtures("world")
@pytest.mark.parametrize(
    ("delta", "visible"),
    [
        (timedelta(days=1), False),
        (timedelta(days=14), False),
        (timedelta(days=30) - timedelta(microseconds=1), False),
        (timedelta(days=30), True),
        (timedelta(days=400), True),
    ],
)
def test_the_flag_lapses_at_thirty_days(app, client, clock, delta, visible):
    clock.moment = DEPOSIT + delta
    resp = client.get("/fhir/DocumentReference/invisible-patient", headers=token(app, PATIENT))
    assert resp.status_code == (200 if visible else 404)


@pytest.mark.usefixtures("world")
@pytest.mark.parametrize(("delta", "visible"), [(timedelta(days=29, hours=23), False), (timedelta(days=30), True)])
def test_searches_follow_the_lapse(app, client, clock, delta, visible):
    clock.moment = DEPOSIT + delta
    bundle = client.get("/fhir/DocumentReference?patient=ins-adulte", headers=token(app, PATIENT)).get_json()
    ids = {entry["resource"]["id"] for entry in bundle["entry"]}
    assert ("invisible-patient" in ids) is visible


@pytest.mark.usefixtures("world")
def test_the_notice_is_due_at_fourteen_days_once(app, clock):
    with app.app_context():
        store = get_store()
        assert timers.notify_invisible(store, DEPOSIT + timedelta(days=14) - timedelta(seconds=1)) == []
        (written,) = timers.notify_invisible(store, DEPOSIT + timedelta(days=14))
        assert timers.notify_invisible(store, DEPOSIT + timedelta(days=20)) == []
    assert written.resource["recipient"] == [{"reference": P}]
    assert written.resource["subject"] == {"reference": P}
    assert "about" not in written.resource  # the item is still hidden from the patient
    assert [c["id"] for c in communications(app)] == [written.id]


@pytest.mark.usefixtures("world")
@pytest.mark.parametrize(
    ("flags", "age", "notified"),
    [
        ((INVISIBLE_PATIENT,), timedelta(days=15), True),
        ((), timedelta(days=15), False),  # not flagged
        ((INVISIBLE_PATIENT,), timedelta(days=10), False),  # too early
        ((INVISIBLE_PATIENT,), timedelta(days=30), False),  # lifted already
    ],
)
def test_which_items_are_noticed(app, client, system, clock, flags, age, notified):
    moment = DEPOSIT + timedelta(days=100)
    date = (moment - age).isoformat()
    put(client, system, document("late", flags=flags, date=date))
    with app.app_context():
        written = timers.notify_invisible(get_store(), moment)
    # the seeded invisible-patient item is 100 days old: never noticed here
    assert len(written) == notified


def test_carnet_timers(tmp_path, make_app, monkeypatch, capsys):
    """The command reads the time from its app's CLOCK: set here 15 days after the pending item's
    deposit (and 100 days after the seeded invisible item's, never noticed)."""
    moment = DEPOSIT + timedelta(days=100)
    app = make_app(**shared_store(tmp_path, monkeypatch), CLOCK=lambda: moment)  # the command opens it again
    client = app.test_client()
    system = bearer(app)
    seed(client, system)
    deposit = moment - timedelta(days=15)
    put(client, system, document("pending", flags=(INVISIBLE_PATIENT,), date=deposit.isoformat()))
    opened = dmp_cli.command_app  # type: ignore[attr-defined]  # the name the CLI calls, patched below

    @contextmanager
    def clocked(data_dir: str) -> Iterator[Flask]:
        with opened(data_dir) as command:
            command.config["CLOCK"] = lambda: moment
            yield command

    monkeypatch.setattr(dmp_cli, "command_app", clocked)
    monkeypatch.setenv("CARNET_DATA_DIR", str(tmp_path))
    assert dmp_cli.timers_command(argparse.Namespace(data_dir=str(tmp_path))) == 0
    (written,) = communications(app)
    assert capsys.readouterr().out == f"notified {P}: Communication/{written['id']}\n"
    assert dmp_cli.timers_command(argparse.Namespace(data_dir=str(tmp_path))) == 0
    assert capsys.readouterr().out == ""


INSTANTS = ["2026-11-20T12:59:59.999999Z", "2026-11-20T13:00:00.000000Z", "2026-11-20T13:00:00.000001Z"]
#: ``deposited`` is a scalar attribute (an instant or None: consent.attributes), held as an indexed
#: column by the embedded store; list attributes may hold anything
AFTER_CASES = [("deposited", v) for v in [None, "absent", *INSTANTS]] + [
    ("stamps", v)
    for v in [
        None,
        "absent",
        [],
        7,
        *INSTANTS,
        ["2026-01-01T00:00:00.000000Z", "2027-01-01T00:00:00.000000Z"],
        ["2026-01-01T00:00:00.000000Z", 7],
    ]
]


@pytest.mark.parametrize(("path", "value"), AFTER_CASES)
def test_after_is_gt_in_the_store(tmp_path, path, value):
    """After's translation by the store (a scalar attribute column or a list one; Not of it too) is
    evaluate's semantics: resources stored with exactly ``acl`` (the indexer bypassed)."""
    from consent.predicate import Not
    from consent.predicate import evaluate
    from fhir_server.storage import no_policy
    from fhir_server.storage import open_repository
    from search.plan import TRUE
    from search.plan import Attr
    from tests.support import app_config

    acl = {} if value == "absent" else {path: value}
    node = After(path, "2026-11-20T13:00:00.000000Z")
    repo = open_repository(app_config(tmp_path), lambda type_, resource: ({}, acl))
    try:
        repo.write("Basic", "x", {"resourceType": "Basic"}, method="PUT")
        assert (stored := repo.current("Basic", "x")) is not None and stored.acl == acl
        assert bool(repo.find("Basic", Attr(node), no_policy)) is evaluate(node, acl)
        assert bool(repo.find("Basic", Attr(Not(node)), no_policy)) is evaluate(Not(node), acl)
        assert bool(repo.find("Basic", TRUE, lambda type_: node)) is evaluate(node, acl)
        total, _ = repo.history("Basic", None, None, lambda type_: node, 0, 10)
        assert bool(total) is evaluate(node, acl)
    finally:
        repo.drop()
        repo.close()
