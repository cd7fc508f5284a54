"""Reference data of the disclosure and analysis area: the weights of the risk score that
weights the next draw. The platform's own convention (no regulation gives numbers), so they are
rules the system administrator adjusts, marked unverified."""

from django.db import migrations

SOURCE = "平台约定的风险加权（法规未规定数值），由监管部门根据实际调整"
RULES = [
    (
        "risk_weight_failure",
        "风险分：每次不合格（抽查最终结论或导入的既往不合格）增加的分值（百分之一分）",
        100,
        "percent",
    ),
    ("risk_weight_complaint", "风险分：每件投诉举报增加的分值（百分之一分）", 20, "percent"),
    ("risk_complaints_cap", "风险分：计入的投诉举报件数上限", 10, "count"),
    ("risk_weight_abnormal", "风险分：列入经营异常名录增加的分值（百分之一分）", 100, "percent"),
]


def load(apps, schema_editor):
    SamplingRule = apps.get_model("sampling", "SamplingRule")
    SamplingRule.objects.bulk_create(
        [
            SamplingRule(code=code, label=label, value=value, unit=unit, source=SOURCE, verification="unverified")
            for code, label, value, unit in RULES
        ]
    )


def unload(apps, schema_editor):
    apps.get_model("sampling", "SamplingRule").objects.filter(code__in=[r[0] for r in RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("sampling", "0002_reference_data")]

    operations = [migrations.RunPython(load, unload)]
