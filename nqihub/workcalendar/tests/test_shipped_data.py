"""The schedules shipped by migration 0002, checked against what the notices say.

Each notice states the weekday of every date it names (e.g. “2月15日（农历腊月二十八、周日）”);
``NOTICE_WEEKDAYS`` copies those, and the calendar must agree. The shipped rows must also pass
the services' own rules and name their source and how far they were checked.
"""

from __future__ import annotations

import pytest

from nqihub.workcalendar.models import CalendarEntry, DayKind
from nqihub.workcalendar.services import calendar_entry_clean_data

from .conftest import D

WEEKDAY = {"周一": 0, "周二": 1, "周三": 2, "周四": 3, "周五": 4, "周六": 5, "周日": 6}

# Every date named in the two notices, with the weekday the notice gives it.
NOTICE_WEEKDAYS = [
    # 国办发明电〔2024〕12号 (2025)
    (D(2025, 1, 1), "周三"),
    (D(2025, 1, 28), "周二"), (D(2025, 2, 4), "周二"), (D(2025, 1, 26), "周日"), (D(2025, 2, 8), "周六"),
    (D(2025, 4, 4), "周五"), (D(2025, 4, 6), "周日"),
    (D(2025, 5, 1), "周四"), (D(2025, 5, 5), "周一"), (D(2025, 4, 27), "周日"),
    (D(2025, 5, 31), "周六"), (D(2025, 6, 2), "周一"),
    (D(2025, 10, 1), "周三"), (D(2025, 10, 8), "周三"), (D(2025, 9, 28), "周日"), (D(2025, 10, 11), "周六"),
    # 国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04)
    (D(2026, 1, 1), "周四"), (D(2026, 1, 3), "周六"), (D(2026, 1, 4), "周日"),
    (D(2026, 2, 15), "周日"), (D(2026, 2, 23), "周一"), (D(2026, 2, 14), "周六"), (D(2026, 2, 28), "周六"),
    (D(2026, 4, 4), "周六"), (D(2026, 4, 6), "周一"),
    (D(2026, 5, 1), "周五"), (D(2026, 5, 5), "周二"), (D(2026, 5, 9), "周六"),
    (D(2026, 6, 19), "周五"), (D(2026, 6, 21), "周日"),
    (D(2026, 9, 25), "周五"), (D(2026, 9, 27), "周日"),
    (D(2026, 10, 1), "周四"), (D(2026, 10, 7), "周三"), (D(2026, 9, 20), "周日"), (D(2026, 10, 10), "周六"),
]  # fmt: skip


@pytest.mark.parametrize("day, weekday", NOTICE_WEEKDAYS, ids=lambda v: str(v))
def test_every_date_falls_on_the_weekday_the_notice_gives(db, day, weekday):
    assert day.weekday() == WEEKDAY[weekday]
    assert CalendarEntry.objects.filter(date=day).exists()


@pytest.mark.parametrize(
    "year, days_off, weekdays_off, make_up",
    [
        # Weekdays off = the 13 statutory days (全国年节及纪念日放假办法, 2024 revision) + one per
        # make-up working day, as the 调休 rule requires.
        # 元旦 1 + 春节 8 + 清明 3 + 劳动 5 + 端午 3 + 国庆中秋 8; five make-up days.
        (2025, 28, 13 + 5, 5),
        # 元旦 3 + 春节 9 + 清明 3 + 劳动 5 + 端午 3 + 中秋 3 + 国庆 7; six make-up days.
        (2026, 33, 13 + 6, 6),
    ],
)
def test_counts_per_year(db, year, days_off, weekdays_off, make_up):
    entries = list(CalendarEntry.objects.in_year(year))
    off = [e for e in entries if e.kind == DayKind.DAY_OFF]
    assert len(off) == days_off
    assert sum(e.date.weekday() < 5 for e in off) == weekdays_off
    assert sum(e.kind == DayKind.WORKING_DAY for e in entries) == make_up


def test_nothing_shipped_outside_2025_and_2026(db):
    assert {d.year for d in CalendarEntry.objects.dates("date", "year")} == {2025, 2026}


def test_shipped_rows_pass_the_services_rules_and_name_their_source(db):
    for entry in CalendarEntry.objects.all():
        calendar_entry_clean_data({}, instance=entry)  # raises on a make-up working day on a weekday
        assert entry.source.startswith(f"国务院办公厅关于{entry.date.year}年部分节假日安排的通知")
        assert "未与中国政府网原件逐字比对" in entry.source  # says how far it was checked
    assert "国办发明电〔2024〕12号" in CalendarEntry.objects.get(date=D(2025, 1, 1)).source
