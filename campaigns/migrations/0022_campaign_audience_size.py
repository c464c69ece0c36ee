from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0021_campaign_status_finished"),
    ]

    operations = [
        migrations.AddField(
            model_name="campaign",
            name="audience_size",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
    ]
