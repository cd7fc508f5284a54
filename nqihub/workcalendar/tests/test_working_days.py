"""Working-day arithmetic: weekends, public holidays and make-up working days (调休上班), the
local time of day, and the number of queries.

The 春节 and 国庆 cases use the shipped 2025 and 2026 schedules (migration 0002), so they also
check that the data says what the State Council's notices say.
"""

from __future__ import annotations

import datetime

import pytest

from nqihub.workcalendar.models import DayKind
from nqihub.workcalendar.services import WorkingCalendar, add_working_days, is_working_day

from .conftest import D, add_entry, at


def weekdays_only(start: datetime.date, n: int) -> datetime.date:
    """The rule without a calendar: Monday to Friday (n = 0 on a weekend moves on)."""
    day = start
    if n == 0:
        while day.weekday() >= 5:
            day += datetime.timedelta(days=1)
        return day
    while n:
        day += datetime.timedelta(days=1)
        n -= day.weekday() < 5
    return day


def deadlines(start, count):
    return [add_working_days(start, n).date() for n in range(1, count + 1)]


# --- an empty calendar: weekends only --------------------------------------------------------


@pytest.mark.parametrize("offset", range(14))
def test_empty_calendar_skips_weekends_only(empty_calendar, offset):
    start = at(2026, 2, 9) + datetime.timedelta(days=offset)  # a fortnight across 春节 2026
    for n in range(13):
        assert add_working_days(start, n).date() == weekdays_only(start.date(), n), (start, n)


def test_empty_calendar_is_working_day(empty_calendar):
    assert [is_working_day(D(2026, 2, 13) + datetime.timedelta(days=i)) for i in range(4)] == [
        True,  # Friday
        False,  # Saturday
        False,  # Sunday
        True,  # Monday (in 春节 2026, but nothing is recorded)
    ]


# --- the shipped schedules -------------------------------------------------------------------


def test_spring_festival_2026_with_make_up_saturdays(db):
    # 2月15日至23日放假；2月14日（周六）、2月28日（周六）上班。
    assert deadlines(at(2026, 2, 13), 7) == [
        D(2026, 2, 14),  # make-up Saturday
        D(2026, 2, 24),  # after nine days off
        D(2026, 2, 25),
        D(2026, 2, 26),
        D(2026, 2, 27),
        D(2026, 2, 28),  # make-up Saturday
        D(2026, 3, 2),
    ]


def test_mid_autumn_and_national_day_2026(db):
    # 中秋 9月25日至27日；国庆 10月1日至7日；9月20日（周日）、10月10日（周六）上班。
    assert deadlines(at(2026, 9, 17), 13) == [
        D(2026, 9, 18),
        D(2026, 9, 20),  # make-up Sunday
        D(2026, 9, 21),
        D(2026, 9, 22),
        D(2026, 9, 23),
        D(2026, 9, 24),
        D(2026, 9, 28),  # 中秋节 25–27 off
        D(2026, 9, 29),
        D(2026, 9, 30),
        D(2026, 10, 8),  # 国庆节 1–7 off
        D(2026, 10, 9),
        D(2026, 10, 10),  # make-up Saturday
        D(2026, 10, 12),
    ]


def test_spring_festival_2025(db):
    # 1月28日至2月4日放假；1月26日（周日）、2月8日（周六）上班。
    assert deadlines(at(2025, 1, 24), 7) == [
        D(2025, 1, 26),
        D(2025, 1, 27),
        D(2025, 2, 5),
        D(2025, 2, 6),
        D(2025, 2, 7),
        D(2025, 2, 8),
        D(2025, 2, 10),
    ]


def test_national_day_and_mid_autumn_2025(db):
    # 10月1日至8日放假；9月28日（周日）、10月11日（周六）上班。
    assert deadlines(at(2025, 9, 26), 7) == [
        D(2025, 9, 28),
        D(2025, 9, 29),
        D(2025, 9, 30),
        D(2025, 10, 9),
        D(2025, 10, 10),
        D(2025, 10, 11),
        D(2025, 10, 13),
    ]


def test_across_the_new_year(db):
    # 2026 元旦: 1月1日至3日放假，1月4日（周日）上班.
    assert deadlines(at(2025, 12, 31), 2) == [D(2026, 1, 4), D(2026, 1, 5)]


def test_is_working_day_with_the_shipped_schedule(db):
    assert is_working_day(D(2026, 2, 14)) is True  # make-up Saturday
    assert is_working_day(D(2026, 2, 16)) is False  # 除夕, a Monday
    assert is_working_day(D(2026, 2, 21)) is False  # an ordinary Saturday within the holiday
    assert is_working_day(D(2026, 3, 3)) is True  # an ordinary Tuesday
    assert is_working_day(D(2026, 3, 7)) is False  # an ordinary Saturday


# --- time of day, dates, n = 0 ----------------------------------------------------------------


def test_same_local_time_of_day(db):
    assert add_working_days(at(2026, 2, 13, 16, 45), 2) == at(2026, 2, 24, 16, 45)


def test_the_local_date_counts_not_the_utc_date(db):
    # 20:00 UTC on Friday 13 February is 04:00 on Saturday 14 February in Shanghai, a make-up
    # working day; the next working day is Tuesday 24 February, at 04:00 local time.
    start = datetime.datetime(2026, 2, 13, 20, 0, tzinfo=datetime.UTC)
    assert add_working_days(start, 1) == at(2026, 2, 24, 4, 0)
    assert is_working_day(start) is True


def test_zero_days_on_a_day_off_moves_on_to_the_next_working_day(db):
    assert add_working_days(at(2026, 10, 3, 9), 0) == at(2026, 10, 8, 9)
    assert add_working_days(at(2026, 10, 9, 9), 0) == at(2026, 10, 9, 9)


def test_dates_give_dates(db):
    assert add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)


def test_negative_counts_as_zero(db):
    assert add_working_days(at(2026, 3, 3), -4) == at(2026, 3, 3)


# --- entries of one's own, read at once -------------------------------------------------------


def test_an_added_holiday_and_make_up_day_count_at_once(empty_calendar):
    start = at(2031, 3, 6)  # a Thursday
    assert add_working_days(start, 2) == at(2031, 3, 10)
    add_entry(D(2031, 3, 7))  # Friday off
    assert add_working_days(start, 2) == at(2031, 3, 11)
    add_entry(D(2031, 3, 8), DayKind.WORKING_DAY)  # Saturday worked
    assert add_working_days(start, 2) == at(2031, 3, 10)


# --- queries ------------------------------------------------------------------------------------


def test_one_query_for_a_deadline(db, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert add_working_days(at(2026, 9, 17), 30).date() == D(2026, 11, 4)


def test_one_query_per_day_asked(db, django_assert_num_queries):
    with django_assert_num_queries(1):
        is_working_day(D(2026, 2, 14))


def test_working_calendar_loads_a_window_at_a_time(db, django_assert_num_queries):
    calendar = WorkingCalendar(D(2026, 1, 1), window_days=366)
    with django_assert_num_queries(1):
        working = [calendar.is_working_day(D(2026, 1, 1) + datetime.timedelta(days=i)) for i in range(365)]
    # 261 weekdays, 19 of them off, 6 make-up days.
    assert sum(working) == 261 - 19 + 6
    with django_assert_num_queries(1):
        assert calendar.is_working_day(D(2025, 12, 31)) is True  # before the window: one more query
