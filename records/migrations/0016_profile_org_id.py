from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("records", "0015_notifications")]

    operations = [
        migrations.AddField(
            model_name="connectionprofile",
            name="org_id",
            field=models.CharField(blank=True, editable=False, max_length=64, verbose_name="org id"),
        ),
    ]
