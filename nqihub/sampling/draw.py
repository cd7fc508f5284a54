"""The published draw of supervision sampling (双随机): which objects are checked, and by whom.

Pure Python, standard library only, no Django: anyone can re-run a draw from the exported pool
with nothing but this file and Python 3.11 (``python draw.py --pool pool.csv --seed HEX
--quotas quotas.csv``, or ``python -m nqihub.sampling.draw …`` inside the project). The
algorithm is specified byte for byte in docs/sampling-draw.md; the golden test in
nqihub/sampling/tests/test_draw.py pins it, and any change of the results needs a new
:data:`ALGORITHM` version.

In short: every object gets a number u in (0, 1) that depends only on the algorithm version,
the seed and its id (SHAKE-256 of the seed and the id's block of 256 ids; the id's 64-bit word
of that output, its top 52 bits x, u = (2x + 1) / 2**53); its key is ``ln(u) / weight``
(Efraimidis–Spirakis weighted sampling without replacement) and each stratum keeps its
``quota`` highest keys, in key order (ties: larger x, then smaller id). Inspectors for an object
are ranked the same way, unweighted, by SHA-256 of the seed, the object and the inspector; the
first ``count`` not excluded are drawn, so a recused inspector is replaced by the next one in
that fixed order.

For the service: :func:`draw_groups` takes the pool as it comes from one ``GROUP BY stratum,
weight`` query (each group's ids), :func:`draw` takes plain rows; both give the same lists.
:func:`pool_csv` writes the file to publish with the seed, :func:`file_digest` its SHA-256.
Bad input raises :class:`DrawInputError` (a ValueError) with an English message and draws
nothing.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import math
import re
import secrets
import sys
from collections.abc import Iterable, Mapping, Sequence
from itertools import compress
from operator import itemgetter

ALGORITHM = "nqihub-draw/1"
"""The version of the algorithm: part of every hashed message, printed with every draw."""

BLOCK = 256
"""Object ids are hashed in blocks of 256 consecutive ids (one SHAKE-256 output per block)."""

SEED_MIN_HEX = 32
SEED_MAX_HEX = 128
MAX_OBJECT_ID = 2**63 - 1

_ALGORITHM_BYTES = ALGORITHM.encode("ascii")
_OBJECT_DOMAIN = _ALGORITHM_BYTES + b"\x00object\x00"
_INSPECTOR_DOMAIN = _ALGORITHM_BYTES + b"\x00inspector\x00"
_BLOCK_BYTES = 8 * BLOCK
_TWO_TO_MINUS_53 = 2.0**-53
_MARKS: dict[int, bytes] = {}  # level → translation table marking the buckets that reach it
_SEED_RE = re.compile(r"[0-9a-fA-F]+")

# The exported pool (and the verifier's input): UTF-8 with a byte-order mark (so that Excel
# shows the Chinese stratum names), comma-separated, CRLF line ends, a header row naming at least
# these columns (others, e.g. the object's name, are carried along and ignored by the draw),
# one row per object ordered by stratum then object id, weights written as Python's shortest
# round-trip decimal (``repr(float)``).
CSV_ENCODING = "utf-8-sig"
POOL_COLUMNS = ("object_id", "stratum", "weight")
QUOTA_COLUMNS = ("stratum", "quota")
RESULT_COLUMNS = ("stratum", "rank", "object_id")


class DrawInputError(ValueError):
    """The draw's input is not valid; nothing was drawn. The message says what is wrong."""


class NotEnoughCandidates(DrawInputError):
    """Fewer eligible inspectors remain than the draw needs."""

    def __init__(self, needed: int, available: int) -> None:
        super().__init__(f"{needed} inspectors are needed but only {available} are eligible")
        self.needed = needed
        self.available = available


# --- seed and the numbers behind the keys -------------------------------------------------------


def new_seed() -> str:
    """A fresh seed: 256 bits from the operating system's generator, as 64 lowercase hex digits."""
    return secrets.token_hex(32)


