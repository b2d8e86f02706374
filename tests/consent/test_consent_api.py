"""The public surface of ``consent``: what ``__all__`` promises exists and nothing more is promised."""

from __future__ import annotations

import consent
import consent.engine

PUBLIC = {
    "AccessMatrix",
    "Decision",
    "Directive",
    "Matrix",
    "MatrixError",
    "PatientState",
    "Predicate",
    "Requester",
    "access_attributes",
    "block_warnings",
    "decide",
    "emergency_barrier",
    "evaluate",
    "load_matrix",
    "may_write",
    "open_matrix",
    "patient_state",
    "policy",
    "visible_flags_rule",
}


def test_consent_exports():
    assert set(consent.__all__) == PUBLIC
    assert all(hasattr(consent, name) for name in consent.__all__)


def test_engine_exports_resolve():
    assert all(hasattr(consent.engine, name) for name in consent.engine.__all__)


def test_consent_is_pure():
    """consent/ imports the standard library and itself only (DESIGN §2)."""
    import ast
    import pathlib
    import sys

    for path in pathlib.Path(consent.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or top in ("consent", "__future__"), (path.name, name)
