"""Project-level guarantees that CI must keep."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command


@pytest.mark.django_db
def test_migrations_match_the_models():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_no_asset_is_loaded_from_outside():
    """Government intranets have no internet: templates and static files reference only the
    project's own assets."""
    roots = [Path(settings.BASE_DIR) / "nqihub"]
    offenders = []
    for root in roots:
        for path in root.rglob("*"):
            if path.suffix not in {".html", ".css", ".js"} or not path.is_file():
                continue
            text = path.read_text(encoding="utf-8", errors="ignore")
            for marker in ("cdn.", "unpkg.com", "jsdelivr", "fonts.googleapis", "cdnjs", "ajax.googleapis"):
                if marker in text:
                    offenders.append(f"{path}: {marker}")
    assert offenders == []


def test_code_is_lint_clean():
    ruff = Path(settings.BASE_DIR) / ".venv" / "bin" / "ruff"
    if not ruff.exists():
        pytest.skip("ruff is installed by `make setup`")
    result = subprocess.run(
        [str(ruff), "check", "--output-format", "concise", "."], cwd=settings.BASE_DIR, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout
