"""Rate limits count once for the whole installation (issue: the /verify/ limit was per
process, so 103 of 150 checks in a second passed a limit of 60 with a few workers)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from django.core.cache import caches
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from nqihub.core import ratelimit
from nqihub.core.models import RateCounter

ROOT = Path(__file__).resolve().parents[3]
REDIS_SERVER = shutil.which("redis-server")
REQUIRE_REDIS_ENV = "NQI_REQUIRE_REDIS"


def test_counts_exactly_and_per_key(db):
    results = [ratelimit.hit("t", "10.0.0.1", limit=3, window_seconds=60) for _ in range(5)]
    assert results == [False, False, False, True, True]
    assert ratelimit.hit("t", "10.0.0.2", limit=3, window_seconds=60) is False  # another key
    assert ratelimit.hit("other", "10.0.0.1", limit=3, window_seconds=60) is False  # another scope
    assert RateCounter.objects.get(key="t:10.0.0.1").hits == 5


def test_one_statement_per_hit_and_none_without_a_limit(db):
    ratelimit.hit("t", "a", limit=5, window_seconds=60)
    with CaptureQueriesContext(connection) as queries:
        ratelimit.hit("t", "a", limit=5, window_seconds=60)
    assert len(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        assert ratelimit.hit("t", "a", limit=0, window_seconds=60) is False
    assert len(queries) == 0


def test_a_new_window_starts_a_new_count(db, monkeypatch):
    now = [1_000_020.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    assert [ratelimit.hit("t", "k", limit=1, window_seconds=60) for _ in range(2)] == [False, True]
    now[0] += 60
    assert ratelimit.hit("t", "k", limit=1, window_seconds=60) is False
    assert ratelimit.prune_expired(now=int(now[0])) == 1  # the first window is spent
    assert RateCounter.objects.count() == 1


def test_a_long_key_is_hashed_not_cut(db):
    long_a, long_b = "x" * 300 + "a", "x" * 300 + "b"
    assert ratelimit.hit("t", long_a, limit=1, window_seconds=60) is False
    assert ratelimit.hit("t", long_b, limit=1, window_seconds=60) is False  # not the same counter
    assert ratelimit.hit("t", long_a, limit=1, window_seconds=60) is True


def test_migrate_makes_the_cache_table(db, settings):
    """`migrate` (the one set-up command) also creates the database cache's table."""
    from nqihub.core.apps import create_cache_tables

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "nqihub_cache_probe"}
    }
    create_cache_tables(sender=None, using="default", verbosity=0)
    assert "nqihub_cache_probe" in connection.introspection.table_names()
    caches["default"].set("nqi:probe", 41)
    assert caches["default"].incr("nqi:probe") == 42


# --- several processes count together --------------------------------------------------------

WORKER = textwrap.dedent(
    """
    import os, sys, time
    import django
    django.setup()
    from django.db import connection, connections
    from nqihub.core import ratelimit
    start = float(sys.argv[1])
    while time.time() < start:
        time.sleep(0.005)
    allowed = sum(
        not ratelimit.hit("verify", "203.0.113.7", limit=60, window_seconds=3600) for _ in range(50)
    )
    connection.close()
    print(allowed)
    """
)


def _run_processes(env: dict[str, str], processes: int = 3) -> list[int]:
    start = time.time() + 4  # every process is set up and waiting before the first hit
    children = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(start)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    allowed = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        allowed.append(int(out.strip().splitlines()[-1]))
    return allowed


def _child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "NQI_CACHE_URL")}
    env["DJANGO_SETTINGS_MODULE"] = "nqihub.test_settings"
    env.update(extra)
    return env


