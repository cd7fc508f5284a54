"""``rules.clean_instrument_columns`` cleans a batch of records a column at a time (the import's
path) with the rules of ``clean_instrument_input`` (the form's and the API's path, a batch of
one): every row of a mixed batch gets exactly what it gets cleaned alone — the same values,
the same messages in the same order — whatever its neighbours hold."""

from __future__ import annotations

import pytest

from nqihub.metrology import rules
from nqihub.metrology.models import CatalogueItem, UseField

pytestmark = pytest.mark.django_db

ROWS = [
    # catalogue, name, model, range, class, factory number, manufacturer, location, use, status
    ("", "压力表", "Y-100", "(0~1.6)MPa", "1.6级", "P-1", "红旗仪表", "锅炉房", "安全防护", "在用"),
    ("  5.1 ", " 电子秤 ", 12345.0, None, 3, "S-1", "", "", "trade", ""),  # numbers, spaces, None
    ("不存在的器具", "", "", "", "", "", "", "", "", "坏了"),  # everything wrong at once
    ("", "x" * 101, "", "", "", "y" * 65, "", "", "贸易结算", ""),  # too long
    ("", "秤", "", "", "", "S-2", "", "", "飞行", "停用"),  # unknown use field
    (None, None, None, None, None, None, None, None, None, None),  # an empty row
    ("", "秤", "", "", "", "S-3", "", "", "Other", "SCRAPPED"),  # English, any case
]


@pytest.fixture
def lookup(db):
    return rules.catalogue_lookup(CatalogueItem.objects.active())


def _alone(row, lookup, **options):
    return rules.clean_instrument_input(dict(zip(rules.FIELDS, row, strict=True)), catalogue=lookup, **options)


@pytest.mark.parametrize("default_status", ["in_use", None])
def test_a_batch_gives_every_row_what_it_gets_alone(lookup, default_status):
    rows = [*ROWS, ROWS[0], ROWS[3], ROWS[1]]  # repeated values are looked up once, answered alike
    columns = {name: [row[at] for row in rows] for at, name in enumerate(rules.FIELDS)}
    batch = rules.clean_instrument_columns(columns, len(rows), catalogue=lookup, default_status=default_status)
    assert [at for at, _f, _m in batch.errors] == sorted(at for at, _f, _m in batch.errors)  # row after row
    for at, row in enumerate(rows):
        alone = _alone(row, lookup, default_status=default_status)
        assert [(name, message) for i, name, message in batch.errors if i == at] == alone.errors, row
        if alone.ok:
            for name, value in alone.data.items():
                assert batch.values[name][at] == value, (row, name)
    # What the rows mean, so that "the same as alone" is not "equally wrong".
    first = _alone(ROWS[0], lookup)
    assert first.ok and first.data["use_field"] == UseField.SAFETY and first.data["status"] == "in_use"
    second = _alone(ROWS[1], lookup)
    assert second.ok, second.errors
    assert (second.data["catalogue_item"].code, second.data["model_spec"], second.data["accuracy_class"]) == (
        "5.1",
        "12345",
        "3",
    )
    assert second.data["is_mandatory"] is True  # 数字指示秤 in trade settlement
    assert [name for name, _m in _alone(ROWS[2], lookup).errors] == [
        "name",
        "factory_number",
        "use_field",
        "catalogue_item",
        "status",
    ]
    assert [name for name, _m in _alone(ROWS[3], lookup).errors] == ["name", "factory_number"]


def test_a_column_left_out_is_empty_in_every_row(lookup):
    columns = {"name": ["秤", "秤"], "factory_number": ["A", "B"], "use_field": ["其他", "其他"]}
    batch = rules.clean_instrument_columns(columns, 2, catalogue=lookup)
    assert batch.errors == []
    assert batch.values["catalogue_item"] == [None, None]
    assert batch.values["manufacturer"] == ["", ""]
    assert batch.values["status"] == ["in_use", "in_use"]
    assert batch.values["is_mandatory"] == [False, False]