def normalise_seed(seed: str) -> str:
    """The seed as published: lowercase hex, 32 to 128 digits, an even number of them."""
    if not isinstance(seed, str):
        raise DrawInputError("the seed must be a string of hexadecimal digits")
    text = seed.strip()
    if not _SEED_RE.fullmatch(text) or len(text) % 2:
        raise DrawInputError("the seed must be an even number of hexadecimal digits (0-9, a-f)")
    if not SEED_MIN_HEX <= len(text) <= SEED_MAX_HEX:
        raise DrawInputError(f"the seed must have {SEED_MIN_HEX} to {SEED_MAX_HEX} hexadecimal digits")
    return text.lower()


def _seed_bytes(seed: str) -> bytes:
    return bytes.fromhex(normalise_seed(seed))


def _object_block(seed_bytes: bytes, block: int) -> bytes:
    """The 2048 bytes of one block: SHAKE-256(domain ‖ seed ‖ block as 8 bytes big-endian)."""
    return hashlib.shake_256(_OBJECT_DOMAIN + seed_bytes + block.to_bytes(8, "big")).digest(_BLOCK_BYTES)


def object_word(object_id: int, seed: str) -> int:
    """The 64-bit word of one object: the big-endian word ``id mod 256`` of block ``id div 256``."""
    object_id = _check_id(object_id)
    at = 8 * (object_id % BLOCK)
    return int.from_bytes(_object_block(_seed_bytes(seed), object_id // BLOCK)[at : at + 8], "big")


def object_number(object_id: int, seed: str) -> int:
    """x of one object: the top 52 bits of its word. u = (2x + 1) / 2**53, strictly in (0, 1)."""
    return object_word(object_id, seed) >> 12


def _key(number: int, weight: float) -> float:
    """ln(u) / weight with u = (2x + 1) / 2**53: an odd integer below 2**53 is exact as a double,
    and so is its product with 2**-53."""
    return math.log((2 * number + 1) * _TWO_TO_MINUS_53) / weight


def object_key(object_id: int, weight: float, seed: str) -> float:
    """The key of one object, ln(u) / weight (negative; the highest keys are drawn)."""
    return _key(object_number(object_id, seed), _check_weight(weight))


def _check_id(object_id) -> int:
    if type(object_id) is not int or not 0 <= object_id <= MAX_OBJECT_ID:
        raise DrawInputError(f"an object id must be a whole number from 0 to 2**63-1, not {object_id!r}")
    return object_id


def _check_weight(weight) -> float:
    try:
        value = float(weight)
    except (TypeError, ValueError):
        raise DrawInputError(f"a weight must be a number, not {weight!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise DrawInputError(f"a weight must be a finite number above zero, not {weight!r}")
    return value


class _Numbers:
    """x for the ids of a pool, hashed once per block of 256 ids, and a first, coarse look at
    them: the top byte of each x (its "bucket", 0-255), so that most ids of a group can be
    passed over in C, without a Python-level step per id.

    When the ids are dense (from the lowest to the highest there are at most about twice as
    many blocks as the ids fill) the buckets sit in one bytes object indexed by id; otherwise
    a table of the blocks needed is kept. Raises DrawInputError for an id that is not a whole
    number from 0 to 2**63-1."""

    def __init__(self, id_lists: Sequence[Sequence[int]], seed_bytes: bytes, *, dense: bool = False) -> None:
        count = sum(map(len, id_lists))
        try:
            low = min(map(min, filter(None, id_lists)), default=0)
            high = max(map(max, filter(None, id_lists)), default=0)
        except TypeError:
            low = high = None
        if type(low) is not int or type(high) is not int or low < 0 or high > MAX_OBJECT_ID:
            for ids in id_lists:
                for object_id in ids:
                    _check_id(object_id)
        first, last = low // BLOCK, high // BLOCK
        if first <= count // BLOCK + 16:
            first = 0  # then no offset is subtracted per id
        self.dense = dense or last - first + 1 <= 2 * (count // BLOCK) + 16
        if self.dense:
            self.first = first
            self.digests = [_object_block(seed_bytes, block) for block in range(first, last + 1)]
            self.buckets = b"".join(digest[::8] for digest in self.digests)  # each word's top byte
        else:
            blocks: set[int] = set()
            for ids in id_lists:
                blocks.update(map((8).__rrshift__, ids))  # id >> 8 == id // 256
            self.table = {block: _object_block(seed_bytes, block) for block in blocks}

    def at_least(self, ids: Sequence[int], bucket: int) -> list[int]:
        """The ids whose x has a top byte of ``bucket`` or more, in their order."""
        if not bucket:
            return list(ids)
        if self.dense and len(ids) > 1:
            # itemgetter fetches every id's bucket in one C loop; translate marks those that
            # reach the level with 1; compress keeps their ids.
            marks = _MARKS.get(bucket)
            if marks is None:
                marks = _MARKS[bucket] = bytes(int(b >= bucket) for b in range(256))
            at = map((self.first * BLOCK).__rsub__, ids) if self.first else ids
            return list(compress(ids, bytes(itemgetter(*at)(self.buckets)).translate(marks)))
        if self.dense:
            return [i for i in ids if self.buckets[i - self.first * BLOCK] >= bucket]
        table = self.table
        return [i for i in ids if table[i >> 8][8 * (i & 255)] >= bucket]

    def number(self, object_id: int) -> int:
        """x of one id of the pool."""
        if self.dense:
            digest = self.digests[(object_id >> 8) - self.first]
        else:
            digest = self.table[object_id >> 8]
        at = 8 * (object_id & 255)
        return int.from_bytes(digest[at : at + 8], "big") >> 12


def _levels(sizes: Sequence[tuple[int, float]], wanted: int) -> list[int]:
    """For each group (size, weight) of a stratum, the bucket (0-255) its ids must reach to be
    looked at, so that about ``wanted`` objects of the stratum are: a cutoff key K is estimated
    (by bisection) such that the expected number of keys above it, Σ n × (1 − e^(K·w)), is
    ``wanted``; a group of weight w then needs u ≥ e^(K·w), a bucket of ⌊256 × e^(K·w)⌋
    (0: every id)."""
    if wanted >= sum(size for size, _weight in sizes):
        return [0] * len(sizes)
    low, high = -64.0, 0.0  # expected(low) ≥ wanted > expected(high) = 0
    expm1 = math.expm1
    for _ in range(24):  # K to within 64 / 2**24: far finer than the levels' steps of 1/256
        middle = (low + high) / 2
        expected = -sum([size * expm1(middle * weight) for size, weight in sizes])
        if expected >= wanted:
            low = middle
        else:
            high = middle
    return [max(0, min(255, math.floor(256 * math.exp(low * weight)))) for _size, weight in sizes]


def _wanted(quota: int) -> int:
    return quota + 3 * math.isqrt(quota) + 5


def _stratum_best(numbers: _Numbers, weights: Sequence[float], levels: list[int], kept, quota: int) -> list[int]:
    """The ``quota`` best of a stratum, best first, looking at as few of its ids as is safe.

    Group g (weight ``weights[g]``) is first cut to ``kept(g, level)``: at least the ids whose
    bucket reaches its level (every id for level 0). The survivors get their exact key, and K
    is the quota-th best of them. An id passed over in a group of level b has u < b / 256, so its
    key is at most ln(b / 256) / w; when that is below K for every cut group, nothing passed over
    can reach the quota and the answer is exact. A group for which it is not is then looked at
    whole (level 0), and K found again. The levels change how fast the answer comes, never the
    answer."""
    key, number = _key, numbers.number
    while True:
        candidates: list[tuple[float, int, int]] = []
        for g, weight in enumerate(weights):
            ids = kept(g, levels[g])
            candidates.extend((key(x, weight), x, -i) for x, i in zip(map(number, ids), ids, strict=True))
        candidates.sort(reverse=True)
        if len(candidates) < quota:
            if not any(levels):
                break  # the whole stratum is fewer than the quota
            levels = [0] * len(weights)
            continue
        cutoff = candidates[quota - 1][0]
        short = [g for g, level in enumerate(levels) if level and math.log(level / 256) / weights[g] >= cutoff]
        if not short:
            break
        for g in short:
            levels[g] = 0
    return [-negative for _key, _x, negative in candidates[:quota]]


# --- quotas -------------------------------------------------------------------------------------


def allocate(sizes: Mapping[str, int], total: int) -> dict[str, int]:
    """Split ``total`` over the strata in proportion to their sizes (largest remainder).

    Each stratum first gets floor(total × size / N); the seats left over go one each to the
    strata with the largest remainders (total × size mod N, exact integers), ties to the stratum
    key that sorts first. A total above N takes every object. Returns every stratum, sorted.
    """
    if type(total) is not int or total < 0:
        raise DrawInputError(f"the total must be a whole number of objects, zero or more, not {total!r}")
    for stratum, size in sizes.items():
        if type(size) is not int or size < 0:
            raise DrawInputError(f"the size of stratum {stratum!r} must be a whole number, not {size!r}")
    whole = sum(sizes.values())
    if whole == 0:
        return {stratum: 0 for stratum in sorted(sizes)}
    total = min(total, whole)
    shares = {stratum: total * size // whole for stratum, size in sizes.items()}
    left = total - sum(shares.values())
    by_remainder = sorted(sizes, key=lambda s: (-(total * sizes[s] % whole), s))
    for stratum in by_remainder[:left]:
        shares[stratum] += 1
    return {stratum: shares[stratum] for stratum in sorted(shares)}


def _quotas(sizes: Mapping[str, int], quotas: Mapping[str, int] | None, total: int | None) -> dict[str, int]:
    if (quotas is None) == (total is None):
        raise DrawInputError("give either the quota of each stratum or a total to allocate, not both")
    if total is not None:
        return allocate(sizes, total)
    result = {}
    for stratum, quota in quotas.items():
        _check_stratum(stratum)
        if type(quota) is not int or quota < 0:
            raise DrawInputError(
                f"the quota of stratum {stratum!r} must be a whole number, zero or more, not {quota!r}"
            )
        result[stratum] = quota
    for stratum in sizes:
        result.setdefault(stratum, 0)
    return {stratum: result[stratum] for stratum in sorted(result)}


def _check_stratum(stratum) -> str:
    if not isinstance(stratum, str) or not stratum:
        raise DrawInputError(f"a stratum must be a non-empty text, not {stratum!r}")
    return stratum


# --- the draw -----------------------------------------------------------------------------------


def draw(
    pool: Iterable[tuple[int, str, float]],
    *,
    seed: str,
    quotas: Mapping[str, int] | None = None,
    total: int | None = None,
) -> dict[str, list[int]]:
    """Draw from ``pool`` (rows of object id, stratum key, weight > 0; any order).

    Give either ``quotas`` (objects to draw per stratum; a stratum not named draws none) or
    ``total`` (split over the strata by :func:`allocate`). Returns, for every stratum of the pool
    and of ``quotas`` in sorted order, the drawn ids in key order (highest key first): at most the
    quota, all of the stratum when it has fewer objects. Extra values in a row are ignored.
    """
    groups: dict[tuple[str, float], list[int]] = {}
    for row in pool:
        object_id, stratum, weight = row[0], row[1], row[2]
        key = (stratum, weight)
        members = groups.get(key)
        if members is None:
            members = groups[key] = []
        members.append(object_id)
    return draw_groups(((s, w, ids) for (s, w), ids in groups.items()), seed=seed, quotas=quotas, total=total)


def draw_groups(
    groups: Iterable[tuple[str, float, Sequence[int]]],
    *,
    seed: str,
    quotas: Mapping[str, int] | None = None,
    total: int | None = None,
    assume_distinct: bool = False,
) -> dict[str, list[int]]:
    """The same draw as :func:`draw`, from the pool grouped by (stratum, weight): each group is
    (stratum, weight, ids). A group may repeat a (stratum, weight) pair. Within a group every
    object has the same weight, so its best ``quota`` are those with the largest x, found by
    comparing integers; only those candidates get a floating-point key.

    The ids must be distinct across all groups; this is checked (a set of every id) unless
    ``assume_distinct`` is true, which only a caller whose ids come straight from a primary key
    (one GROUP BY query over one table) may pass."""
    seed_bytes = _seed_bytes(seed)
    by_stratum: dict[str, list[tuple[float, Sequence[int]]]] = {}
    sizes: dict[str, int] = {}
    for stratum, weight, ids in groups:
        _check_stratum(stratum)
        ids = ids if isinstance(ids, (list, tuple)) else list(ids)
        by_stratum.setdefault(stratum, []).append((_check_weight(weight), ids))
        sizes[stratum] = sizes.get(stratum, 0) + len(ids)
    shares = _quotas(sizes, quotas, total)
    id_lists = [ids for members in by_stratum.values() for _weight, ids in members]
    if not assume_distinct:
        distinct: set[int] = set()
        for ids in id_lists:
            distinct.update(ids)
        if len(distinct) != sum(sizes.values()):
            raise DrawInputError("an object appears more than once in the pool")
        del distinct
    numbers = _Numbers(id_lists, seed_bytes)
    result: dict[str, list[int]] = {}
    for stratum, quota in shares.items():
        members = by_stratum.get(stratum, ())
        if not (quota and members):
            result[stratum] = []
            continue
        levels = _levels([(len(ids), weight) for weight, ids in members], _wanted(quota))

        def kept(g: int, level: int, members=members) -> Sequence[int]:
            ids = members[g][1]
            return numbers.at_least(ids, level) if level else ids

        result[stratum] = _stratum_best(numbers, [weight for weight, _ids in members], levels, kept, quota)
    return result


class ShortList:
    """The same draw for a pool kept in a database, without reading every id into Python.

    1. ``ShortList(sizes, seed=…, high_id=…, quotas=… | total=…)`` with the size of every
       (stratum, weight) group (one ``GROUP BY stratum, weight`` count) and the highest id of
       the pool. It hashes every block of ids from 0 to ``high_id`` once and keeps the top byte
       of each id's x in :attr:`buckets` (byte ``id`` is id's bucket).
    2. :meth:`levels` gives (stratum, weight, level) for each group to look at; the database
       returns the rows ``(id, stratum, weight)`` of those groups whose bucket reaches their
       group's level, e.g. ``get_byte(:buckets, id) >= level`` (PostgreSQL) or
       ``substr(:buckets, id + 1, 1) >= :level_as_one_byte`` (SQLite).
    3. :meth:`finish` with those rows and a function giving all ids of one group, called only
       for a group whose passed-over ids could still reach the quota (rarely).

    The answer is :func:`draw`'s, exactly: the same rule as :func:`draw_groups` decides which
    groups need more. Meant for dense ids (a pool table's primary key); the buckets take one
    byte per id up to ``high_id``. Rows beyond what was asked are ignored; a group whose full
    read does not have the size given raises DrawInputError (the pool changed meanwhile)."""

    def __init__(
        self,
        sizes: Mapping[tuple[str, float], int],
        *,
        seed: str,
        high_id: int,
        quotas: Mapping[str, int] | None = None,
        total: int | None = None,
    ) -> None:
        _check_id(high_id)
        self.sizes: dict[tuple[str, float], int] = {}
        stratum_sizes: dict[str, int] = {}
        for (stratum, weight), size in sizes.items():
            _check_stratum(stratum)
            if type(size) is not int or size < 0:
                raise DrawInputError(f"the size of a group must be a whole number, not {size!r}")
            group = (stratum, _check_weight(weight))
            self.sizes[group] = self.sizes.get(group, 0) + size
            stratum_sizes[stratum] = stratum_sizes.get(stratum, 0) + size
        self.shares = _quotas(stratum_sizes, quotas, total)
        self.numbers = _Numbers([[0, high_id]], _seed_bytes(seed), dense=True)
        self.buckets: bytes = self.numbers.buckets
        self.high_id = high_id
        self._groups: dict[str, list[tuple[str, float]]] = {}
        for group in self.sizes:
            self._groups.setdefault(group[0], []).append(group)
        self._levels: dict[tuple[str, float], int] = {}
        for stratum, groups in self._groups.items():
            quota = self.shares.get(stratum, 0)
            if quota:
                wanted = _wanted(quota)
                levels = _levels([(self.sizes[g], g[1]) for g in groups], wanted)
                self._levels.update(zip(groups, levels, strict=True))

    def levels(self) -> list[tuple[str, float, int]]:
        """(stratum, weight, level) of every group to look at (those of strata with a quota)."""
        return [(stratum, weight, level) for (stratum, weight), level in self._levels.items()]

    def finish(self, rows: Iterable[Sequence], fetch_group) -> dict[str, list[int]]:
        """The draw, from the rows (id, stratum, weight) the database returned for
        :meth:`levels`, and ``fetch_group(stratum, weight)`` giving every id of a group."""
        buckets, high_id = self.buckets, self.high_id
        found: dict[tuple[str, float], list[int]] = {}
        for row in rows:
            object_id, group = row[0], (row[1], float(row[2]))
            level = self._levels.get(group)
            if level is None:
                continue
            if type(object_id) is not int or not 0 <= object_id <= high_id:
                raise DrawInputError(f"object id {object_id!r} is outside 0 to the highest id {high_id}")
            if buckets[object_id] >= level:
                found.setdefault(group, []).append(object_id)
        whole: dict[tuple[str, float], list[int]] = {}
        result: dict[str, list[int]] = {}
        for stratum, quota in self.shares.items():
            groups = self._groups.get(stratum, [])
            if not (quota and groups):
                result[stratum] = []
                continue
            first = [self._levels[g] for g in groups]

            def kept(g: int, level: int, groups=groups, first=first) -> Sequence[int]:
                group = groups[g]
                if level == first[g]:
                    return found.get(group, [])
                if group not in whole:
                    ids = list(fetch_group(*group))
                    if len(ids) != self.sizes[group] or not all(0 <= i <= high_id for i in ids):
                        raise DrawInputError(f"the pool changed while drawing: group {group!r}")
                    whole[group] = ids
                return whole[group]

            result[stratum] = _stratum_best(self.numbers, [g[1] for g in groups], list(first), kept, quota)
        return result


# --- inspectors ---------------------------------------------------------------------------------


def inspector_word(object_id: int, inspector_id: int, seed: str) -> int:
    """The 64-bit word of an inspector for an object: the first 8 bytes, big-endian, of
    SHA-256(domain ‖ seed ‖ object id as 8 bytes ‖ inspector id as 8 bytes)."""
    return _inspector_words(_check_id(object_id), _seed_bytes(seed))(_check_id(inspector_id))


def _inspector_words(object_id: int, seed_bytes: bytes):
    prefix = hashlib.sha256(_INSPECTOR_DOMAIN + seed_bytes + object_id.to_bytes(8, "big"))

    def word(inspector_id: int) -> int:
        digest = prefix.copy()
        digest.update(inspector_id.to_bytes(8, "big"))
        return int.from_bytes(digest.digest()[:8], "big")

    return word


def rank_inspectors(object_id: int, eligible: Iterable[int], *, seed: str) -> list[int]:
    """Every eligible inspector for the object, in draw order (largest word first, ties to the
    smaller id). Duplicates count once. The order is fixed by the seed: excluding one inspector
    moves everyone after them up by one and changes nothing before them."""
    word = _inspector_words(_check_id(object_id), _seed_bytes(seed))
    ids = {_check_id(inspector_id) for inspector_id in eligible}
    return sorted(ids, key=lambda inspector_id: (-word(inspector_id), inspector_id))


def draw_inspectors(
    object_id: int, eligible: Iterable[int], *, seed: str, count: int = 2, exclude: Iterable[int] = ()
) -> list[int]:
    """The ``count`` inspectors drawn for an object: the first in :func:`rank_inspectors` order
    that are not in ``exclude`` (recused: same office, declared conflict, a recent check of the
    same target). A redraw after a recusal is this call again with the recused one excluded: the
    others stay, the next in order takes the place. Raises :class:`NotEnoughCandidates` when fewer
    than ``count`` remain."""
    if type(count) is not int or count < 1:
        raise DrawInputError(f"the number of inspectors must be a whole number above zero, not {count!r}")
    excluded = set(exclude)
    order = [i for i in rank_inspectors(object_id, eligible, seed=seed) if i not in excluded]
    if len(order) < count:
        raise NotEnoughCandidates(count, len(order))
    return order[:count]


# --- the exported files -------------------------------------------------------------------------


def _format_weight(weight) -> str:
    return repr(_check_weight(weight))


def pool_csv(rows: Iterable[Sequence], extra_columns: Sequence[str] = ()) -> bytes:
    """The pool as the exported file: header ``object_id,stratum,weight`` then ``extra_columns``;
    rows (id, stratum, weight, *extra values) sorted by stratum then id; UTF-8 with BOM, CRLF."""
    rows = sorted(rows, key=lambda row: (_check_stratum(row[1]), _check_id(row[0])))
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*POOL_COLUMNS, *extra_columns])
    for row in rows:
        extra = list(row[3 : 3 + len(extra_columns)])
        writer.writerow([row[0], row[1], _format_weight(row[2]), *extra, *[""] * (len(extra_columns) - len(extra))])
    return out.getvalue().encode(CSV_ENCODING)


def quotas_csv(quotas: Mapping[str, int]) -> bytes:
    """The quotas as a file: ``stratum,quota``, sorted by stratum, UTF-8 with BOM, CRLF."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(QUOTA_COLUMNS)
    for stratum in sorted(quotas):
        writer.writerow([stratum, quotas[stratum]])
    return out.getvalue().encode(CSV_ENCODING)


def file_digest(data: bytes) -> str:
    """SHA-256 of a file's bytes, hex: published with a draw so the exported pool can be checked."""
    return hashlib.sha256(data).hexdigest()


def _csv_rows(data: bytes, columns: Sequence[str], what: str) -> list[tuple[int, dict[str, str]]]:
    try:
        text = data.decode(CSV_ENCODING)
    except UnicodeDecodeError:
        raise DrawInputError(f"the {what} file is not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [column for column in columns if column not in (reader.fieldnames or ())]
    if missing:
        raise DrawInputError(f"the {what} file lacks the column(s): {', '.join(missing)}")
    return [(reader.line_num, row) for row in reader]


def _whole(text: str, line: int, what: str) -> int:
    if not re.fullmatch(r"[0-9]+", text or ""):
        where = f"line {line}: " if line else ""
        raise DrawInputError(f"{where}{what} must be a whole number, not {text!r}")
    return int(text)


def read_pool_csv(data: bytes) -> list[tuple[int, str, float]]:
    """The rows (object id, stratum, weight) of an exported pool file."""
    rows = []
    for line, row in _csv_rows(data, POOL_COLUMNS, "pool"):
        object_id = _whole(row["object_id"], line, "object_id")
        try:
            weight = _check_weight(row["weight"])
        except DrawInputError as error:
            raise DrawInputError(f"line {line}: {error}") from None
        rows.append((object_id, row["stratum"], weight))
    return rows


def read_quotas_csv(data: bytes) -> dict[str, int]:
    """The quota of each stratum from a ``stratum,quota`` file."""
    quotas: dict[str, int] = {}
    for line, row in _csv_rows(data, QUOTA_COLUMNS, "quotas"):
        if row["stratum"] in quotas:
            raise DrawInputError(f"line {line}: stratum {row['stratum']!r} is listed twice")
        quotas[row["stratum"]] = _whole(row["quota"], line, "quota")
    return quotas


def result_csv(result: Mapping[str, Sequence[int]]) -> str:
    """The drawn list as text: ``stratum,rank,object_id``, strata sorted, ranks from 1."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RESULT_COLUMNS)
    for stratum in sorted(result):
        for rank, object_id in enumerate(result[stratum], start=1):
            writer.writerow([stratum, rank, object_id])
    return out.getvalue()


# --- the verifier -------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None, stdout=None) -> int:
    """Re-run a published draw: ``--pool pool.csv --seed HEX`` with ``--quotas quotas.csv`` or
    ``--total N``; prints the algorithm, the files' SHA-256 and the drawn list. With
    ``--inspectors FILE --object ID`` (a file with an ``inspector_id`` column) prints the
    inspectors drawn for that object instead."""
    out = stdout or sys.stdout
    parser = argparse.ArgumentParser(
        prog="python -m nqihub.sampling.draw",
        description=f"Re-run a supervision-sampling draw ({ALGORITHM}) from its published inputs.",
    )
    parser.add_argument("--seed", required=True, help="the published seed (hexadecimal)")
    parser.add_argument("--pool", help="the exported pool file (object_id,stratum,weight)")
    allocation = parser.add_mutually_exclusive_group()
    allocation.add_argument("--quotas", help="the quotas file (stratum,quota)")
    allocation.add_argument("--total", type=int, help="a total split over the strata by size")
    parser.add_argument("--inspectors", help="the eligible inspectors file (inspector_id)")
    parser.add_argument("--object", type=int, help="the object whose inspectors are drawn")
    parser.add_argument("--count", type=int, default=2, help="inspectors per object (default 2)")
    parser.add_argument("--exclude", default="", help="recused inspector ids, comma-separated")
    args = parser.parse_args(argv)
    try:
        seed = normalise_seed(args.seed)
        print(f"# algorithm {ALGORITHM}", file=out)
        print(f"# seed {seed}", file=out)
        if args.inspectors:
            if args.object is None:
                raise DrawInputError("--inspectors needs --object")
            data = _read(args.inspectors)
            eligible = [
                _whole(row["inspector_id"], line, "inspector_id")
                for line, row in _csv_rows(data, ("inspector_id",), "inspectors")
            ]
            exclude = [_whole(x.strip(), 0, "--exclude") for x in args.exclude.split(",") if x.strip()]
            print(f"# inspectors {args.inspectors} sha256 {file_digest(data)}, {len(eligible)} eligible", file=out)
            print(f"# object {args.object}, excluded {','.join(map(str, exclude)) or 'none'}", file=out)
            chosen = draw_inspectors(args.object, eligible, seed=seed, count=args.count, exclude=exclude)
            print("rank,inspector_id", file=out)
            for rank, inspector_id in enumerate(chosen, start=1):
                print(f"{rank},{inspector_id}", file=out)
            return 0
        if not args.pool or (args.quotas is None and args.total is None):
            raise DrawInputError("give --pool and either --quotas or --total")
        data = _read(args.pool)
        pool = read_pool_csv(data)
        print(f"# pool {args.pool} sha256 {file_digest(data)}, {len(pool)} objects", file=out)
        if args.quotas is not None:
            quota_data = _read(args.quotas)
            quotas = read_quotas_csv(quota_data)
            print(f"# quotas {args.quotas} sha256 {file_digest(quota_data)}", file=out)
            shares = quotas
            result = draw(pool, seed=seed, quotas=quotas)
        else:
            print(f"# total {args.total}, allocated by stratum size (largest remainder)", file=out)
            sizes: dict[str, int] = {}
            for _object_id, stratum, _weight in pool:
                sizes[stratum] = sizes.get(stratum, 0) + 1
            shares = allocate(sizes, args.total)
            result = draw(pool, seed=seed, total=args.total)
        available: dict[str, int] = {}
        for _object_id, stratum, _weight in pool:
            available[stratum] = available.get(stratum, 0) + 1
        for stratum in result:
            print(
                f"# stratum {stratum}: quota {shares.get(stratum, 0)}, in pool {available.get(stratum, 0)},"
                f" drawn {len(result[stratum])}",
                file=out,
            )
        out.write(result_csv(result))
        return 0
    except DrawInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as error:
        raise DrawInputError(f"cannot read {path}: {error.strerror}") from None


if __name__ == "__main__":
    sys.exit(main())
