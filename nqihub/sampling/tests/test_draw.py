"""The published draw (nqihub.sampling.draw): reproducible, order-independent, weighted,
stratified, with inspectors and recusal, and the exported pool re-drawn by the standalone
verifier. The golden tests pin the algorithm: if one fails, the results changed, and a new
ALGORITHM version is needed (old draws must still verify with the old one)."""

from __future__ import annotations

import hashlib
import io
import math
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nqihub.sampling import draw as D

SEED = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
OTHER_SEED = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"


def seeds(count: int) -> list[str]:
    """A fixed list of seeds (not random: the statistical tests give the same answer every run)."""
    return [hashlib.sha256(f"test seed {i}".encode()).hexdigest() for i in range(count)]


def small_pool() -> list[tuple[int, str, float]]:
    rows = []
    for i in range(1, 41):
        stratum = ("150203|乳制品", "150204|羊绒制品", "150602|稀土永磁材料")[i % 3]
        rows.append((i, stratum, (1.0, 2.0, 3.5, 0.5)[i % 4]))
    return rows


# --- the spec, written out the slow and obvious way (docs/sampling-draw.md) ------------------


def spec_word(object_id: int, seed: str) -> int:
    message = b"nqihub-draw/1\x00object\x00" + bytes.fromhex(seed) + (object_id // 256).to_bytes(8, "big")
    block = hashlib.shake_256(message).digest(2048)
    j = object_id % 256
    return int.from_bytes(block[8 * j : 8 * j + 8], "big")


def spec_number(object_id: int, seed: str) -> int:
    return spec_word(object_id, seed) >> 12


def spec_key(object_id: int, weight: float, seed: str) -> float:
    return math.log((2 * spec_number(object_id, seed) + 1) / 2**53) / weight


def spec_draw(pool, seed, quotas):
    """Sort each stratum by (key desc, x desc, id asc) and take the quota."""
    result = {}
    for stratum in sorted(set(quotas) | {row[1] for row in pool}):
        ranked = sorted(
            (row for row in pool if row[1] == stratum),
            key=lambda row: (-spec_key(row[0], row[2], seed), -spec_number(row[0], seed), row[0]),
        )
        result[stratum] = [row[0] for row in ranked[: quotas.get(stratum, 0)]]
    return result


def spec_inspectors(object_id, eligible, seed):
    def word(inspector_id):
        message = (
            b"nqihub-draw/1\x00inspector\x00"
            + bytes.fromhex(seed)
            + object_id.to_bytes(8, "big")
            + inspector_id.to_bytes(8, "big")
        )
        return int.from_bytes(hashlib.sha256(message).digest()[:8], "big")

    return sorted(set(eligible), key=lambda i: (-word(i), i))


# --- golden: any change of the algorithm shows here --------------------------------------------


def test_golden_words_and_keys():
    assert D.object_word(0, SEED) == 0x330409154A81B6D3  # openssl dgst -shake256 agrees
    assert D.object_word(257, SEED) == 0xD4317D0A6389D7CB
    assert D.object_key(257, 2.0, SEED) == pytest.approx(-0.0938398629, abs=1e-10)
    assert D.inspector_word(7, 3, SEED) == 0x865440DF6E010672  # sha256sum agrees


def test_golden_draw():
    result = D.draw(
        small_pool(), seed=SEED, quotas={"150203|乳制品": 3, "150204|羊绒制品": 2, "150602|稀土永磁材料": 4}
    )
    assert result == {
        "150203|乳制品": [18, 30, 12],
        "150204|羊绒制品": [16, 28],
        "150602|稀土永磁材料": [17, 8, 14, 2],
    }


def test_golden_inspectors():
    assert D.rank_inspectors(7, range(10, 20), seed=SEED) == [17, 14, 18, 12, 15, 16, 13, 10, 19, 11]


def test_the_fast_draw_is_the_spec():
    """The grouped, heap-based draw equals sorting every stratum by the published key, on dense
    and sparse ids, small and large quotas (both ways of finding a group's candidates)."""
    rng = random.Random(12)
    for _ in range(25):
        size = rng.choice([1, 7, 300, 2500])
        id_space = rng.choice([size + 1, 20 * size + 10, 10**12])
        start = rng.choice([0, 0, 10**9])  # dense ids far from 0 are looked up with an offset
        ids = [start + i for i in rng.sample(range(id_space), size)]
        pool = [(i, f"S{rng.randint(0, 3)}", rng.choice([1, 2.5, 0.25, rng.uniform(0.01, 9)])) for i in ids]
        quotas = {f"S{k}": rng.choice([0, 1, 3, 17, 40, 5000]) for k in range(5)}
        seed = "%064x" % rng.getrandbits(256)
        assert D.draw(pool, seed=seed, quotas=quotas) == spec_draw(pool, seed, quotas)


@pytest.mark.parametrize("forced", ["highest", "random"])
def test_the_levels_change_the_speed_never_the_answer(monkeypatch, forced):
    """Whatever levels the first pass uses — far too strict (every group cut to its top 1/256),
    or random — the checks that follow it (too few candidates; an id passed over that could
    still beat the quota-th key) bring the draw back to the spec."""
    rng = random.Random(forced)

    def levels(members, wanted):
        return [255 if forced == "highest" else rng.randint(0, 255) for _ in members]

    monkeypatch.setattr(D, "_levels", levels)
    for _ in range(15):
        ids = rng.sample(range(3000), 800)
        pool = [(i, f"S{rng.randint(0, 2)}", rng.choice([1, 3, 0.5, 40])) for i in ids]
        quotas = {f"S{k}": rng.choice([1, 5, 30]) for k in range(3)}
        seed = "%064x" % rng.getrandbits(256)
        assert D.draw(pool, seed=seed, quotas=quotas) == spec_draw(pool, seed, quotas)


def test_the_inspector_order_is_the_spec():
    for object_id in (1, 99, 2**40):
        assert D.rank_inspectors(object_id, range(50), seed=OTHER_SEED) == spec_inspectors(
            object_id, range(50), OTHER_SEED
        )


# --- reproducible ---------------------------------------------------------------------------


def test_same_inputs_same_list_other_seed_other_list():
    pool = small_pool()
    quotas = {"150203|乳制品": 5, "150204|羊绒制品": 5, "150602|稀土永磁材料": 5}
    first = D.draw(pool, seed=SEED, quotas=quotas)
    assert D.draw(pool, seed=SEED, quotas=quotas) == first
    assert D.draw(pool, seed=SEED.upper(), quotas=quotas) == first  # the seed's case does not matter
    assert D.draw(pool, seed=OTHER_SEED, quotas=quotas) != first


def test_input_order_does_not_matter():
    pool = small_pool()
    shuffled = pool[:]
    random.Random(3).shuffle(shuffled)
    quotas = {"150203|乳制品": 4, "150204|羊绒制品": 4, "150602|稀土永磁材料": 4}
    assert D.draw(shuffled, seed=SEED, quotas=quotas) == D.draw(pool, seed=SEED, quotas=quotas)


def test_grouped_input_gives_the_same_draw():
    pool = small_pool()
    groups: dict[tuple[str, float], list[int]] = {}
    for object_id, stratum, weight in reversed(pool):
        groups.setdefault((stratum, weight), []).append(object_id)
    # a (stratum, weight) pair may come in several groups
    split = []
    for (stratum, weight), ids in groups.items():
        split += [(stratum, weight, ids[::2]), (stratum, weight, tuple(ids[1::2]))]
    assert D.draw_groups(split, seed=SEED, total=10) == D.draw(pool, seed=SEED, total=10)
    assert D.draw_groups(split, seed=SEED, total=10, assume_distinct=True) == D.draw(pool, seed=SEED, total=10)
    with pytest.raises(D.DrawInputError, match="more than once"):
        D.draw_groups([("A", 1.0, [1, 2]), ("B", 2.0, [2])], seed=SEED, total=1)


def test_an_objects_key_depends_only_on_seed_and_id():
    """Adding objects to the pool changes no other object's key, so a drawn object stays drawn
    unless a newcomer outranks it, and removing an object that was not drawn changes nothing."""
    pool = [(i, "A", 1.0) for i in range(1, 301)]
    drawn = D.draw(pool, seed=SEED, quotas={"A": 10})["A"]
    not_drawn = [row for row in pool if row[0] not in drawn]
    smaller = [row for row in pool if row != not_drawn[17]]
    assert D.draw(smaller, seed=SEED, quotas={"A": 10})["A"] == drawn
    bigger = pool + [(i, "A", 1.0) for i in range(10_000, 10_100)]
    new = D.draw(bigger, seed=SEED, quotas={"A": 10})["A"]
    assert [i for i in new if i < 10_000] == drawn[: len([i for i in new if i < 10_000])]


# --- weights --------------------------------------------------------------------------------


def test_a_heavy_object_is_drawn_far_more_often():
    """With weights 10 and 1 (×19), the heavy object comes first with probability 10/29 ≈ 0.345
    and a light one with 1/29 ≈ 0.034. Over 400 fixed seeds the counts are ~138 and ~14; the
    bounds are more than four standard deviations wide, and the seeds are fixed, so this never
    flickers."""
    pool = [(1, "A", 10.0)] + [(i, "A", 1.0) for i in range(2, 21)]
    first = [D.draw(pool, seed=seed, quotas={"A": 1})["A"][0] for seed in seeds(400)]
    heavy = first.count(1)
    light = first.count(2)
    assert 100 < heavy < 180
    assert light < 35
    assert len(set(first)) > 10  # the light ones are drawn too, now and then


def test_weights_follow_proportions_without_replacement():
    """Two objects of weight 3 and 1 among themselves: the heavy one is drawn first with
    probability 3/4 (Efraimidis–Spirakis: P(first) = w / Σw)."""
    pool = [(5, "A", 3.0), (6, "A", 1.0)]
    firsts = [D.draw(pool, seed=seed, quotas={"A": 1})["A"][0] for seed in seeds(400)]
    assert 260 < firsts.count(5) < 340  # expected 300, sd ≈ 8.7


# --- strata and quotas ---------------------------------------------------------------------


def test_each_stratum_draws_its_quota_from_itself_only():
    pool = small_pool()
    strata = {object_id: stratum for object_id, stratum, _w in pool}
    quotas = {"150203|乳制品": 2, "150204|羊绒制品": 0, "150602|稀土永磁材料": 5}
    result = D.draw(pool, seed=SEED, quotas=quotas)
    assert {stratum: len(ids) for stratum, ids in result.items()} == quotas
    for stratum, ids in result.items():
        assert all(strata[i] == stratum for i in ids)
        assert len(set(ids)) == len(ids)


def test_a_stratum_without_quota_draws_nothing_and_an_empty_stratum_is_listed():
    pool = small_pool()
    result = D.draw(pool, seed=SEED, quotas={"150203|乳制品": 2, "152900|建材": 3})
    assert result["150204|羊绒制品"] == [] and result["150602|稀土永磁材料"] == []
    assert result["152900|建材"] == []
    assert list(result) == sorted(result)


def test_a_quota_above_the_stratum_takes_it_all_in_key_order():
    pool = [(i, "A", 1.0 + i % 3) for i in range(1, 8)]
    everything = D.draw(pool, seed=SEED, quotas={"A": 50})["A"]
    assert sorted(everything) == list(range(1, 8))
    assert D.draw(pool, seed=SEED, quotas={"A": 3})["A"] == everything[:3]


def test_allocation_by_largest_remainder_with_ties_to_the_first_key():
    # shares of 5: a 2.5, b 1.5, c 1.0 → 2, 1, 1 and one seat left; a and b both have
    # remainder .5, a sorts first
    assert D.allocate({"b": 3, "a": 5, "c": 2}, 5) == {"a": 3, "b": 1, "c": 1}
    assert D.allocate({"a": 1, "b": 1, "c": 1}, 2) == {"a": 1, "b": 1, "c": 0}
    assert D.allocate({"x": 10, "y": 30}, 8) == {"x": 2, "y": 6}
    assert D.allocate({"x": 2, "y": 3}, 99) == {"x": 2, "y": 3}  # a total above N takes all
    assert D.allocate({"x": 2, "y": 0}, 1) == {"x": 1, "y": 0}
    assert D.allocate({}, 4) == {}
    for total in range(0, 60):
        shares = D.allocate({"p": 7, "q": 19, "r": 1, "s": 23}, total)
        assert sum(shares.values()) == min(total, 50)


def test_total_allocates_over_strata():
    pool = small_pool()
    result = D.draw(pool, seed=SEED, total=6)
    sizes = {}
    for _i, stratum, _w in pool:
        sizes[stratum] = sizes.get(stratum, 0) + 1
    assert {s: len(ids) for s, ids in result.items()} == D.allocate(sizes, 6)
    assert D.draw(pool, seed=SEED, total=6) == D.draw(pool, seed=SEED, quotas=D.allocate(sizes, 6))


def test_empty_pool():
    assert D.draw([], seed=SEED, total=5) == {}
    assert D.draw([], seed=SEED, quotas={"A": 2}) == {"A": []}


# --- bad input changes nothing and says what is wrong --------------------------------------


@pytest.mark.parametrize(
    "seed",
    ["", "xyz" * 12, "abc", "ab" * 15, "ab" * 65, "0123456789abcdef0123456789abcdef0", None],
)
def test_a_bad_seed_is_refused(seed):
    with pytest.raises(D.DrawInputError, match="seed"):
        D.draw([(1, "A", 1.0)], seed=seed, total=1)


@pytest.mark.parametrize("weight", [0, -1, float("nan"), float("inf"), "heavy", None])
def test_a_bad_weight_is_refused(weight):
    with pytest.raises(D.DrawInputError, match="weight"):
        D.draw([(1, "A", 1.0), (2, "A", weight)], seed=SEED, total=1)


@pytest.mark.parametrize("object_id", [-1, "7", 2.5, 2**63])
def test_a_bad_id_is_refused(object_id):
    with pytest.raises(D.DrawInputError, match="object id"):
        D.draw([(1, "A", 1.0), (object_id, "A", 1.0)], seed=SEED, total=1)


def test_other_bad_input_is_refused():
    with pytest.raises(D.DrawInputError, match="more than once"):
        D.draw([(1, "A", 1.0), (1, "B", 1.0)], seed=SEED, total=1)
    with pytest.raises(D.DrawInputError, match="either"):
        D.draw([(1, "A", 1.0)], seed=SEED, total=1, quotas={"A": 1})
    with pytest.raises(D.DrawInputError, match="either"):
        D.draw([(1, "A", 1.0)], seed=SEED)
    with pytest.raises(D.DrawInputError, match="quota"):
        D.draw([(1, "A", 1.0)], seed=SEED, quotas={"A": -1})
    with pytest.raises(D.DrawInputError, match="stratum"):
        D.draw([(1, "", 1.0)], seed=SEED, total=1)
    with pytest.raises(D.DrawInputError, match="total"):
        D.draw([(1, "A", 1.0)], seed=SEED, total=-2)


def test_new_seeds_are_valid_and_differ():
    first, second = D.new_seed(), D.new_seed()
    assert D.normalise_seed(first) == first and len(first) == 64
    assert first != second


# --- inspectors ----------------------------------------------------------------------------


def test_at_least_two_distinct_inspectors_fixed_by_the_seed():
    chosen = D.draw_inspectors(7, [10, 11, 12, 13, 14], seed=SEED)
    assert len(chosen) == 2 and len(set(chosen)) == 2
    assert D.draw_inspectors(7, [14, 13, 12, 11, 10, 10], seed=SEED) == chosen
    assert D.draw_inspectors(7, range(10, 15), seed=SEED, count=3)[:2] == chosen
    others = {tuple(D.draw_inspectors(object_id, range(10, 15), seed=SEED)) for object_id in range(1, 30)}
    assert len(others) > 5  # each object has its own draw


def test_a_recused_inspector_is_replaced_by_the_next_in_order():
    order = D.rank_inspectors(7, range(10, 20), seed=SEED)
    first, second, third, fourth = order[:4]
    assert D.draw_inspectors(7, range(10, 20), seed=SEED) == [first, second]
    assert D.draw_inspectors(7, range(10, 20), seed=SEED, exclude=[first]) == [second, third]
    assert D.draw_inspectors(7, range(10, 20), seed=SEED, exclude=[second]) == [first, third]
    # a second recusal: the redraw again takes the next, and is the same every time
    assert D.draw_inspectors(7, range(10, 20), seed=SEED, exclude=[second, third]) == [first, fourth]
    assert D.draw_inspectors(7, range(10, 20), seed=SEED, exclude=[second, third]) == [first, fourth]


def test_too_few_inspectors_is_refused():
    with pytest.raises(D.NotEnoughCandidates) as raised:
        D.draw_inspectors(7, [10, 11, 12], seed=SEED, exclude=[11, 12])
    assert (raised.value.needed, raised.value.available) == (2, 1)
    with pytest.raises(D.DrawInputError, match="number of inspectors"):
        D.draw_inspectors(7, [10, 11, 12], seed=SEED, count=0)
    with pytest.raises(D.DrawInputError, match="object id"):
        D.draw_inspectors(7, [10, "x"], seed=SEED)


# --- the exported pool and the verifier ----------------------------------------------------


def test_the_pool_file_format():
    data = D.pool_csv(
        [(12, "B|x", 2), (3, "B|x", 0.1), (7, "A|乳制品", 1.5, "某乳业有限公司")], extra_columns=("name",)
    )
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").split("\r\n") == [
        "object_id,stratum,weight,name",
        "7,A|乳制品,1.5,某乳业有限公司",
        "3,B|x,0.1,",
        "12,B|x,2.0,",
        "",
    ]
    assert D.read_pool_csv(data) == [(7, "A|乳制品", 1.5), (3, "B|x", 0.1), (12, "B|x", 2.0)]


