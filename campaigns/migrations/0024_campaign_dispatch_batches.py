from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0023_transactions"),
    ]

    operations = [
        migrations.AddField(
            model_name="campaign",
            name="dispatch_plan",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="campaign",
            name="dispatch_batches_left",
            field=models.PositiveIntegerField(default=0),
        ),
    ]
