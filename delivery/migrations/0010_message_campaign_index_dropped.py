# The campaign index of messages and the message index of gateway exchanges are dropped: another index starts with
# the same column in each table, and every index is one more entry to write per row version. Dropped by name, so the
# foreign keys stay as they are (altering the fields would drop and validate them again on a full table).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0024_campaign_dispatch_batches'),
        ('delivery', '0009_message_customer_sent'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='gatewayexchange',
                    name='message',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='exchanges', to='delivery.message'),
                ),
                migrations.AlterField(
                    model_name='message',
                    name='campaign',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='messages', to='campaigns.campaign'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "delivery_message_campaign_id_cc495cce"',
                    reverse_sql='CREATE INDEX IF NOT EXISTS "delivery_message_campaign_id_cc495cce" ON "delivery_message" ("campaign_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "delivery_gatewayexchange_message_id_13b5d87c"',
                    reverse_sql='CREATE INDEX IF NOT EXISTS "delivery_gatewayexchange_message_id_13b5d87c" ON "delivery_gatewayexchange" ("message_id")',
                ),
            ],
        ),
    ]