def test_reading_a_bad_pool_file_says_where():
    with pytest.raises(D.DrawInputError, match="lacks the column"):
        D.read_pool_csv(b"object_id,weight\r\n1,1\r\n")
    with pytest.raises(D.DrawInputError, match="line 3: a weight"):
        D.read_pool_csv(b"object_id,stratum,weight\r\n1,A,1\r\n2,A,-4\r\n")
    with pytest.raises(D.DrawInputError, match="line 2: object_id"):
        D.read_pool_csv(b"object_id,stratum,weight\r\nx1,A,1\r\n")
    with pytest.raises(D.DrawInputError, match="UTF-8"):
        D.read_pool_csv("object_id,stratum,weight\r\n1,乳制品,1\r\n".encode("gb18030"))
    with pytest.raises(D.DrawInputError, match="twice"):
        D.read_quotas_csv(b"stratum,quota\r\nA,1\r\nA,2\r\n")


def run_verifier(args) -> tuple[int, str]:
    out = io.StringIO()
    code = D.main([str(a) for a in args], stdout=out)
    return code, out.getvalue()


def parse_result(text: str) -> dict[str, list[int]]:
    result: dict[str, list[int]] = {}
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert lines[0] == "stratum,rank,object_id"
    for line in lines[1:]:
        stratum, rank, object_id = line.rsplit(",", 2)
        result.setdefault(stratum, []).append(int(object_id))
        assert int(rank) == len(result[stratum])
    return result


