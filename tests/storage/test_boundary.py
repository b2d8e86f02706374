"""Only the storage package talks to a database: no database driver, and no raw query through a
driver object, anywhere else in the product."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ["fhir_server", "search", "consent", "profiles"]
STORAGE = ROOT / "fhir_server" / "storage"
DRIVERS = {"pymongo", "sqlite3", "mongoeco", "bson", "apsw", "gridfs"}
#: attribute names that only a driver's objects have: a raw query or handle outside storage
RAW = {"db", "conn", "execute", "executemany", "count_documents", "aggregate", "list_collection_names"}


def product_files() -> list[Path]:
    return [p for package in PRODUCT for p in (ROOT / package).rglob("*.py") if STORAGE not in p.parents]


def test_no_driver_import_outside_storage():
    offenders = []
    for path in product_files():
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            )
            offenders += [(str(path.relative_to(ROOT)), n) for n in names if n.split(".")[0] in DRIVERS]
    assert offenders == []


def test_no_raw_query_outside_storage():
    offenders = []
    for path in product_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in RAW:
                offenders.append((str(path.relative_to(ROOT)), node.lineno, node.attr))
    assert offenders == []


def test_the_check_sees_a_raw_query(tmp_path):
    """The walker itself finds a driver call (the tests above cannot pass vacuously)."""
    tree = ast.parse("store.db['Patient'].count_documents({})\nimport pymongo\n")
    attrs = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    assert {"db", "count_documents"} <= attrs and any(isinstance(n, ast.Import) for n in ast.walk(tree))
