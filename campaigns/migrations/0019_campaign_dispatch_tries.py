# A campaign counts its tries at preparing messages, so one that keeps failing is paused rather than restarted forever.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0018_two_step_models_from_linktrack"),
    ]

    operations = [
        migrations.AddField(
            model_name="campaign",
            name="dispatch_tries",
            field=models.PositiveSmallIntegerField(default=0),
        ),
    ]