def test_round_trip_export_then_verifier_gives_the_same_list(tmp_path):
    rng = random.Random(9)
    pool = [
        (i, rng.choice(["150203|乳制品", "150204|羊绒制品", "152900|建材"]), rng.choice([1, 1.7, 4]))
        for i in range(1, 900)
    ]
    quotas = {"150203|乳制品": 7, "150204|羊绒制品": 3, "152900|建材": 5}
    (tmp_path / "pool.csv").write_bytes(D.pool_csv(pool))
    (tmp_path / "quotas.csv").write_bytes(D.quotas_csv(quotas))
    expected = {s: ids for s, ids in D.draw(pool, seed=SEED, quotas=quotas).items() if ids}
    code, text = run_verifier(["--pool", tmp_path / "pool.csv", "--seed", SEED, "--quotas", tmp_path / "quotas.csv"])
    assert code == 0
    assert parse_result(text) == expected
    assert f"sha256 {D.file_digest((tmp_path / 'pool.csv').read_bytes())}" in text
    assert "# algorithm nqihub-draw/1" in text
    code, text = run_verifier(["--pool", tmp_path / "pool.csv", "--seed", SEED, "--total", 12])
    assert code == 0
    assert parse_result(text) == {s: ids for s, ids in D.draw(pool, seed=SEED, total=12).items() if ids}


