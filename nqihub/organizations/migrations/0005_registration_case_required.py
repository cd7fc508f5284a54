import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("organizations", "0004_registration_cases_data")]

    operations = [
        migrations.AlterField(
            model_name="enterpriseregistration",
            name="case",
            field=models.OneToOneField(
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="registration",
                to="cases.case",
            ),
        ),
    ]