def test_three_processes_share_one_limit_in_the_database(db, tmp_path):
    """150 checks from one address in three processes against a limit of 60: exactly 60 pass
    (per-process counting let 103 through)."""
    key_filter = "verify:203.0.113.7"
    if connection.vendor == "sqlite":
        # The suite's in-memory database is private to this process: the children share a file.
        db_url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
        setup = subprocess.run(
            [
                sys.executable,
                "-c",
                "import django; django.setup();"
                "from django.db import connection; from nqihub.core.models import RateCounter\n"
                "with connection.schema_editor() as editor: editor.create_model(RateCounter)",
            ],
            cwd=ROOT,
            env=_child_env(DATABASE_URL=db_url),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert setup.returncode == 0, setup.stderr
        assert sum(_run_processes(_child_env(DATABASE_URL=db_url))) == 60
        return
    # PostgreSQL: the children count in the suite's own test database, committing as they go;
    # their rows are removed afterwards on a connection of its own (this test's transaction
    # is rolled back, and a transactional test would flush every table).
    s = connection.settings_dict
    db_url = f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"
    try:
        assert sum(_run_processes(_child_env(DATABASE_URL=db_url))) == 60
    finally:
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("DELETE FROM core_ratecounter WHERE key = %s", [key_filter])
        finally:
            other.close()


# --- Redis, when NQI_CACHE_URL names one ------------------------------------------------------


@pytest.fixture
def redis_url():
    if not REDIS_SERVER:
        reason = "redis-server not installed (Debian package redis-server)"
        if os.environ.get(REQUIRE_REDIS_ENV) == "1":
            pytest.fail(f"{reason}; {REQUIRE_REDIS_ENV}=1 requires the Redis tests to run", pytrace=False)
        pytest.skip(reason)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    workdir = tempfile.mkdtemp(prefix="nqihub-redis-")
    server = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.kill()
        server.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def test_the_cache_is_shared_and_nqi_cache_url_selects_redis():
    """The real settings (not the suite's): the database cache and database counters by
    default, Redis for both with NQI_CACHE_URL; an address of another kind is refused at start."""
    base = {**_child_env(), "DJANGO_SETTINGS_MODULE": "nqihub.settings"}
    code = (
        "import django; django.setup(); from django.conf import settings;"
        "print(settings.CACHES['default']['BACKEND'], settings.NQI_RATE_COUNTERS)"
    )

    def run(**env):
        return subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
        )

    out = run()
    assert out.stdout.split() == ["django.core.cache.backends.db.DatabaseCache", "database"], out.stderr
    out = run(NQI_CACHE_URL="redis://10.0.0.5:6379/0")
    assert out.stdout.split() == ["django.core.cache.backends.redis.RedisCache", "cache"], out.stderr
    bad = run(NQI_CACHE_URL="memcached://10.0.0.5")
    assert bad.returncode != 0 and "NQI_CACHE_URL must be" in bad.stderr


def test_counts_in_redis_across_processes(redis_url, db, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}}
    settings.NQI_RATE_COUNTERS = "cache"
    results = [ratelimit.hit("t", "10.0.0.1", limit=2, window_seconds=60) for _ in range(3)]
    assert results == [False, False, True]
    assert not RateCounter.objects.exists()  # Redis counts, not the database
    allowed = _run_processes(_child_env(NQI_CACHE_URL=redis_url))
    assert sum(allowed) == 60, allowed


def test_threads_of_one_process_count_exactly_on_a_shared_file(db, tmp_path):
    """Eight threads counting at once on a file database (as the embedded server does): every
    hit is counted once, none fails with "database is locked", and the threads take their turn
    through the process's lock rather than SQLite's sleeping retries."""
    if connection.vendor != "sqlite":
        pytest.skip("the process lock is for SQLite")
    db_url = f"sqlite:///{tmp_path / 'threads.sqlite3'}"
    script = textwrap.dedent(
        """
        import threading, time
        import django
        django.setup()
        from django.db import connection
        from nqihub.core import ratelimit
        from nqihub.core.models import RateCounter
        with connection.schema_editor() as editor:
            editor.create_model(RateCounter)
        connection.close()
        waits = []
        def work():
            for _ in range(100):
                started = time.perf_counter()
                ratelimit.hit("verify", "203.0.113.9", limit=10_000, window_seconds=3600)
                waits.append(time.perf_counter() - started)
            connection.close()
        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(RateCounter.objects.get().hits, len(waits))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=_child_env(DATABASE_URL=db_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["800", "800"]


def test_inside_a_transaction_the_process_lock_is_not_taken(db, monkeypatch):
    """A thread inside a transaction already holds SQLite's write lock: it must not wait for the
    process's lock (held by a thread waiting for SQLite's), or the two would wait on each other."""

    class Refuse:
        def __enter__(self):
            raise AssertionError("the process lock was taken inside a transaction")

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(ratelimit, "_SQLITE_TURN", Refuse())
    from django.db import transaction

    with transaction.atomic():
        assert ratelimit.hit("t", "in-tx", limit=5, window_seconds=60) is False