def test_the_verifier_draws_inspectors(tmp_path):
    (tmp_path / "inspectors.csv").write_text("inspector_id,name\n" + "".join(f"{i},x\n" for i in range(10, 20)))
    args = ["--inspectors", tmp_path / "inspectors.csv", "--object", 7, "--seed", SEED]
    code, text = run_verifier([*args, "--exclude", "15"])
    expected = D.draw_inspectors(7, range(10, 20), seed=SEED, exclude=[15])
    assert code == 0
    assert text.splitlines()[-3:] == ["rank,inspector_id", f"1,{expected[0]}", f"2,{expected[1]}"]


def test_the_verifier_refuses_bad_input_with_a_message(tmp_path, capsys):
    (tmp_path / "pool.csv").write_bytes(D.pool_csv([(1, "A", 1.0)]))
    assert run_verifier(["--pool", tmp_path / "pool.csv", "--seed", "123", "--total", 1])[0] == 2
    assert "seed" in capsys.readouterr().err
    assert run_verifier(["--pool", tmp_path / "missing.csv", "--seed", SEED, "--total", 1])[0] == 2
    assert "cannot read" in capsys.readouterr().err


def test_the_verifier_runs_alone_with_the_standard_library(tmp_path):
    """Copied out of the project and run with an isolated Python (no project, no site packages):
    the same list as the draw inside the project."""
    shutil.copy(Path(D.__file__), tmp_path / "draw.py")
    pool = small_pool()
    (tmp_path / "pool.csv").write_bytes(D.pool_csv(pool))
    done = subprocess.run(
        [sys.executable, "-I", "-S", "draw.py", "--pool", "pool.csv", "--seed", SEED, "--total", "9"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert parse_result(done.stdout) == {s: ids for s, ids in D.draw(pool, seed=SEED, total=9).items() if ids}


def test_the_worked_example_of_the_documentation():
    """docs/sampling-draw.md, "Worked example": the same file digest, words and lists."""
    seed = "0123456789abcdef0123456789abcdef"
    pool = [
        (101, "150203|乳制品", 1.0),
        (102, "150203|乳制品", 3.0),
        (103, "150203|乳制品", 1.0),
        (104, "150203|乳制品", 1.0),
        (256, "150602|稀土永磁材料", 1.0),
        (257, "150602|稀土永磁材料", 2.0),
        (300, "150602|稀土永磁材料", 1.0),
    ]
    assert D.file_digest(D.pool_csv(pool)) == "a00f0b47c9c504de6a92ac016dde5af7868e93cddb96008e1df7841728cbe745"
    assert D.object_word(104, seed) == 0xE50AAA406EBE1BEA
    assert D.object_number(102, seed) == 1168709684445128
    assert D.draw(pool, seed=seed, total=3) == {"150203|乳制品": [104, 102], "150602|稀土永磁材料": [257]}
    assert D.draw(pool, seed=seed, quotas={"150203|乳制品": 2, "150602|稀土永磁材料": 2}) == {
        "150203|乳制品": [104, 102],
        "150602|稀土永磁材料": [257, 256],
    }
    assert D.rank_inspectors(102, [11, 12, 13, 14], seed=seed) == [11, 14, 12, 13]
    assert D.draw_inspectors(102, [11, 12, 13, 14], seed=seed, exclude=[11]) == [14, 12]


# --- the same draw with the first pass in the database -------------------------------------


def short_list_draw(pool, seed, monkeypatch=None, **allocation):
    """ShortList against a pool in an in-memory SQLite table, with the first pass in SQL."""
    import sqlite3

    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE pool (id integer PRIMARY KEY, stratum text, weight real)")
    db.executemany("INSERT INTO pool VALUES (?, ?, ?)", pool)
    sizes = {(s, w): n for s, w, n in db.execute("SELECT stratum, weight, count(*) FROM pool GROUP BY 1, 2")}
    high_id = db.execute("SELECT coalesce(max(id), 0) FROM pool").fetchone()[0]
    short = D.ShortList(sizes, seed=seed, high_id=high_id, **allocation)
    db.execute("CREATE TEMP TABLE levels (stratum text, weight real, level blob)")
    db.executemany("INSERT INTO levels VALUES (?, ?, ?)", [(s, w, bytes([lv])) for s, w, lv in short.levels()])
    rows = db.execute(
        "SELECT p.id, p.stratum, p.weight FROM pool p JOIN levels l ON p.stratum = l.stratum AND p.weight = l.weight"
        " WHERE substr(?, p.id + 1, 1) >= l.level",
        (short.buckets,),
    ).fetchall()
    fetched = []

    def fetch_group(stratum, weight):
        fetched.append((stratum, weight))
        return [r[0] for r in db.execute("SELECT id FROM pool WHERE stratum = ? AND weight = ?", (stratum, weight))]

    return short.finish(rows, fetch_group), len(rows), fetched


def test_the_short_list_in_sql_gives_the_same_draw():
    rng = random.Random(44)
    for _ in range(12):
        size = rng.choice([5, 400, 3000])
        ids = rng.sample(range(1, 3 * size + 2), size)
        pool = [(i, f"1502{rng.randint(0, 3):02d}|C{rng.randint(1, 3)}", rng.choice([1.0, 1.5, 3.0, 5.0])) for i in ids]
        seed = "%064x" % rng.getrandbits(256)
        total = rng.choice([1, 10, size // 20 + 1, size])
        result, read, _fetched = short_list_draw(pool, seed, total=total)
        assert result == D.draw(pool, seed=seed, total=total)
        if size == 3000 and total < 200:
            assert read < size / 3  # the database sent only a short list
        quotas = {f"150200|C{k}": rng.choice([0, 2, 50]) for k in range(1, 4)}
        assert short_list_draw(pool, seed, quotas=quotas)[0] == D.draw(pool, seed=seed, quotas=quotas)


def test_the_short_list_reads_a_whole_group_when_it_must(monkeypatch):
    monkeypatch.setattr(D, "_levels", lambda sizes, wanted: [255] * len(sizes))
    rng = random.Random(45)
    pool = [(i, f"S{rng.randint(0, 2)}", rng.choice([1.0, 4.0])) for i in range(1, 2001)]
    result, _read, fetched = short_list_draw(pool, SEED, total=60)
    assert result == D.draw(pool, seed=SEED, total=60)
    assert fetched  # far too strict levels: groups were read whole


def test_the_short_list_notices_a_pool_that_changed():
    pool = [(i, "A", 1.0) for i in range(1, 501)]
    short = D.ShortList({("A", 1.0): 500}, seed=SEED, high_id=500, total=20)
    with pytest.raises(D.DrawInputError, match="changed"):
        short.finish([], lambda stratum, weight: [row[0] for row in pool[:-1]])
    with pytest.raises(D.DrawInputError, match="outside"):
        short.finish([(501, "A", 1.0)], lambda stratum, weight: [])
