"""GB/T 2828.1 tables and plans (``nqihub.sampling.aql``), pure: every cell of Table 1 and
Table 2-A against the tables of the project's domain facts (§4.1, §4.2, written out below as
they stand there), the worked check points of §14, the arrows, 100 % inspection, tightened and
reduced spot checks, and the switching rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from nqihub.sampling import aql

# Table 1 as in the domain facts §4.1: lot sizes | S-1 | S-2 | S-3 | S-4 | I | II | III
FACTS_TABLE_1 = """
| 2–8 | A | A | A | A | A | A | B |
| 9–15 | A | A | A | A | A | B | C |
| 16–25 | A | A | B | B | B | C | D |
| 26–50 | A | B | B | C | C | D | E |
| 51–90 | B | B | C | C | C | E | F |
| 91–150 | B | B | C | D | D | F | G |
| 151–280 | B | C | D | E | E | G | H |
| 281–500 | B | C | D | E | F | H | J |
| 501–1200 | C | C | E | F | G | J | K |
| 1201–3200 | C | D | E | G | H | K | L |
| 3201–10000 | C | D | F | G | J | L | M |
| 10001–35000 | C | D | F | H | K | M | N |
| 35001–150000 | D | E | G | J | L | N | P |
| 150001–500000 | D | E | G | J | M | P | Q |
| ≥500001 | D | E | H | K | N | Q | R |
"""

# Table 2-A as in the domain facts §4.2: letter | n | AQL 0.010 … 10 ("(?)" marks a doubtful cell)
FACTS_AQLS = "0.010 0.015 0.025 0.040 0.065 0.10 0.15 0.25 0.40 0.65 1.0 1.5 2.5 4.0 6.5 10".split()
FACTS_TABLE_2A = """
| A | 2 | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | 0/1 | ↑ (?) |
| B | 3 | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | 0/1 | ↑ | ↓ |
| C | 5 | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | 0/1 | ↑ | ↓ | 1/2 |
| D | 8 | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | 0/1 | ↑ | ↓ | 1/2 | 2/3 |
| E | 13 | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | 0/1 | ↑ | ↓ | 1/2 | 2/3 | 3/4 |
| F | 20 | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | 0/1 | ↑ | ↓ | 1/2 | 2/3 | 3/4 | 5/6 |
| G | 32 | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | 0/1 | ↑ | ↓ | 1/2 | 2/3 | 3/4 | 5/6 | 7/8 |
| H | 50 | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | 0/1 | ↑ | ↓ | 1/2 | 2/3 | 3/4 | 5/6 | 7/8 | 10/11 |
| J | 80 | ↓ | ↓ | ↓ | ↓ | ↓ | ↓ | 0/1 | ↑ | ↓ | 1/2 | 2/3 | 3/4 | 5/6 | 7/8 | 10/11 | 14/15 |
| K | 125 | ↓ | ↓ | ↓ | ↓ | ↓ | 0/1 | ↑ | ↓ | 1/2 | 2/3 | 3/4 | 5/6 | 7/8 | 10/11 | 14/15 | 21/22 |
| L | 200 | ↓ | ↓ | ↓ | ↓ | 0/1 | ↑ | ↓ | 1/2 | 2/3 | 3/4 | 5/6 | 7/8 | 10/11 | 14/15 | 21/22 | ↑ |
| M | 315 | ↓ | ↓ | ↓ | 0/1 | ↑ | ↓ | 1/2 | 2/3 | 3/4 | 5/6 | 7/8 | 10/11 | 14/15 | 21/22 | ↑ | ↑ |
| N | 500 | ↓ | ↓ | 0/1 | ↑ | ↓ | 1/2 | 2/3 | 3/4 | 5/6 | 7/8 | 10/11 | 14/15 | 21/22 | ↑ | ↑ | ↑ |
| P | 800 | ↓ | 0/1 | ↑ | ↓ | 1/2 | 2/3 | 3/4 | 5/6 | 7/8 | 10/11 | 14/15 | 21/22 | ↑ | ↑ | ↑ | ↑ |
| Q | 1250 | 0/1 | ↑ | ↓ | 1/2 | 2/3 | 3/4 | 5/6 | 7/8 | 10/11 | 14/15 | 21/22 | ↑ | ↑ | ↑ | ↑ | ↑ |
| R | 2000 | ↑ | ↓ (?) | 1/2 | 2/3 | 3/4 | 5/6 | 7/8 | 10/11 | 14/15 | 21/22 | ↑ | ↑ | ↑ | ↑ | ↑ | ↑ |
"""

ARROWS = {"↓": aql.DOWN, "↑": aql.UP}


def _rows(text):
    for line in text.strip().splitlines():
        yield [cell.strip() for cell in line.strip().strip("|").split("|")]


def _facts_cell(text):
    """(cell, doubtful) from a cell of the facts' Table 2-A."""
    doubtful = text.endswith("(?)")
    text = text.removesuffix("(?)").strip()
    if text in ARROWS:
        return ARROWS[text], doubtful
    ac, re = text.split("/")
    return (int(ac), int(re)), doubtful


