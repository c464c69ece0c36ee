# The message counters are kept by the database itself, so no writer (a bulk update of a million receipts, an
# erasure, a cascade) can forget them: triggers on delivery_message add a row of changes to delivery_messagecounts
# per statement (PostgreSQL, with transition tables) or per row (SQLite). Existing messages are counted here once.

import django.db.models.deletion
from django.db import migrations, models

COLUMNS = "campaign_id, status, reason_code, messages, first_sent_at"

POSTGRESQL = [
    f"""
    CREATE FUNCTION delivery_message_count() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO delivery_messagecounts ({COLUMNS})
            SELECT campaign_id, status, reason_code, count(*), min(sent_at) FROM new_rows
            WHERE proof_id IS NULL GROUP BY 1, 2, 3;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO delivery_messagecounts ({COLUMNS})
            SELECT campaign_id, status, reason_code, -count(*), NULL FROM old_rows
            WHERE proof_id IS NULL GROUP BY 1, 2, 3;
        ELSE
            -- Only rows whose counted columns changed: an update of a body or a gateway id adds nothing.
            INSERT INTO delivery_messagecounts ({COLUMNS})
            WITH changed_rows AS (
                SELECT o.* FROM old_rows o JOIN new_rows n ON n.id = o.id
                WHERE (o.campaign_id, o.status, o.reason_code, o.proof_id, o.sent_at)
                      IS DISTINCT FROM (n.campaign_id, n.status, n.reason_code, n.proof_id, n.sent_at)
            )
            SELECT campaign_id, status, reason_code, sum(change), min(sent_at) FROM (
                SELECT o.campaign_id, o.status, o.reason_code, -1 AS change, NULL::timestamptz AS sent_at
                FROM changed_rows o WHERE o.proof_id IS NULL
                UNION ALL
                SELECT n.campaign_id, n.status, n.reason_code, 1, n.sent_at
                FROM changed_rows n_ids JOIN new_rows n ON n.id = n_ids.id WHERE n.proof_id IS NULL
            ) AS changes GROUP BY 1, 2, 3 HAVING sum(change) <> 0 OR min(sent_at) IS NOT NULL;
        END IF;
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER delivery_message_count_insert AFTER INSERT ON delivery_message REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION delivery_message_count()",
    "CREATE TRIGGER delivery_message_count_update AFTER UPDATE ON delivery_message "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION delivery_message_count()",
    "CREATE TRIGGER delivery_message_count_delete AFTER DELETE ON delivery_message REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION delivery_message_count()",
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER delivery_message_count_insert ON delivery_message",
    "DROP TRIGGER delivery_message_count_update ON delivery_message",
    "DROP TRIGGER delivery_message_count_delete ON delivery_message",
    "DROP FUNCTION delivery_message_count()",
]
SQLITE = [
    f"""CREATE TRIGGER delivery_message_count_insert AFTER INSERT ON delivery_message WHEN NEW.proof_id IS NULL
    BEGIN INSERT INTO delivery_messagecounts ({COLUMNS})
          VALUES (NEW.campaign_id, NEW.status, NEW.reason_code, 1, NEW.sent_at); END""",
    f"""CREATE TRIGGER delivery_message_count_update
    AFTER UPDATE OF campaign_id, status, reason_code, proof_id, sent_at ON delivery_message
    BEGIN
        INSERT INTO delivery_messagecounts ({COLUMNS})
        SELECT OLD.campaign_id, OLD.status, OLD.reason_code, -1, NULL WHERE OLD.proof_id IS NULL;
        INSERT INTO delivery_messagecounts ({COLUMNS})
        SELECT NEW.campaign_id, NEW.status, NEW.reason_code, 1, NEW.sent_at WHERE NEW.proof_id IS NULL;
    END""",
    f"""CREATE TRIGGER delivery_message_count_delete AFTER DELETE ON delivery_message WHEN OLD.proof_id IS NULL
    BEGIN INSERT INTO delivery_messagecounts ({COLUMNS})
          VALUES (OLD.campaign_id, OLD.status, OLD.reason_code, -1, NULL); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER delivery_message_count_insert",
    "DROP TRIGGER delivery_message_count_update",
    "DROP TRIGGER delivery_message_count_delete",
]
COUNT_EXISTING = (
    f"INSERT INTO delivery_messagecounts ({COLUMNS}) SELECT campaign_id, status, reason_code, count(*), min(sent_at) "
    "FROM delivery_message WHERE proof_id IS NULL GROUP BY campaign_id, status, reason_code"
)


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": POSTGRESQL, "sqlite": SQLITE}[vendor]:
        schema_editor.execute(statement)
    schema_editor.execute(COUNT_EXISTING)


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}[vendor]:
        schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0018_two_step_models_from_linktrack'),
        ('delivery', '0006_message_proofs'),
    ]

    operations = [
        migrations.CreateModel(
            name='MessageCounts',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('status', models.CharField(choices=[('queued', 'Queued'), ('submitting', 'Handing to the gateway'), ('sent', 'Sent, waiting for a receipt'), ('delivered', 'Delivered'), ('not_delivered', 'Not delivered'), ('not_sent', 'Not sent'), ('unknown', 'Unknown')], max_length=16)),
                ('reason_code', models.CharField(blank=True, max_length=40)),
                ('messages', models.IntegerField()),
                ('first_sent_at', models.DateTimeField(blank=True, null=True)),
                ('campaign', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='campaigns.campaign')),
            ],
            options={
                'indexes': [models.Index(fields=['campaign', 'status'], name='messagecounts_campaign_status')],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
