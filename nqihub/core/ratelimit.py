"""Rate limits shared by every process and server of an installation.

``hit(scope, key, limit=…, window_seconds=…)`` counts one event in the current fixed window
and says whether the limit is now exceeded. Where the counters live follows the cache
setting ``NQI_RATE_COUNTERS``, which follows the cache configuration (``NQI_CACHE_URL``):

- no ``NQI_CACHE_URL`` (the embedded default): the database, in :class:`RateCounter`, raised by
  one ``INSERT … ON CONFLICT … DO UPDATE … RETURNING`` statement (SQLite ≥ 3.35 and
  PostgreSQL both accept it), so counting is exact however many processes count at once;
- a Redis cache: ``INCR`` on the cache, atomic on the server.

On SQLite, the threads of one process take their turn at the counter through a lock of the
process before they ask SQLite for its write lock. SQLite makes a writer that finds the file
locked sleep and retry (1, 2, 5, 10, 15, 20, 25 … ms), so eight threads counting at once left
some of them asleep long after the lock was free (a /verify/ p99 of 50–65 ms on a page answered
in 5 ms); waiting on the process's lock wakes the next thread the moment the statement is done,
and only the few processes of a server ever meet at SQLite's lock. A thread already inside a
transaction holds SQLite's lock and skips the process lock, so the two can never wait on
each other.

Django's database cache is not used for counting: its ``incr`` reads and writes back a pickled
value, so processes counting at once would lose hits. A per-process (local-memory) cache would
let every process grant the whole limit again.

Every limit is a setting (``NQI_*_RATE_*``, settings.py); a limit of 0 or less switches the
check off without any counting.
"""

from __future__ import annotations

import hashlib
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from .models import RateCounter

_KEY_MAX = 200


def _key(scope: str, key: str) -> str:
    full = f"{scope}:{key}"
    if len(full) <= _KEY_MAX:
        return full
    # A long key (an odd client address, a long username) is hashed, never cut: two different
    # keys must not share a counter.
    return f"{scope}:#" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _counts_in_database() -> bool:
    return getattr(settings, "NQI_RATE_COUNTERS", "database") != "cache"


_UPSERT = None
# One writer of counters per process at a time on SQLite (see the module's note).
_SQLITE_TURN = threading.Lock()


def _upsert_sql() -> str:
    global _UPSERT
    if _UPSERT is None:
        qn = connection.ops.quote_name
        table = qn(RateCounter._meta.db_table)
        _UPSERT = (
            f"INSERT INTO {table} ({qn('key')}, {qn('window_start')}, {qn('expires_at')}, {qn('hits')}) "
            f"VALUES (%s, %s, %s, 1) "
            f"ON CONFLICT ({qn('key')}, {qn('window_start')}) "
            f"DO UPDATE SET {qn('hits')} = {table}.{qn('hits')} + 1 "
            f"RETURNING {qn('hits')}"
        )
    return _UPSERT


def _upsert(params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(_upsert_sql(), params)
        return int(cursor.fetchone()[0])


def count(scope: str, key: str, *, window_seconds: int) -> int:
    """Count one event for ``key`` in the current window of ``scope`` and return the window's
    count so far (this event included)."""
    now = int(time.time())
    window_start = now - now % window_seconds
    full_key = _key(scope, key)
    if _counts_in_database():
        params = [full_key, window_start, window_start + window_seconds]
        if connection.vendor == "sqlite" and not connection.in_atomic_block:
            with _SQLITE_TURN:
                return _upsert(params)
        return _upsert(params)
    cache_key = f"nqi:rate:{full_key}:{window_start}"
    # One round trip once the window's counter exists; the first event of a window adds it.
    try:
        return int(cache.incr(cache_key))
    except ValueError:  # no counter yet in this window
        if cache.add(cache_key, 1, window_seconds + 5):
            return 1
        try:  # another process added it meanwhile
            return int(cache.incr(cache_key))
        except ValueError:
            return 1


def hit(scope: str, key: str, *, limit: int, window_seconds: int) -> bool:
    """Count one event and say whether it is over ``limit`` events per ``window_seconds``
    (always False, and nothing counted, when ``limit`` is 0 or less)."""
    if limit <= 0:
        return False
    return count(scope, key, window_seconds=window_seconds) > limit


def prune_expired(*, now: int | None = None) -> int:
    """Delete the database counters of windows that have ended; returns how many went."""
    now = int(time.time()) if now is None else now
    deleted, _ = RateCounter.objects.filter(expires_at__lte=now).delete()
    return deleted