# --------------------------------------------------------------------------- Table 1


def test_table_1_has_every_cell_of_the_facts():
    rows = list(_rows(FACTS_TABLE_1))
    assert len(rows) == 15 == len(aql.LOT_RANGES)
    for (low, high), row in zip(aql.LOT_RANGES, rows, strict=True):
        lots, letters = row[0], row[1:]
        assert lots == (f"≥{low}" if high is None else f"{low}–{high}")
        assert [aql.TABLE_1[(low, high)][level] for level in aql.LEVELS] == letters
        for level, letter in zip(aql.LEVELS, letters, strict=True):
            # both ends of the range (and a lot far beyond the last one)
            assert aql.code_letter(low, level) == letter
            assert aql.code_letter(high or 10**7, level) == letter


def test_table_1_refuses_what_it_does_not_hold():
    for lot_size, level in [(1, "II"), (0, "II"), (-5, "II"), (True, "II"), ("100", "II"), (100, "IV"), (100, "s-1")]:
        with pytest.raises(aql.BadInput):
            aql.code_letter(lot_size, level)


def test_sample_sizes_of_the_code_letters():
    # §4.1: A 2, B 3, C 5 … R 2000 (no I or O); §14: the reduced sample sizes
    assert " ".join(f"{k}{v}" for k, v in aql.NORMAL_SIZES.items()) == (
        "A2 B3 C5 D8 E13 F20 G32 H50 J80 K125 L200 M315 N500 P800 Q1250 R2000"
    )
    assert " ".join(f"{k}{v}" for k, v in aql.REDUCED_SIZES.items()) == (
        "A2 B2 C2 D3 E5 F8 G13 H20 J32 K50 L80 M125 N200 P315 Q500 R800"
    )
    assert aql.TIGHTENED_SIZES == {**aql.NORMAL_SIZES, "S": 3150}


# --------------------------------------------------------------------------- Table 2-A


def test_table_2a_has_every_cell_of_the_facts():
    rows = list(_rows(FACTS_TABLE_2A))
    assert [row[0] for row in rows] == list(aql.LETTERS)
    assert [str(a) for a in aql.AQLS] == FACTS_AQLS
    table = aql.NORMAL_TABLE
    doubtful_in_facts = set()
    for row in rows:
        letter, n, cells = row[0], int(row[1]), row[2:]
        assert table.sizes[letter] == n
        assert len(cells) == 16
        for the_aql, text in zip(aql.AQLS, cells, strict=True):
            expected, doubtful = _facts_cell(text)
            pattern = aql._column(table, the_aql)[letter]
            assert pattern == expected, (letter, the_aql)
            if doubtful:
                doubtful_in_facts.add((letter, the_aql))
            else:
                assert table.cell(letter, the_aql) == expected, (letter, the_aql)
    # The two cells marked "(?)" carry that state, with what the pattern gives and what is used.
    assert doubtful_in_facts == set(table.doubts) == {("A", Decimal("10")), ("R", Decimal("0.015"))}
    assert table.doubts[("A", Decimal("10"))].pattern == aql.UP
    assert table.cell("A", Decimal("10")) == aql.DOWN
    assert table.doubts[("R", Decimal("0.015"))].pattern == aql.DOWN
    assert table.cell("R", Decimal("0.015")) == aql.UP


def test_worked_check_points_of_the_facts():
    p = aql.plan(1000, "II", "2.5")
    assert (p.code_letter, p.used_letter, p.n, p.ac, p.re) == ("J", "J", 80, 5, 6)
    p = aql.plan(1000, "II", "4.0")
    assert (p.code_letter, p.n, p.ac, p.re) == ("J", 80, 7, 8)
    p = aql.plan(4000, "II", "2.5")
    assert (p.code_letter, p.used_letter, p.n, p.ac, p.re) == ("L", "L", 200, 10, 11)
    assert not p.full_inspection and p.notes == () and p.inspect == 200
    # reduced inspection: the sample sizes of §14, one per code letter, where the cell is a plan
    for letter, n in zip(aql.LETTERS, (2, 2, 2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800), strict=True):
        assert aql.REDUCED_TABLE.sizes[letter] == n


