"""Division tree in the database: the data migration, the loaders and the command."""

from __future__ import annotations

import importlib
import time
from io import StringIO
from types import SimpleNamespace

import pytest
from django.apps import apps as global_apps
from django.core.management import CommandError, call_command
from django.db import connection

from nqihub.divisions.loaders import (
    INNER_MONGOLIA_CSV,
    load_division_rows,
    read_csv,
    rebuild_paths,
    rows_from_stdnum,
)
from nqihub.divisions.models import AdminDivision

pytestmark = pytest.mark.django_db

BAOTOU_COUNTIES = {
    "150202",
    "150203",
    "150204",
    "150205",
    "150206",
    "150207",
    "150221",
    "150222",
    "150223",
}


def snapshot(prefix: str = "15") -> dict[str, tuple]:
    return {
        code: rest
        for code, *rest in AdminDivision.objects.filter(code__startswith=prefix).values_list(
            "code", "name", "level", "parent_id", "path", "is_current", "valid_until"
        )
    }


# --- what the data migration installed ---------------------------------------------------------


def test_migration_loaded_inner_mongolia():
    im = AdminDivision.objects.within(AdminDivision.objects.get(code="150000"))
    assert im.count() == len(read_csv(INNER_MONGOLIA_CSV)) == 196
    assert im.current().filter(level="prefecture", parent_id="150000").count() == 12
    assert im.current().counties().count() == 103
    assert not AdminDivision.objects.filter(code="150101").exists()  # 市辖区 summary code


def test_historic_league():
    league = AdminDivision.objects.get(code="152100")
    assert (league.name, league.is_current, league.valid_until) == (
        "呼伦贝尔盟",
        False,
        2001,
    )
    assert league.parent_id == "150000"
    assert set(league.children.values_list("code", flat=True)) >= {
        "152101",
        "152102",
        "152131",
    }


def test_paths():
    paths = dict(AdminDivision.objects.values_list("code", "path"))
    assert paths["150000"] == "150000/"
    assert paths["150200"] == "150000/150200/"
    assert paths["150203"] == "150000/150200/150203/"
    assert paths["152101"] == "150000/152100/152101/"
    # Same result as the model's own save() logic, for every row.
    for division in AdminDivision.objects.select_related("parent"):
        assert division.compute_path() == division.path, division.code


def test_within_baotou():
    baotou = AdminDivision.objects.get(code="150200")
    assert set(AdminDivision.objects.within(baotou).current().values_list("code", flat=True)) == {
        "150200",
        *BAOTOU_COUNTIES,
    }
    # Plus historic codes under it: only 150220 市区 (until 1983).
    assert set(AdminDivision.objects.within(baotou).values_list("code", flat=True)) == {
        "150200",
        "150220",
        *BAOTOU_COUNTIES,
    }
    assert "150200" not in set(AdminDivision.objects.within(baotou, include_self=False).values_list("code", flat=True))
    assert baotou.contains(AdminDivision.objects.get(code="150203"))
    assert not baotou.contains(AdminDivision.objects.get(code="150102"))


def test_saving_a_division_computes_its_path():
    baotou = AdminDivision.objects.get(code="150200")
    division = AdminDivision.objects.create(code="150299", name="测试区", level="county", parent=baotou)
    assert division.path == "150000/150200/150299/"


def test_migration_reverse_and_forward():
    migration = importlib.import_module("nqihub.divisions.migrations.0002_load_inner_mongolia")
    editor = SimpleNamespace(connection=connection)
    before = snapshot()
    migration.unload(global_apps, editor)
    assert not AdminDivision.objects.filter(code__startswith="15").exists()
    migration.load(global_apps, editor)
    assert snapshot() == before


# --- loaders -----------------------------------------------------------------------------------


def test_loading_the_csv_again_changes_nothing():
    assert load_division_rows(read_csv(INNER_MONGOLIA_CSV), source="test") == (0, 0)


