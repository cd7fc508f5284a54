import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("metrology", "0016_cases_data")]

    operations = [
        migrations.AlterField(
            model_name="instrumentfiling",
            name="case",
            field=models.OneToOneField(
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="instrument_filing",
                to="cases.case",
            ),
        ),
        migrations.AlterField(
            model_name="verificationapplication",
            name="case",
            field=models.OneToOneField(
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="verification_application",
                to="cases.case",
            ),
        ),
        # Its rows are now the applications' case timelines (0014).
        migrations.DeleteModel(name="ApplicationEvent"),
    ]
