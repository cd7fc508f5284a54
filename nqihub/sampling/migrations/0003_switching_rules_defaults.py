"""Reference data of the GB/T 2828.1 area: the default switching rules (one row), marked
unverified with their source, for the system administrator to correct."""

from django.db import migrations

RULE_TEXT = """\
- 开始时一般用正常检验。
- 正常 → 加严：连续 5 批或不到 5 批中，有 2 批初次检验不被接收。
- 加严 → 正常：加严检验下连续 5 批初次检验被接收。
- 正常 → 放宽：需同时满足三条：转移得分 ≥ 30；生产处于稳定状态；负责部门认为放宽检验可取。
  转移得分的算法：从 0 开始计。一次抽样方案 Ac ≥ 2 时，若在 AQL 加严一级的条件下该批仍会被接收，则加 3 分，否则清零；
  Ac 为 0 或 1 时，批被接收加 2 分，否则清零。
- 放宽 → 正常：出现以下任一情况即转回：有一批不被接收；生产不稳定或延迟；其他情况表明应恢复正常检验。
- 暂停检验：加严检验下累计 5 批不被接收，即暂停按本标准检验，待供方采取纠正措施后，再从加严检验重新开始。"""

SOURCE = "ISO 2859-1:1999 第 9 章（对应 GB/T 2828.1-2012），凭记忆整理，未核实：未找到原文，须对照纸本标准核实"


def load(apps, schema_editor):
    SwitchingRules = apps.get_model("sampling", "SwitchingRules")
    SwitchingRules.objects.update_or_create(
        pk=1,
        defaults={
            "tighten_rejections": 2,
            "tighten_window": 5,
            "restore_accepted": 5,
            "reduce_score": 30,
            "score_step_ac2": 3,
            "score_step_ac01": 2,
            "discontinue_rejections": 5,
            "rule_text": RULE_TEXT,
            "source": SOURCE,
            "evidence": "unverified",
        },
    )


def unload(apps, schema_editor):
    apps.get_model("sampling", "SwitchingRules").objects.filter(pk=1).delete()


class Migration(migrations.Migration):
    dependencies = [("sampling", "0002_reference_data")]

    operations = [migrations.RunPython(load, unload)]
