# Authenticator and RecoveryCode move here from linktrack (linktrack 0005) with their tables unchanged: state only.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0017_org_credits_alert"),
        ("linktrack", "0005_two_step_models_to_campaigns"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Authenticator",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("secret", models.CharField(max_length=32)),
                        ("confirmed_at", models.DateTimeField(blank=True, help_text="When two-step sign-in was turned on.", null=True)),
                        ("last_used_step", models.BigIntegerField(default=0)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("user", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="authenticator", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={"db_table": "linktrack_authenticator"},
                ),
                migrations.CreateModel(
                    name="RecoveryCode",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("code_hash", models.CharField(max_length=64)),
                        ("used_at", models.DateTimeField(blank=True, null=True)),
                        ("authenticator", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="recovery_codes", to="campaigns.authenticator")),
                    ],
                    options={
                        "db_table": "linktrack_recoverycode",
                        "constraints": [models.UniqueConstraint(fields=("authenticator", "code_hash"), name="recoverycode_unique_per_authenticator")],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
