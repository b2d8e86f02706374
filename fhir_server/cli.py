"""The `carnet` command: serve, token, store."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from . import auth
from . import backup_cli
from . import loader
from .dmp import cli as dmp_cli


def _serve(args: argparse.Namespace) -> int:
    from gunicorn.app.base import BaseApplication

    from .app import create_app

    os.environ["CARNET_DATA_DIR"] = str(Path(args.data_dir).resolve())
    workers = args.workers or os.cpu_count() or 1  # the embedded store takes several processes

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", args.threads)
            self.cfg.set("keepalive", 5)
            self.cfg.set("accesslog", None)

        def load(self) -> Any:
            return create_app()

    Server().run()
    return 0


def _store(args: argparse.Namespace) -> int:
    from .storage.mongo import standin

    standin.serve(str(Path(args.data_dir) / "standin.sqlite"), args.host, args.port)
    return 0


def _reindex(args: argparse.Namespace) -> int:
    from . import catalog
    from .app import command_app
    from .storage import get_store
    from .storage.blobs import binaries_last

    with command_app(args.data_dir):
        store = get_store()
        names = set(store.types())
        for type_ in binaries_last(catalog.load().types):
            if type_ in names:
                print(f"{type_}: {store.reindex(type_)} rewritten")
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from .indexing import index_resource
    from .storage import opened_store
    from .storage.migrate import migrate
    from .storage.migrate import source_config

    if bool(args.source_uri) == bool(args.source_dir):
        print("carnet migrate: give exactly one of --from URI or --from-data-dir DIR", file=sys.stderr)
        return 2
    try:
        source = source_config(args.source_uri, args.source_dir)
    except FileNotFoundError as exc:
        print(f"carnet migrate: {exc}", file=sys.stderr)
        return 1
    target = {"DATA_DIR": str(Path(args.data_dir).resolve())}
    if os.environ.get("MONGODB_URI"):
        target["MONGODB_URI"] = os.environ["MONGODB_URI"]
    with opened_store(source, index_resource) as old, opened_store(target, index_resource) as new:
        if new.types() and not args.force:
            print("carnet migrate: the target store is not empty (use --force to merge into it)", file=sys.stderr)
            return 1
        moved = migrate(old, new)
    for name, count in moved.items():
        print(f"{name}: {count}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="carnet", description="Carnet FHIR R4 server")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the FHIR server under gunicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--data-dir", default="./var")
    serve.add_argument("--workers", type=int, default=0, help="worker processes (default: one per core)")
    serve.add_argument("--threads", type=int, default=8)
    serve.set_defaults(func=_serve)

    store = sub.add_parser(
        "store",
        help="serve a MongoDB stand-in (mongoeco, a test dependency) over the wire "
        "protocol, to run the MongoDB adapter without a MongoDB server",
    )
    store.add_argument("--data-dir", default="./var")
    store.add_argument("--host", default="127.0.0.1")
    store.add_argument("--port", type=int, default=0)
    store.set_defaults(func=_store)

    reindex = sub.add_parser("reindex", help="recompute search values, access attributes and consent links")
    reindex.add_argument("--data-dir", default="./var")
    reindex.set_defaults(func=_reindex)

    move = sub.add_parser(
        "migrate",
        help="copy another store (MongoDB, or an older data directory) into this one: "
        "the embedded store under --data-dir, or MONGODB_URI when set",
    )
    move.add_argument("--from", dest="source_uri", help="a MongoDB URI to read from")
    move.add_argument("--from-data-dir", dest="source_dir", help="a data directory to read from")
    move.add_argument("--data-dir", default="./var", help="the target's data directory")
    move.add_argument("--force", action="store_true", help="write into a target that already holds resources")
    move.set_defaults(func=_migrate)

    auth.add_parser(sub)
    dmp_cli.add_parser(sub)
    loader.add_parser(sub)
    backup_cli.add_parser(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
