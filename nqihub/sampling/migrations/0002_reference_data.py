"""Reference data of supervision sampling: product categories met in Inner Mongolia's sampling
and the numbers of the procedure, each with its source and how far it was verified (several are
cited second-hand: they are data the system administrator corrects, never constants)."""

from django.db import migrations

CATEGORIES = [
    ("C01", "乳制品"),
    ("C02", "羊绒制品"),
    ("C03", "稀土永磁材料"),
    ("C04", "建筑材料"),
    ("C0401", "水泥"),
    ("C0402", "钢筋混凝土用热轧带肋钢筋"),
    ("C05", "电线电缆"),
    ("C06", "化肥"),
    ("C07", "食品相关产品"),
    ("C08", "日用消费品"),
    ("C09", "车用汽柴油"),
    ("C10", "电气产品"),
]
PARENTS = {"C0401": "C04", "C0402": "C04"}

ORDER_18 = "《产品质量监督抽查管理暂行办法》（市场监管总局令第18号）"
RULES = [
    (
        "objection_days",
        "对检验结论提出异议的期限（自收到检验结论之日起）",
        15,
        "days",
        f"《产品质量法》第十五条；{ORDER_18}（具体条号未核实）",
        "corroborated",
    ),
    (
        "objection_acceptance_working_days",
        "异议受理决定期限",
        3,
        "working_days",
        "地方细则示例（某市局规定），非全国统一要求，待监管部门确定",
        "unverified",
    ),
    ("correction_days", "不合格产品责令改正期限（自责令之日起）", 60, "days", f"{ORDER_18}第四十六条", "corroborated"),
    ("recheck_days", "组织复查期限（自责令之日起）", 75, "days", f"{ORDER_18}第四十七条", "corroborated"),
    (
        "second_recheck_from_days",
        "公告后再次复查：最早（公告之日起）",
        60,
        "days",
        f"{ORDER_18}第四十八条",
        "corroborated",
    ),
    (
        "second_recheck_until_days",
        "公告后再次复查：最迟（公告之日起）",
        90,
        "days",
        f"{ORDER_18}第四十八条",
        "corroborated",
    ),
    (
        "repeat_window_months",
        "同一部门不得重复抽查同一产品的期间",
        6,
        "months",
        f"{ORDER_18}（防止重复抽查）",
        "corroborated",
    ),
    (
        "min_inspectors",
        "每个检查对象随机抽取的检查人员最少人数",
        2,
        "count",
        "国办发〔2015〕58号；国发〔2019〕5号（\u201c双随机、一公开\u201d）",
        "corroborated",
    ),
    (
        "disclosure_working_days",
        "抽查结果公示期限（自抽查结束之日起）",
        20,
        "working_days",
        "国发〔2019〕5号（\u201c谁检查、谁录入、谁公开\u201d），原文未核实",
        "unverified",
    ),
    (
        "min_ratio_percent",
        "一般检查事项抽查比例下限",
        5,
        "percent",
        "地方\u201c双随机、一公开\u201d细则（如镇平县），法律法规另有规定的从其规定",
        "corroborated",
    ),
    (
        "general_ratio_cap_percent",
        "一般检查事项抽查比例上限",
        20,
        "percent",
        "国发〔2019〕5号要求一般检查事项\u201c严格限制\u201d比例，未给出数值；平台默认值，待监管部门确定",
        "unverified",
    ),
]


def load(apps, schema_editor):
    ProductCategory = apps.get_model("sampling", "ProductCategory")
    SamplingRule = apps.get_model("sampling", "SamplingRule")
    made = {}
    for code, name in CATEGORIES:
        made[code] = ProductCategory.objects.create(code=code, name=name)
    for child, parent in PARENTS.items():
        ProductCategory.objects.filter(pk=made[child].pk).update(parent=made[parent])
    SamplingRule.objects.bulk_create(
        [
            SamplingRule(code=code, label=label, value=value, unit=unit, source=source, verification=verification)
            for code, label, value, unit, source, verification in RULES
        ]
    )


def unload(apps, schema_editor):
    apps.get_model("sampling", "SamplingRule").objects.all().delete()
    apps.get_model("sampling", "ProductCategory").objects.filter(parent__isnull=False).delete()
    apps.get_model("sampling", "ProductCategory").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("sampling", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
