"""``manage.py run_daily``: the embedded installation's daily jobs."""

from __future__ import annotations

import datetime
import io
import zoneinfo

import pytest
from django.core.management import CommandError, call_command

from nqihub.core.management.commands.run_daily import next_run

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime.datetime(2026, 11, 23, 5, 0, tzinfo=SHANGHAI), datetime.datetime(2026, 11, 23, 6, 15)),
        (datetime.datetime(2026, 11, 23, 6, 15, tzinfo=SHANGHAI), datetime.datetime(2026, 11, 24, 6, 15)),
        (datetime.datetime(2026, 12, 31, 23, 0, tzinfo=SHANGHAI), datetime.datetime(2027, 1, 1, 6, 15)),
        # 22:30 UTC is 06:30 the next morning in Shanghai: the next run is the morning after.
        (datetime.datetime(2026, 11, 22, 22, 30, tzinfo=datetime.UTC), datetime.datetime(2026, 11, 24, 6, 15)),
    ],
)
def test_next_run_is_the_next_local_morning(now, expected, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    wake = next_run(now, datetime.time(6, 15))
    assert wake.replace(tzinfo=None) == expected and wake.utcoffset() == datetime.timedelta(hours=8)


def test_once_runs_every_daily_command(db, settings):
    settings.NQI_DAILY_COMMANDS = [
        "send_due_reminders",
        "clean_stored_files",
        "clearsessions",
        "verify_audit_chain",
        "recover_jobs",
    ]
    out = io.StringIO()
    call_command("run_daily", "--once", stdout=out)
    text = out.getvalue()
    for name in settings.NQI_DAILY_COMMANDS:
        assert f"{name}: ok" in text
    assert "reminders" in text and "files scanned" in text  # the commands' own reports


def test_a_failing_job_does_not_stop_the_others(db, settings):
    settings.NQI_DAILY_COMMANDS = ["no_such_command", "clean_stored_files"]
    out = io.StringIO()
    with pytest.raises(CommandError, match="Some daily jobs failed"):
        call_command("run_daily", "--once", stdout=out)
    assert "no_such_command: failed" in out.getvalue() and "clean_stored_files: ok" in out.getvalue()


def test_bad_time_of_day_is_refused(db, settings):
    settings.NQI_DAILY_AT = "6 Uhr"
    with pytest.raises(CommandError, match="NQI_DAILY_AT"):
        call_command("run_daily", "--once", stdout=io.StringIO())


def test_the_daily_jobs_are_the_ones_the_apps_register(db, settings):
    """Each app registers its own daily command from its AppConfig.ready(); without
    NQI_DAILY_COMMANDS, run_daily runs exactly those, in their order."""
    from nqihub.core.registries import daily_jobs

    assert daily_jobs() == [
        "send_due_reminders", "send_case_reminders", "escalate_sampling_deadlines", "sampling_disclosure_daily",
        "clean_stored_files", "prune_rate_counters", "clearsessions", "verify_audit_chain", "audit_checkpoint", "recover_jobs",
    ]  # fmt: skip
    settings.NQI_DAILY_COMMANDS = []
    out = io.StringIO()
    call_command("run_daily", "--once", stdout=out)
    first_line = out.getvalue().splitlines()[-1]
    assert [part.split(":")[0] for part in first_line.split(", ")] == daily_jobs()