def test_whole_country_twice_is_idempotent():
    csv_rows = {row["code"]: row for row in read_csv(INNER_MONGOLIA_CSV)}
    before = snapshot()
    rows = rows_from_stdnum()

    started = time.perf_counter()
    created, updated = load_division_rows(rows, source="test")
    elapsed = time.perf_counter() - started

    assert created == len(rows) - len(csv_rows)
    # Only the source text of the current Inner Mongolia rows differs from the CSV.
    assert updated == sum(1 for row in csv_rows.values() if row["is_current"])
    assert AdminDivision.objects.count() == len(rows)
    assert snapshot() == before  # same Inner Mongolia codes, names, parents and paths
    assert elapsed < 10, f"whole-country load took {elapsed:.1f}s"

    assert load_division_rows(rows_from_stdnum(), source="test") == (0, 0)
    assert AdminDivision.objects.count() == len(rows)

    # Other provinces are usable too, including 省直辖县级市 directly under a province.
    hubei = AdminDivision.objects.get(code="420000")
    xiantao = AdminDivision.objects.get(code="429004")
    assert xiantao.parent_id == "420000" and xiantao.path == "420000/429004/"
    assert hubei.contains(xiantao)
    for division in AdminDivision.objects.select_related("parent"):
        assert division.compute_path() == division.path, division.code


def test_updates_are_counted_and_applied():
    rows = [row for row in read_csv(INNER_MONGOLIA_CSV) if row["code"] == "150203"]
    rows[0]["name"] = "昆都仑区（改）"
    assert load_division_rows(rows, source="test") == (0, 1)
    assert AdminDivision.objects.get(code="150203").name == "昆都仑区（改）"


def test_empty_source_falls_back_to_argument():
    row = {
        "code": "150298",
        "name": "测试区",
        "level": "county",
        "parent_code": "150200",
        "is_current": True,
        "valid_until": None,
        "source": "",
    }
    assert load_division_rows([row], source="manual test") == (1, 0)
    assert AdminDivision.objects.get(code="150298").source == "manual test"


def test_reparenting_rebuilds_descendant_paths():
    # Move 包头市 under a (fictitious) new parent: its counties, not in the rows, follow.
    rows = [
        {"code": "990000", "name": "测试省", "level": "province", "parent_code": None,
         "is_current": True, "valid_until": None, "source": "t"},
        {"code": "150200", "name": "包头市", "level": "prefecture", "parent_code": "990000",
         "is_current": True, "valid_until": None, "source": "t"},
    ]  # fmt: skip
    assert load_division_rows(rows, source="t") == (1, 1)
    assert AdminDivision.objects.get(code="150203").path == "990000/150200/150203/"
    assert rebuild_paths() == 0


def test_missing_parent_and_duplicates_are_refused():
    row = {
        "code": "990101",
        "name": "孤儿县",
        "level": "county",
        "parent_code": "990100",
        "is_current": True,
        "valid_until": None,
        "source": "t",
    }
    with pytest.raises(ValueError, match="parent 990100"):
        load_division_rows([row], source="t")
    ok = dict(row, code="150297", parent_code="150200")
    with pytest.raises(ValueError, match="duplicate"):
        load_division_rows([ok, dict(ok)], source="t")
    assert not AdminDivision.objects.filter(code__in=["990101", "150297"]).exists()


# --- command -----------------------------------------------------------------------------------


def run(*args: str) -> str:
    out = StringIO()
    call_command("load_divisions", *args, stdout=out)
    return out.getvalue()


def test_command_default_csv():
    assert "created 0, updated 0" in run()


def test_command_stdnum_province_then_csv():
    output = run("--stdnum", "--province", "15")
    assert "196 rows, created 0, updated 116" in output
    assert AdminDivision.objects.get(code="150203").source.startswith("python-stdnum")
    assert "created 0, updated 116" in run("--csv", str(INNER_MONGOLIA_CSV))
    assert AdminDivision.objects.get(code="150203").source.startswith("GB/T 2260")


def test_command_whole_country():
    output = run("--stdnum")
    assert "whole country" in output
    assert AdminDivision.objects.filter(level="province").count() == 34
    assert "created 0, updated 0" in run("--stdnum")


def test_command_errors(tmp_path):
    with pytest.raises(CommandError):
        run("--province", "15")
    with pytest.raises(CommandError):
        run("--stdnum", "--province", "150")
    with pytest.raises(CommandError):
        run("--csv", str(tmp_path / "missing.csv"))
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name\n150203,昆都仑区\n", encoding="utf-8")
    with pytest.raises(CommandError, match="missing column"):
        run("--csv", str(bad))
