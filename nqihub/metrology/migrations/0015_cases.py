import django.db.models.deletion
import django_fsm
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial"),
        ("metrology", "0014_import_job_background"),
    ]

    operations = [
        migrations.AddField(
            model_name="instrumentfiling",
            name="case",
            field=models.OneToOneField(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="instrument_filing",
                to="cases.case",
            ),
        ),
        migrations.AddField(
            model_name="verificationapplication",
            name="case",
            field=models.OneToOneField(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="verification_application",
                to="cases.case",
            ),
        ),
        migrations.AlterField(
            model_name="instrumentfiling",
            name="state",
            field=models.CharField(
                choices=[
                    ("submitted", "Awaiting review"),
                    ("returned", "Returned for correction"),
                    ("approved", "Filed"),
                ],
                default="submitted",
                editable=False,
                max_length=16,
                verbose_name="state",
            ),
        ),
        migrations.AlterField(
            model_name="verificationapplication",
            name="state",
            field=django_fsm.FSMField(
                choices=[
                    ("submitted", "Awaiting acceptance"),
                    ("accepted", "Accepted"),
                    ("rejected", "Rejected"),
                    ("scheduled", "Scheduled"),
                    ("completed", "Completed"),
                    ("withdrawn", "Withdrawn"),
                ],
                default="submitted",
                max_length=16,
                verbose_name="state",
            ),
        ),
    ]