# --------------------------------------------------------------------------- arrows


def test_a_down_arrow_uses_the_plan_below_with_its_sample_size():
    p = aql.plan(1000, "II", "0.10")  # J/0.10 is ↓; K/0.10 is 0/1 with n = 125
    assert (p.code_letter, p.used_letter, p.n, p.ac, p.re) == ("J", "K", 125, 0, 1)
    assert p.n != aql.NORMAL_SIZES["J"]
    assert p.notes == ("arrow_down",)


def test_an_up_arrow_uses_the_plan_above_with_its_sample_size():
    p = aql.plan(1000, "II", "0.25")  # J/0.25 is ↑; H/0.25 is 0/1 with n = 50
    assert (p.code_letter, p.used_letter, p.n, p.ac, p.re) == ("J", "H", 50, 0, 1)
    assert p.notes == ("arrow_up",)
    p = aql.plan(35000, "II", "10")  # M/10 is ↑, L/10 ↑, K/10 is 21/22 with n = 125
    assert (p.code_letter, p.used_letter, p.n, p.ac, p.re) == ("M", "K", 125, 21, 22)


def test_a_chain_of_arrows_is_followed_to_the_first_plan():
    p = aql.plan(3, "II", "0.010")  # A/0.010 … P/0.010 are ↓; Q/0.010 is 0/1, n = 1250
    assert (p.code_letter, p.used_letter, p.n, p.ac, p.re) == ("A", "Q", 1250, 0, 1)


def test_the_used_plan_larger_than_the_lot_means_every_unit_is_inspected():
    p = aql.plan(20, "II", "0.10")  # C → K, n = 125 > 20
    assert (p.used_letter, p.n, p.full_inspection, p.inspect) == ("K", 125, True, 20)
    assert p.notes == ("arrow_down", "full_inspection")
    p = aql.plan(20, "II", "0.65")  # C → F, n = 20 = lot: still 100 %
    assert (p.used_letter, p.n, p.full_inspection, p.inspect) == ("F", 20, True, 20)
    p = aql.plan(21, "I", "0.65")  # B → F, n = 20 < 21: a sample
    assert (p.used_letter, p.n, p.full_inspection, p.inspect) == ("F", 20, False, 20)


def test_a_doubtful_cell_on_the_way_is_reported():
    p = aql.plan(5, "II", "10")  # A/10 (?) used as ↓: B/10 ↓, C/10 1/2 with n = 5
    assert (p.code_letter, p.used_letter, p.n, p.ac, p.re, p.full_inspection) == ("A", "C", 5, 1, 2, True)
    assert [letter for letter, _doubt in p.doubts] == ["A"]
    assert p.check == aql.DOUBTFUL
    p = aql.plan(600000, "III", "0.015")  # R/0.015 (?) used as ↑: Q ↑, P 0/1 with n = 800
    assert (p.code_letter, p.used_letter, p.n, p.ac, p.re) == ("R", "P", 800, 0, 1)
    assert p.check == aql.DOUBTFUL
    assert aql.plan(1000, "II", "2.5").check == aql.CORROBORATED


@pytest.mark.parametrize("severity", aql.SEVERITIES)
def test_every_cell_of_every_table_resolves_to_a_plan_of_its_own_row(severity):
    table = aql.TABLES[severity]
    letters = list(table.sizes)
    for letter in aql.LETTERS:
        for the_aql in aql.AQLS:
            used, (ac, re), notes, _doubts = aql.resolve(table, letter, the_aql)
            assert isinstance(table.cell(used, the_aql), tuple)
            assert 0 <= ac < re
            cell = table.cell(letter, the_aql)
            if cell == aql.DOWN:
                assert letters.index(used) > letters.index(letter) and notes[0] == "arrow_down"
            elif cell == aql.UP:
                assert letters.index(used) < letters.index(letter) and notes[0] == "arrow_up"
            else:
                assert used == letter and notes == []
            # the plan's n is always the used row's
            p = aql.plan(10**6, "III", the_aql, severity) if letter == "R" else None
            if p is not None:
                assert p.n == table.sizes[p.used_letter]


def test_acceptance_numbers_grow_down_every_column():
    for table in aql.TABLES.values():
        for the_aql in aql.AQLS:
            plans = [table.cell(letter, the_aql) for letter in table.sizes]
            acs = [cell[0] for cell in plans if isinstance(cell, tuple)]
            assert acs == sorted(acs), (table.key, the_aql)


