"""The weights of the inspection-object pool's risk score (``services.pools.risk_score``), as
rules of the procedure the system administrator changes. No law fixes them: they are the
platform's defaults for weighting draws by risk, marked unverified."""

from django.db import migrations

SOURCE = "平台风险分级默认权重（国发〔2019〕5号要求按风险确定抽查比例和频次，未给出数值），待监管部门确定"
RULES = [
    ("risk_complaint_weight_percent", "风险分值：每次投诉的权重（以 1 分的百分比计）", 50, "percent"),
    ("risk_complaint_cap", "风险分值：计入的投诉次数上限", 6, "count"),
    ("risk_failure_weight_percent", "风险分值：每次既往不合格的权重（以 1 分的百分比计）", 100, "percent"),
    ("risk_abnormal_weight_percent", "风险分值：列入经营异常名录的权重（以 1 分的百分比计）", 200, "percent"),
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
    dependencies = [("sampling", "0003_switching_rules_defaults")]

    operations = [migrations.RunPython(load, unload)]
