import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial"),
        ("organizations", "0002_verbose_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="enterpriseregistration",
            name="case",
            field=models.OneToOneField(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="registration",
                to="cases.case",
            ),
        ),
        migrations.AlterField(
            model_name="enterpriseregistration",
            name="state",
            field=models.CharField(
                choices=[
                    ("submitted", "Awaiting review"),
                    ("returned", "Returned for correction"),
                    ("approved", "Approved"),
                    ("withdrawn", "Withdrawn"),
                ],
                default="submitted",
                editable=False,
                max_length=16,
                verbose_name="state",
            ),
        ),
    ]
