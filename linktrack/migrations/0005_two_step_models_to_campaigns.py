# Authenticator and RecoveryCode belong to accounts (campaigns.models.accounts) now. Their tables stay as they are:
# only Django's idea of which app owns them moves (campaigns 0018 takes them over).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("linktrack", "0004_two_step_authenticator"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="RecoveryCode"),
                migrations.DeleteModel(name="Authenticator"),
            ],
            database_operations=[],
        ),
    ]
