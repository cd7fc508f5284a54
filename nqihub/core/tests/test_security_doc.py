"""docs/security.md shows each 等保 clause with the test that proves it: every test it names
must exist, so a renamed or deleted test cannot leave the document citing nothing."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "security.md"

# `app/tests/test_x.py::test_name`, `::test_name` (same file as the last path), or a path alone.
REFERENCE = re.compile(r"`((?:[a-z_]+/)+test_[a-z0-9_]+\.py)?(?:::(test_[a-z0-9_]+))?`")


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def _references() -> list[tuple[str, str | None]]:
    found = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        last_path = None
        for match in REFERENCE.finditer(line):
            path, name = match.group(1), match.group(2)
            if path:
                last_path = path
            if path or name:
                found.append((path or last_path, name))
    return found


def test_every_test_the_security_document_names_exists():
    references = _references()
    assert len(references) > 30  # the clause tables are there
    missing = []
    for path, name in references:
        if path is None:
            missing.append(f"::{name} (no file named before it on the line)")
            continue
        file = ROOT / path if path.startswith("nqihub/") else ROOT / "nqihub" / path
        if not file.is_file():
            missing.append(path)
        elif name and name not in _tests_in(file):
            missing.append(f"{path}::{name}")
    assert missing == [], missing
