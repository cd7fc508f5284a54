"""Helpers of the working-day calendar's tests. The shipped 2025 and 2026 schedules are loaded
by migration ``workcalendar/0002``; tests that need a calendar of their own start with
``empty_calendar``."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from nqihub.workcalendar.models import CalendarEntry, DayKind

D = datetime.date


def at(year, month, day, hour=10, minute=0) -> datetime.datetime:
    """An aware datetime at the platform's local time (Asia/Shanghai)."""
    return timezone.make_aware(datetime.datetime(year, month, day, hour, minute))


def add_entry(day: datetime.date, kind: str = DayKind.DAY_OFF, name: str = "测试假日") -> CalendarEntry:
    return CalendarEntry.objects.create(date=day, kind=kind, name=name, source="test")


@pytest.fixture
def empty_calendar(db):
    CalendarEntry.objects.all().delete()
