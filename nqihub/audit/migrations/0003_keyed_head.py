from django.db import migrations, models


def key_the_head(apps, schema_editor):
    """Key the head as it stands (one row), so an upgraded installation does not report
    tampering. Run ``verify_audit_chain`` before upgrading: the head is trusted as it is."""
    from nqihub.audit.models import head_mac

    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    for head in AuditChainHead.objects.all():
        head.mac = head_mac(
            last_seq=head.last_seq,
            last_hash=head.last_hash,
            anchor_seq=head.anchor_seq,
            anchor_hash=head.anchor_hash,
            incident=head.incident,
            incident_seq=head.incident_seq,
        )
        head.save(update_fields=["mac"])


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_chain_head")]

    operations = [
        migrations.AddField(
            model_name="auditchainhead",
            name="incident",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "none"),
                    ("missing", "the chain head was missing"),
                    ("altered", "the chain head did not match its key"),
                ],
                default="",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="auditchainhead",
            name="incident_seq",
            field=models.PositiveBigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="auditchainhead",
            name="mac",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunPython(key_the_head, migrations.RunPython.noop),
    ]
