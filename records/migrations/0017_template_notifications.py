import records.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0016_profile_org_id"),
    ]

    operations = [
        migrations.AddField(
            model_name="copytemplate",
            name="notify_emails",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="copytemplate",
            name="webhook_url",
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.AddField(
            model_name="copytemplate",
            name="webhook_secret",
            field=records.fields.EncryptedTextField(blank=True, default=""),
        ),
    ]
