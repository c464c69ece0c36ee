# Failure streaks are kept by the database itself, like the message counts (0007): after any statement that changes
# a message's outcome, the streaks of its customers are counted again from their messages (indexed lookups).
# The reasons that are not the recipient's fault are frozen here as they were (campaigns.customers.segments reads
# delivery.reasons.NOT_THE_RECIPIENTS_FAULT): changing that list needs a migration that installs these again.

import django.db.models.deletion
from django.db import migrations, models

NOT_THE_RECIPIENTS_FAULT = ("ndnc", "dlt_entity", "dlt_chain", "dlt_sender_id", "dlt_template")
MOST = 21  # more than any segment asks for (BEHAVIOUR_MESSAGES_MAX is 20)
OUTCOMES = "('delivered', 'not_delivered')"
PG_NEVER = "'-infinity'::timestamptz"
SQLITE_NEVER = "''"


def recount(customers: str, never: str) -> str:
    """INSERT ... ON CONFLICT that counts the streaks of the customers of `customers` (a query of customer_id)."""
    skipped = ", ".join(f"'{code}'" for code in NOT_THE_RECIPIENTS_FAULT)
    return f"""
        INSERT INTO delivery_failurestreak (customer_id, channel, failures)
        SELECT who.customer_id, ch.channel, (
            SELECT count(*) FROM (
                SELECT 1 FROM delivery_message f
                WHERE f.customer_id = who.customer_id AND (ch.channel = 'any' OR f.channel = ch.channel)
                  AND f.proof_id IS NULL AND f.status = 'not_delivered' AND f.reason_code NOT IN ({skipped})
                  AND f.created_at > COALESCE((
                      SELECT max(d.created_at) FROM delivery_message d
                      WHERE d.customer_id = who.customer_id AND (ch.channel = 'any' OR d.channel = ch.channel)
                        AND d.proof_id IS NULL AND d.status = 'delivered'), {never})
                LIMIT {MOST}) AS capped)
        FROM ({customers}) AS who
        CROSS JOIN (SELECT 'any' AS channel UNION ALL SELECT 'sms' UNION ALL SELECT 'email') AS ch
        WHERE who.customer_id IS NOT NULL
        ON CONFLICT (customer_id, channel) DO UPDATE SET failures = excluded.failures
    """


CHANGED = f"""
    SELECT o.customer_id FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE (o.status IN {OUTCOMES} OR n.status IN {OUTCOMES})
      AND (o.status, o.reason_code, o.proof_id, o.customer_id, o.channel, o.created_at)
          IS DISTINCT FROM (n.status, n.reason_code, n.proof_id, n.customer_id, n.channel, n.created_at)
    UNION
    SELECT n.customer_id FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE n.status IN {OUTCOMES} AND n.customer_id IS DISTINCT FROM o.customer_id
"""
POSTGRESQL = [
    f"""
    CREATE FUNCTION delivery_failure_streak() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            {recount(f"SELECT DISTINCT customer_id FROM new_rows WHERE status IN {OUTCOMES}", PG_NEVER)};
        ELSIF TG_OP = 'DELETE' THEN
            {recount(f"SELECT DISTINCT customer_id FROM old_rows WHERE status IN {OUTCOMES}", PG_NEVER)};
        ELSE
            {recount(CHANGED, PG_NEVER)};
        END IF;
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER delivery_failure_streak_insert AFTER INSERT ON delivery_message REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION delivery_failure_streak()",
    "CREATE TRIGGER delivery_failure_streak_update AFTER UPDATE ON delivery_message REFERENCING OLD TABLE AS old_rows "
    "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION delivery_failure_streak()",
    "CREATE TRIGGER delivery_failure_streak_delete AFTER DELETE ON delivery_message REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION delivery_failure_streak()",
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER delivery_failure_streak_insert ON delivery_message",
    "DROP TRIGGER delivery_failure_streak_update ON delivery_message",
    "DROP TRIGGER delivery_failure_streak_delete ON delivery_message",
    "DROP FUNCTION delivery_failure_streak()",
]
SQLITE = [
    f"""CREATE TRIGGER delivery_failure_streak_insert AFTER INSERT ON delivery_message
    WHEN NEW.status IN {OUTCOMES}
    BEGIN {recount("SELECT NEW.customer_id AS customer_id", SQLITE_NEVER)}; END""",
    f"""CREATE TRIGGER delivery_failure_streak_update
    AFTER UPDATE OF status, reason_code, proof_id, customer_id, channel, created_at ON delivery_message
    WHEN OLD.status IN {OUTCOMES} OR NEW.status IN {OUTCOMES}
    BEGIN {recount("SELECT NEW.customer_id AS customer_id UNION SELECT OLD.customer_id", SQLITE_NEVER)}; END""",
    f"""CREATE TRIGGER delivery_failure_streak_delete AFTER DELETE ON delivery_message
    WHEN OLD.status IN {OUTCOMES}
    BEGIN {recount("SELECT OLD.customer_id AS customer_id", SQLITE_NEVER)}; END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER delivery_failure_streak_insert",
    "DROP TRIGGER delivery_failure_streak_update",
    "DROP TRIGGER delivery_failure_streak_delete",
]


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": POSTGRESQL, "sqlite": SQLITE}[vendor]:
        schema_editor.execute(statement)
    never = PG_NEVER if vendor == "postgresql" else SQLITE_NEVER
    schema_editor.execute(recount(f"SELECT DISTINCT customer_id FROM delivery_message WHERE status IN {OUTCOMES}", never))


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}[vendor]:
        schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0019_campaign_dispatch_tries'),
        ('delivery', '0007_message_counts'),
    ]

    operations = [
        migrations.CreateModel(
            name='FailureStreak',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('channel', models.CharField(max_length=8)),
                ('failures', models.PositiveSmallIntegerField()),
                ('customer', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='failure_streaks', to='campaigns.customer')),
            ],
            options={
                'indexes': [models.Index(fields=['channel', 'failures'], name='failurestreak_channel_failures')],
                'constraints': [models.UniqueConstraint(fields=('customer', 'channel'), name='failurestreak_customer_channel')],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
