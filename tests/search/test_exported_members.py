"""The public surface of search/ and fhir_server.searchset, and search/'s purity."""

from __future__ import annotations

import ast
from pathlib import Path

import search
from fhir_server import searchset


def test_search_all():
    assert search.__all__ == [
        "ParamDef",
        "Registry",
        "SearchError",
        "SearchRequest",
        "compile_criteria",
        "index_values",
        "load",
        "parse",
        "patient_refs",
        "sort_keys",
    ]
    for name in search.__all__:
        assert hasattr(search, name)


def test_searching_all():
    assert set(searchset.__all__) == {"confined_records", "find_matches", "instant_bound", "page_offset", "search"}


def test_search_imports_only_stdlib_and_consent():
    root = Path(search.__file__).parent
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            for name in names:
                top = name.split(".")[0]
                assert top not in {"pymongo", "flask", "mongoeco", "fhir_server", "bson", "sqlite3"}, (path, name)
                if path.parent.name != "tools":  # the generator may import fhir.resources (dev time)
                    assert top != "fhir", (path, name)
