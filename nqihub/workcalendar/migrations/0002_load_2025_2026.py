"""Load the public holidays and make-up working days of 2025 and 2026, as the State Council's
General Office published them.

What ships, and how far it was checked:

* 2025 — 国务院办公厅关于2025年部分节假日安排的通知 (国办发明电〔2024〕12号, 12 November 2024),
  the first schedule under the revised 全国年节及纪念日放假办法 (国务院令第795号).
* 2026 — 国务院办公厅关于2026年部分节假日安排的通知 (4 November 2025). Its document number was
  not seen, so none is given.

Both were transcribed from the full text of the notice as released by Xinhua (新华社受权发布) and
reprinted by 光明网 and other outlets, not from the original on www.gov.cn. Every date written in
``NOTICES`` below is followed in a comment by the weekday the notice gives for it, and the tests
(``workcalendar/tests/test_shipped_data.py``) check each of those against the calendar. Each
row's ``source`` says the same, so staff see it on the page.

Each period is the notice's own sentence: days off from the first to the last date, then the
make-up working days. Days off that fall on a weekend are loaded too, so the page reads like the
notice; they do not change any count.

Self-contained on purpose (no app code). Dates already present (entered by hand before
migrating) are kept as they are. Reversing deletes the shipped dates whose row still carries the
shipped source; rows staff changed are left alone. A later year ships as a new data migration.
"""

import datetime

from django.db import migrations

CHECKED = "按新华社受权发布的通知全文录入，通知所注星期已逐日核对；未与中国政府网原件逐字比对。"
SOURCE_2025 = "国务院办公厅关于2025年部分节假日安排的通知（国办发明电〔2024〕12号，2024年11月12日）。" + CHECKED
SOURCE_2026 = "国务院办公厅关于2026年部分节假日安排的通知（2025年11月4日；文号未核实）。" + CHECKED

D = datetime.date

# (name, first day off, last day off, make-up working days, source)
NOTICES = [
    # 2025
    ("元旦", D(2025, 1, 1), D(2025, 1, 1), [], SOURCE_2025),  # 1月1日（周三）放假1天，不调休
    # 1月28日（周二）至2月4日（周二）；1月26日（周日）、2月8日（周六）上班
    ("春节", D(2025, 1, 28), D(2025, 2, 4), [D(2025, 1, 26), D(2025, 2, 8)], SOURCE_2025),
    ("清明节", D(2025, 4, 4), D(2025, 4, 6), [], SOURCE_2025),  # 4月4日（周五）至6日（周日）
    # 5月1日（周四）至5日（周一）；4月27日（周日）上班
    ("劳动节", D(2025, 5, 1), D(2025, 5, 5), [D(2025, 4, 27)], SOURCE_2025),
    ("端午节", D(2025, 5, 31), D(2025, 6, 2), [], SOURCE_2025),  # 5月31日（周六）至6月2日（周一）
    # 10月1日（周三）至8日（周三）；9月28日（周日）、10月11日（周六）上班
    ("国庆节、中秋节", D(2025, 10, 1), D(2025, 10, 8), [D(2025, 9, 28), D(2025, 10, 11)], SOURCE_2025),
    # 2026
    # 1月1日（周四）至3日（周六）；1月4日（周日）上班
    ("元旦", D(2026, 1, 1), D(2026, 1, 3), [D(2026, 1, 4)], SOURCE_2026),
    # 2月15日（周日）至23日（周一）；2月14日（周六）、2月28日（周六）上班
    ("春节", D(2026, 2, 15), D(2026, 2, 23), [D(2026, 2, 14), D(2026, 2, 28)], SOURCE_2026),
    ("清明节", D(2026, 4, 4), D(2026, 4, 6), [], SOURCE_2026),  # 4月4日（周六）至6日（周一）
    # 5月1日（周五）至5日（周二）；5月9日（周六）上班
    ("劳动节", D(2026, 5, 1), D(2026, 5, 5), [D(2026, 5, 9)], SOURCE_2026),
    ("端午节", D(2026, 6, 19), D(2026, 6, 21), [], SOURCE_2026),  # 6月19日（周五）至21日（周日）
    ("中秋节", D(2026, 9, 25), D(2026, 9, 27), [], SOURCE_2026),  # 9月25日（周五）至27日（周日）
    # 10月1日（周四）至7日（周三）；9月20日（周日）、10月10日（周六）上班
    ("国庆节", D(2026, 10, 1), D(2026, 10, 7), [D(2026, 9, 20), D(2026, 10, 10)], SOURCE_2026),
]


def rows():
    """(date, kind, name, source) for every shipped date."""
    for name, first, last, make_up, source in NOTICES:
        day = first
        while day <= last:
            yield day, "day_off", name, source
            day += datetime.timedelta(days=1)
        for day in make_up:
            yield day, "working_day", name, source


def load(apps, schema_editor):
    CalendarEntry = apps.get_model("workcalendar", "CalendarEntry")
    manager = CalendarEntry.objects.using(schema_editor.connection.alias)
    present = set(manager.values_list("date", flat=True))
    manager.bulk_create(
        CalendarEntry(date=day, kind=kind, name=name, source=source)
        for day, kind, name, source in rows()
        if day not in present
    )


def unload(apps, schema_editor):
    CalendarEntry = apps.get_model("workcalendar", "CalendarEntry")
    manager = CalendarEntry.objects.using(schema_editor.connection.alias)
    for day, _kind, _name, source in rows():
        manager.filter(date=day, source=source).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("workcalendar", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(load, unload),
    ]