# --------------------------------------------------------------------------- tightened and reduced


@pytest.mark.parametrize(
    ("lot", "level", "the_aql", "expected"),
    [
        (1000, "II", "1.0", ("J", "J", 80, 1, 2)),
        (2000, "II", "1.0", ("K", "K", 125, 2, 3)),
        (20000, "II", "1.0", ("M", "M", 315, 5, 6)),
        (100000, "II", "1.0", ("N", "N", 500, 8, 9)),
        (4000, "II", "6.5", ("L", "L", 200, 18, 19)),
        (10, "II", "6.5", ("B", "B", 3, 0, 1)),
        (1000, "II", "0.65", ("J", "K", 125, 1, 2)),  # J/0.65 ↓ (tightened has no ↑ after 0/1)
        (300000, "II", "0.10", ("P", "P", 800, 1, 2)),
    ],
)
def test_tightened_spot_checks(lot, level, the_aql, expected):
    p = aql.plan(lot, level, the_aql, aql.TIGHTENED)
    assert (p.code_letter, p.used_letter, p.n, p.ac, p.re) == expected
    assert p.check == aql.UNVERIFIED  # Table 2-B is not transcribed from the printed standard


def test_tightened_row_s_and_full_inspection():
    p = aql.plan(600000, "III", "0.025", aql.TIGHTENED)  # R/0.025 ↓ → S (n = 3150) 1/2
    assert (p.code_letter, p.used_letter, p.n, p.ac, p.re) == ("R", "S", 3150, 1, 2)
    assert p.check == aql.DOUBTFUL
    p = aql.plan(1500, "III", "0.010", aql.TIGHTENED)  # L → R (0/1, n = 2000 > 1500)
    assert (p.used_letter, p.n, p.ac, p.full_inspection, p.inspect) == ("R", 2000, 0, True, 1500)


@pytest.mark.parametrize(
    ("lot", "the_aql", "expected"),
    [
        (1000, "1.0", ("J", "J", 32, 1, 3)),
        (2000, "2.5", ("K", "K", 50, 3, 6)),
        (1000, "6.5", ("J", "J", 32, 5, 8)),
        (1000, "0.40", ("J", "K", 50, 0, 2)),  # J/0.40 ↓: K's plan and K's reduced n
        (1000, "0.25", ("J", "H", 20, 0, 1)),  # J/0.25 ↑: H's plan and H's reduced n
        (100000, "0.65", ("N", "N", 200, 3, 6)),
    ],
)
def test_reduced_spot_checks(lot, the_aql, expected):
    p = aql.plan(lot, "II", the_aql, aql.REDUCED)
    assert (p.code_letter, p.used_letter, p.n, p.ac, p.re) == expected
    assert p.table.check == aql.UNVERIFIED


def test_plan_refuses_values_outside_the_tables():
    for args in [
        (1, "II", "2.5"),
        (100, "IV", "2.5"),
        (100, "II", "3.0"),
        (100, "II", "15"),
        (100, "II", "x"),
        (100, "II", "sNaN"),
        (100, "II", "NaN"),
        (100, "II", "-Infinity"),
        (100, "II", "2,5"),
    ]:
        with pytest.raises(aql.BadInput):
            aql.plan(*args)
    with pytest.raises(aql.BadInput):
        aql.plan(100, "II", "2.5", "lenient")
    assert aql.plan(100, "II", "2.50").aql == Decimal("2.5")
    assert aql.plan(100, "II", 10).aql == Decimal("10")


# --------------------------------------------------------------------------- switching rules

A = aql.Lot(accepted=True, ac=1)
R = aql.Lot(accepted=False, ac=1)
RULES = aql.Rules()


def test_two_of_five_not_accepted_tightens():
    assert aql.next_severity(RULES, []).severity == aql.NORMAL
    assert aql.next_severity(RULES, [A, R, A, A]).severity == aql.NORMAL
    switched = aql.next_severity(RULES, [A, R, A, R])
    assert (switched.severity, switched.reason) == (aql.TIGHTENED, "to_tightened")
    # two rejections six lots apart are not within five consecutive lots
    assert aql.next_severity(RULES, [R, A, A, A, A, R]).severity == aql.NORMAL
    assert aql.next_severity(RULES, [R, A, A, A, R]).severity == aql.TIGHTENED


