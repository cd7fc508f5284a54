"""The pools' services: the object pool with its risk score, the inspector pool with declared
conflicts, and their imports (xlsx and GB18030 CSV, broken rows, all or nothing)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook

from nqihub.audit.models import AuditEvent
from nqihub.core.errors import Forbidden, InvalidInput, NotFound
from nqihub.organizations.models import AuthorisationScope
from nqihub.sampling.models import Inspector, InspectorConflict, PoolObject, SamplingRule
from nqihub.sampling.services import pools
from nqihub.sampling.services.pools import (
    capability_import,
    conflict_add,
    conflict_remove,
    inspector_create,
    inspector_import,
    inspector_update,
    pool_import,
    pool_object_create,
    pool_object_deactivate,
    pool_object_update,
    qualified_institutions,
    risk_score,
)

pytestmark = pytest.mark.django_db

POOL_HEADERS = [
    "统一社会信用代码",
    "企业名称",
    "产品类别",
    "产品名称",
    "商标",
    "规格型号",
    "执行标准",
    "经营角色",
    "标称生产者",
    "投诉次数",
    "列入经营异常名录",
]


def xlsx(headers, rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(headers, rows, encoding="gb18030") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def refusal(action):
    return AuditEvent.objects.filter(action=action).exclude(outcome="success").latest("seq")


# --- risk score ------------------------------------------------------------------------------


def test_risk_score_follows_the_documented_weights(sampling):
    obj = PoolObject(complaints=0, earlier_failures=0, abnormal_listed=False)
    assert risk_score(obj) == Decimal("1.00")
    obj.complaints = 3
    assert risk_score(obj) == Decimal("2.50")
    obj.complaints = 40  # capped at 6
    obj.earlier_failures = 2
    obj.abnormal_listed = True
    assert risk_score(obj) == Decimal("1") + Decimal("3") + Decimal("2") + Decimal("2")


def test_risk_weights_are_data(sampling):
    SamplingRule.objects.filter(code="risk_abnormal_weight_percent").update(value=500)
    assert risk_score(PoolObject(abnormal_listed=True)) == Decimal("6.00")


# --- the object pool -------------------------------------------------------------------------


def test_create_by_credit_code_computes_the_risk(world, sampling):
    obj = pool_object_create(
        actor=world.users["baotou"],
        data={
            "credit_code": world.ent_kundulun.credit_code,
            "category": "C02",
            "product_name": "羊绒衫",
            "brand": "鹿王",
            "complaints": 2,
            "abnormal_listed": "是",
        },
    )
    assert obj.division_id == "150203" and obj.risk_score == Decimal("4.00")
    assert AuditEvent.objects.filter(action="sampling.pool.create", outcome="success").count() == 1


def test_create_outside_the_jurisdiction_is_refused_and_recorded(world, sampling):
    with pytest.raises(InvalidInput) as caught:
        pool_object_create(
            actor=world.users["kundulun"],
            data={"credit_code": world.ent_qingshan.credit_code, "category": "C01", "product_name": "酸乳"},
        )
    assert caught.value.code == "out_of_jurisdiction"
    assert refusal("sampling.pool.create").outcome == "failure"


def test_create_with_a_wrong_check_character_is_refused(world, sampling):
    code = world.ent_kundulun.credit_code
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    with pytest.raises(InvalidInput) as caught:
        pool_object_create(
            actor=world.users["baotou"], data={"credit_code": wrong, "category": "C01", "product_name": "酸乳"}
        )
    assert "校验" in str(caught.value.message) or "check character" in str(caught.value.message)
    assert not PoolObject.objects.filter(product_name="酸乳", organization=world.ent_kundulun).exists()


@pytest.mark.parametrize("who", ["ent_manager", "inst", "kundulun_viewer", "sysadmin"])
def test_only_working_regulators_add(world, sampling, who):
    with pytest.raises(Forbidden):
        pool_object_create(
            actor=world.users[who],
            data={"credit_code": world.ent_kundulun.credit_code, "category": "C01", "product_name": "酸乳"},
        )
    assert refusal("sampling.pool.create").outcome == "denied"


def test_update_recomputes_and_another_county_is_not_found(world, sampling):
    obj = sampling.objects["kundulun"]
    updated = pool_object_update(actor=world.users["kundulun"], obj=obj, data={"earlier_failures": 1})
    assert updated.risk_score == Decimal("2.00")
    with pytest.raises(NotFound):
        pool_object_update(actor=world.users["qingshan"], obj=obj, data={"complaints": 9})
    assert refusal("sampling.pool.update").outcome == "denied"
    obj.refresh_from_db()
    assert obj.complaints == 0


def test_deactivate_and_the_enterprise_only_reads(world, sampling):
    obj = sampling.objects["kundulun"]
    with pytest.raises(Forbidden):
        pool_object_deactivate(actor=world.users["ent_manager"], obj=obj)
    pool_object_deactivate(actor=world.users["baotou"], obj=obj)
    obj.refresh_from_db()
    assert not obj.is_active
    assert set(PoolObject.objects.for_user(world.users["ent_manager"])) == {obj}


def test_scoping_of_the_pool(world, sampling):
    seen = lambda who: set(PoolObject.objects.for_user(world.users[who]).values_list("division_id", flat=True))  # noqa: E731
    assert seen("kundulun") == {"150203"}
    assert seen("baotou") == {"150202", "150203", "150204", "150205"}
    assert "150102" in seen("region")
    assert seen("inst") == set() and seen("ent_other") == {"150102"}
    assert PoolObject.objects.for_user(None).count() == 0


# --- the object pool's import ----------------------------------------------------------------


def _row(org, product="羊绒衫", **extra):
    row = {
        "统一社会信用代码": org.credit_code,
        "企业名称": org.name,
        "产品类别": "羊绒制品",
        "产品名称": product,
        "商标": "鹿王",
        "规格型号": "M",
        "执行标准": "GB/T 29862",
        "经营角色": "生产者",
        "标称生产者": "",
        "投诉次数": 1,
        "列入经营异常名录": "否",
    }
    row.update(extra)
    return [row[h] for h in POOL_HEADERS]


def test_xlsx_import_creates_and_then_updates(world, sampling):
    data = xlsx(POOL_HEADERS, [_row(world.ent_kundulun), _row(world.ent_qingshan, "羊绒围巾", 列入经营异常名录="是")])
    result = pool_import(actor=world.users["baotou"], data=data, filename="pool.xlsx")
    assert (result.created, result.updated) == (2, 0)
    scarf = PoolObject.objects.get(product_name="羊绒围巾")
    assert scarf.abnormal_listed and scarf.risk_score == Decimal("3.50") and scarf.division_id == "150204"
    again = xlsx(POOL_HEADERS, [_row(world.ent_kundulun, 投诉次数=4)])
    result = pool_import(actor=world.users["baotou"], data=again, filename="pool.xlsx")
    assert (result.created, result.updated) == (0, 1)
    assert PoolObject.objects.get(product_name="羊绒衫").risk_score == Decimal("3.00")
    assert AuditEvent.objects.filter(action="sampling.pool.import", outcome="success").count() == 2


def test_gb18030_csv_import(world, sampling):
    data = csv_bytes(
        POOL_HEADERS, [_row(world.ent_kundulun, "羊绒衫（女款）", 经营角色="销售者", 标称生产者="鄂尔多斯某厂")]
    )
    result = pool_import(actor=world.users["kundulun"], data=data, filename="名录.csv")
    assert result.created == 1
    obj = PoolObject.objects.get(product_name="羊绒衫（女款）")
    assert obj.role == "seller" and obj.producer_name == "鄂尔多斯某厂"


def test_broken_rows_are_reported_and_nothing_is_imported(world, sampling):
    code = world.ent_kundulun.credit_code
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    rows = [
        _row(world.ent_kundulun),
        _row(world.ent_kundulun, "羊绒衫2", 统一社会信用代码=wrong),
        _row(world.ent_xincheng, "羊绒衫3"),  # 呼和浩特: outside 包头市
        _row(world.ent_kundulun, "羊绒衫4", 产品类别="不存在"),
        _row(world.ent_kundulun, "羊绒衫5", 投诉次数="很多", 列入经营异常名录="也许"),
        _row(world.ent_kundulun),  # the same product as row 2
    ]
    with pytest.raises(InvalidInput) as caught:
        pool_import(actor=world.users["baotou"], data=xlsx(POOL_HEADERS, rows), filename="pool.xlsx")
    assert caught.value.code == "import_rows"
    lines = caught.value.errors["file"]
    text = "\n".join(lines)
    for row in (3, 4, 5, 6, 7):
        assert f"第 {row} 行" in text or f"Row {row}" in text, text
    assert not PoolObject.objects.filter(product_name__startswith="羊绒衫").exists()
    assert refusal("sampling.pool.import").outcome == "failure"


def test_unknown_enterprise_is_a_row_error(world, sampling):
    from nqihub.organizations.credit_code import make_credit_code, make_organisation_code

    stranger = make_credit_code(division="150203", body=make_organisation_code("77777777"))
    data = xlsx(POOL_HEADERS, [_row(world.ent_kundulun, 统一社会信用代码=stranger)])
    with pytest.raises(InvalidInput) as caught:
        pool_import(actor=world.users["baotou"], data=data, filename="pool.xlsx")
    assert "第 2 行" in caught.value.errors["file"][0] or "Row 2" in caught.value.errors["file"][0]


def test_a_file_without_the_columns_is_refused(world, sampling):
    with pytest.raises(InvalidInput) as caught:
        pool_import(actor=world.users["baotou"], data=xlsx(["甲", "乙"], [[1, 2]]), filename="x.xlsx")
    assert caught.value.code == "import_file"


def test_an_enterprise_may_not_import(world, sampling):
    data = xlsx(POOL_HEADERS, [_row(world.ent_kundulun)])
    with pytest.raises(Forbidden):
        pool_import(actor=world.users["ent_manager"], data=data, filename="pool.xlsx")
    assert refusal("sampling.pool.import").outcome == "denied"


# --- inspectors ------------------------------------------------------------------------------


def test_inspector_create_and_unique_number(world, sampling):
    person = inspector_create(
        actor=world.users["baotou"],
        data={
            "name": "吴执法",
            "enforcement_number": "15020300009",
            "office": world.kundulun_reg.pk,
            "fields": ["C01", "C02"],
        },
    )
    assert person.division_id == "150203" and person.fields.count() == 2
    with pytest.raises(Exception) as caught:
        inspector_create(
            actor=world.users["baotou"],
            data={"name": "另一人", "enforcement_number": "15020300009", "office": world.baotou_reg.pk},
        )
    assert caught.value.code == "duplicate"


def test_inspector_office_must_be_a_regulator_in_the_jurisdiction(world, sampling):
    for office in (world.xincheng_reg.pk, world.ent_kundulun.pk, world.baotou_reg.pk):
        with pytest.raises(InvalidInput) as caught:
            inspector_create(
                actor=world.users["kundulun"], data={"name": "甲", "enforcement_number": "X1", "office": office}
            )
        assert caught.value.code == "office_not_regulator"


def test_inspector_update_across_the_line(world, sampling):
    person = sampling.inspectors["kd1"]
    inspector_update(actor=world.users["kundulun"], inspector=person, data={"is_available": False})
    person.refresh_from_db()
    assert not person.is_available
    with pytest.raises(NotFound):
        inspector_update(actor=world.users["qingshan"], inspector=person, data={"name": "改"})
    with pytest.raises(NotFound):
        inspector_update(actor=world.users["ent_manager"], inspector=person, data={"name": "改"})
    with pytest.raises(Forbidden):
        inspector_update(actor=world.users["kundulun_viewer"], inspector=person, data={"name": "改"})


def test_conflicts_add_and_remove(world, sampling):
    person = sampling.inspectors["kd1"]
    with pytest.raises(InvalidInput):
        conflict_add(actor=world.users["kundulun"], inspector=person, data={"organization": world.ent_kundulun.pk})
    conflict = conflict_add(
        actor=world.users["kundulun"],
        inspector=person,
        data={"credit_code": world.ent_xincheng.credit_code, "reason": "配偶在该企业任职"},
    )
    assert conflict.organization == world.ent_xincheng
    with pytest.raises(NotFound):
        conflict_remove(actor=world.users["qingshan"], conflict=conflict)
    conflict_remove(actor=world.users["baotou"], conflict=conflict)
    assert not InspectorConflict.objects.exists()


INSPECTOR_HEADERS = ["姓名", "执法证号", "所属单位", "执法领域", "证件有效期"]


def test_inspector_import(world, sampling):
    rows = [
        ["吴执法", "15020300010", "包头市昆都仑区市场监督管理局", "乳制品、C02", "2028-12-31"],
        ["王执法", "15020300001", world.kundulun_reg.name, "羊绒制品", ""],  # known: updated
    ]
    result = inspector_import(actor=world.users["baotou"], data=xlsx(INSPECTOR_HEADERS, rows), filename="i.xlsx")
    assert (result.created, result.updated) == (1, 1)
    new = Inspector.objects.get(enforcement_number="15020300010")
    assert sorted(new.fields.values_list("code", flat=True)) == ["C01", "C02"]
    assert list(sampling.inspectors["kd1"].fields.values_list("code", flat=True)) == ["C02"]


def test_inspector_import_broken_rows(world, sampling):
    rows = [
        ["吴执法", "15020300011", "呼和浩特市新城区市场监督管理局", "乳制品", ""],  # office outside
        ["", "15020300012", world.baotou_reg.name, "无此类", "明天"],
        ["赵执法", "15020400001", world.kundulun_reg.name, "", ""],  # 青山区's inspector, known to kundulun? no
    ]
    with pytest.raises(InvalidInput) as caught:
        inspector_import(actor=world.users["kundulun"], data=csv_bytes(INSPECTOR_HEADERS, rows), filename="i.csv")
    text = "\n".join(caught.value.errors["file"])
    assert all(f"第 {n} 行" in text or f"Row {n}" in text for n in (2, 3, 4)), text
    assert not Inspector.objects.filter(enforcement_number__in=["15020300011", "15020300012"]).exists()


# --- capability lines ------------------------------------------------------------------------


def test_capability_import_by_the_region_only(world, sampling):
    rows = [[world.institution.name, "C02", "CMA 证书 150012345678", "2029-06-30"]]
    data = xlsx(["机构", "产品类别", "依据/证书号", "有效期"], rows)
    with pytest.raises(Forbidden):
        capability_import(actor=world.users["baotou"], data=data, filename="c.xlsx")
    result = capability_import(actor=world.users["region"], data=data, filename="c.xlsx")
    assert result.created == 1
    assert world.institution in qualified_institutions(sampling.cashmere)
    result = capability_import(actor=world.users["sysadmin"], data=data, filename="c.xlsx")
    assert result.updated == 1
    assert AuthorisationScope.objects.filter(subject_code="C02").count() == 1


def test_pool_risk_refresh_writes_changed_scores(world, sampling):
    PoolObject.objects.update(earlier_failures=3)
    objs = list(PoolObject.objects.all())
    assert pools.pool_risk_refresh(objs) == len(objs)
    assert set(PoolObject.objects.values_list("risk_score", flat=True)) == {
        Decimal("4.00"),
        Decimal("5.50"),
    }  # 青山 has 3 complaints
