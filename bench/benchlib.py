"""What every benchmark here shares: a throwaway embedded database and a line about the machine.

Benchmarks run as ``python bench/<name>.py``, so this module is importable as ``benchlib``.
"""

from __future__ import annotations

import os
import platform
import sqlite3
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def bench_env(var_dir: str, **extra: str) -> dict[str, str]:
    """The environment of a benchmark run: the embedded SQLite database in ``var_dir``
    (the targets are for it, so DATABASE_URL is dropped), tasks inline, mail kept in memory."""
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.update(
        {
            "NQI_VAR_DIR": var_dir,
            "NQI_MEDIA_ROOT": os.path.join(var_dir, "media"),
            "NQI_TASK_BACKEND": "immediate",
            "NQI_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "DJANGO_SETTINGS_MODULE": "nqihub.settings",
            "NQI_LOG_LEVEL": env.get("NQI_LOG_LEVEL", "WARNING"),
            **extra,
        }
    )
    return env


def setup_django(var_dir: str, *, migrate: bool = False, **extra: str) -> None:
    os.environ.pop("DATABASE_URL", None)
    os.environ.update(bench_env(var_dir, **extra))
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def machine() -> str:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.machine()}, {cpu or 'unknown CPU'}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