def test_five_consecutive_accepted_under_tightened_restore_normal():
    assert aql.next_severity(RULES, [A] * 4, start=aql.TIGHTENED).severity == aql.TIGHTENED
    assert aql.next_severity(RULES, [A] * 5, start=aql.TIGHTENED).severity == aql.NORMAL
    assert aql.next_severity(RULES, [A, A, A, A, R, A], start=aql.TIGHTENED).severity == aql.TIGHTENED
    # through the whole cycle: normal → tightened → normal
    assert aql.next_severity(RULES, [R, R, A, A, A, A, A]).severity == aql.NORMAL


def test_five_lots_not_accepted_under_tightened_discontinue():
    history = [R, A, R, A, R, A, R, A]
    assert aql.next_severity(RULES, history, start=aql.TIGHTENED).severity == aql.TIGHTENED
    stopped = aql.next_severity(RULES, [*history, R], start=aql.TIGHTENED)
    assert (stopped.severity, stopped.reason) == (aql.DISCONTINUED, "discontinued")
    # and it stays so, whatever follows
    assert aql.next_severity(RULES, [*history, R, A, A, A, A, A], start=aql.TIGHTENED).severity == aql.DISCONTINUED
    # the count starts again with each tightened period
    back = [R, R, A, A, A, A, A]  # tightened, then normal again
    assert aql.next_severity(RULES, [*back, R, R, R, A, R], start=aql.NORMAL).severity == aql.TIGHTENED


def test_the_switching_score_reaches_thirty_and_reduces():
    # Ac 0 or 1: 2 points per accepted lot
    assert aql.next_severity(RULES, [A] * 14) == aql.Switching(aql.NORMAL, 28, "start")
    reduced = aql.next_severity(RULES, [A] * 15)
    assert (reduced.severity, reduced.reason) == (aql.REDUCED, "to_reduced")
    # Ac ≥ 2: 3 points when the lot passes one AQL step tighter, else back to 0
    good = aql.Lot(accepted=True, ac=5, accepted_tighter=True)
    only_normal = aql.Lot(accepted=True, ac=5, accepted_tighter=False)
    assert aql.next_severity(RULES, [good] * 9).score == 27
    assert aql.next_severity(RULES, [good] * 10).severity == aql.REDUCED
    assert aql.next_severity(RULES, [good] * 9 + [only_normal]).score == 0
    # a lot not accepted resets the score
    assert aql.next_severity(RULES, [A] * 10 + [R] + [A] * 3).score == 6
    # the score alone does not reduce: production steady and the authority's approval too
    assert aql.next_severity(RULES, [A] * 15, approved=False).severity == aql.NORMAL
    assert aql.next_severity(RULES, [A] * 15, steady=False).score == 30


def test_reduced_returns_to_normal_on_a_lot_not_accepted_or_irregular_production():
    assert aql.next_severity(RULES, [A] * 5, start=aql.REDUCED).severity == aql.REDUCED
    assert aql.next_severity(RULES, [A, R], start=aql.REDUCED) == aql.Switching(aql.NORMAL, 0, "to_normal")
    irregular = aql.Lot(accepted=True, ac=1, irregular=True)
    assert aql.next_severity(RULES, [A, irregular], start=aql.REDUCED).severity == aql.NORMAL


def test_the_rules_numbers_are_data():
    lenient = aql.Rules(tighten_rejections=3, reduce_score=40)
    assert aql.next_severity(lenient, [A, R, A, R]).severity == aql.NORMAL
    assert aql.next_severity(lenient, [A, R, R, R]).severity == aql.TIGHTENED
    assert aql.next_severity(lenient, [A] * 15).severity == aql.NORMAL
    assert aql.next_severity(lenient, [A] * 20).severity == aql.REDUCED


def test_lot_outcome_reads_the_tighter_aql_from_the_table():
    p = aql.plan(1000, "II", "2.5")  # J: 5/6; one step tighter (1.5) J is 3/4
    assert aql.lot_outcome(p, 3) == aql.Lot(accepted=True, ac=5, accepted_tighter=True)
    assert aql.lot_outcome(p, 4) == aql.Lot(accepted=True, ac=5, accepted_tighter=False)
    assert aql.lot_outcome(p, 6).accepted is False
    small = aql.plan(1000, "II", "0.65")  # J: 1/2, the score counts the lot's acceptance
    assert aql.lot_outcome(small, 1) == aql.Lot(accepted=True, ac=1, accepted_tighter=None)
    with pytest.raises(aql.BadInput):
        aql.lot_outcome(p, -1)
