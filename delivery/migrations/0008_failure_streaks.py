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


def _counted(pairs: str, never: str) -> str:
    """(customer_id, channel, failures) of the (customer_id, channel) pairs of the query `pairs`."""
    skipped = ", ".join(f"'{code}'" for code in NOT_THE_RECIPIENTS_FAULT)
    return f"""
        SELECT who.customer_id, who.channel, (
            SELECT count(*) FROM (
                SELECT 1 FROM delivery_message f
                WHERE f.customer_id = who.customer_id AND (who.channel = 'any' OR f.channel = who.channel)
                  AND f.proof_id IS NULL AND f.status = 'not_delivered' AND f.reason_code NOT IN ({skipped})
                  AND f.created_at > COALESCE((
                      SELECT max(d.created_at) FROM delivery_message d
                      WHERE d.customer_id = who.customer_id AND (who.channel = 'any' OR d.channel = who.channel)
                        AND d.proof_id IS NULL AND d.status = 'delivered'), {never})
                LIMIT {MOST}) AS capped) AS failures
        FROM ({pairs}) AS who
        WHERE who.customer_id IS NOT NULL
    """


# Only streaks above zero have a row: most outcomes are deliveries, and a customer without failures costs nothing.
# An unchanged streak is not written again.
def _upsert(counted: str) -> str:
    return f"""
        INSERT INTO delivery_failurestreak (customer_id, channel, failures)
        SELECT customer_id, channel, failures FROM {counted} WHERE failures > 0
        ON CONFLICT (customer_id, channel) DO UPDATE SET failures = excluded.failures
        WHERE delivery_failurestreak.failures <> excluded.failures
    """


def recount_postgresql(pairs: str) -> str:
    return f"""
        WITH counted AS MATERIALIZED ({_counted(pairs, PG_NEVER)}),
        emptied AS (
            DELETE FROM delivery_failurestreak s USING counted c
            WHERE s.customer_id = c.customer_id AND s.channel = c.channel AND c.failures = 0
        )
        {_upsert("counted")}
    """


def recount_sqlite(pairs: str) -> list[str]:
    """Two statements: SQLite has no data-modifying WITH, nor any WITH inside a trigger."""
    counted = _counted(pairs, SQLITE_NEVER)
    return [
        f"""DELETE FROM delivery_failurestreak WHERE EXISTS (
            SELECT 1 FROM ({counted}) AS c
            WHERE c.customer_id = delivery_failurestreak.customer_id AND c.channel = delivery_failurestreak.channel
              AND c.failures = 0)""",
        _upsert(f"({counted}) AS counted"),
    ]


def pairs_of(rows: str) -> str:
    """The (customer, channel) pairs whose streaks rows with an outcome change: their channel and "any"."""
    return f"""
        SELECT DISTINCT customer_id, channel FROM (
            SELECT customer_id, channel FROM {rows} WHERE status IN {OUTCOMES}
            UNION ALL SELECT customer_id, 'any' FROM {rows} WHERE status IN {OUTCOMES}) AS pairs
    """


CHANGED = f"""
    SELECT DISTINCT pair.customer_id, pair.channel FROM (
        SELECT o.customer_id AS customer_id, o.channel AS channel, n.customer_id AS new_customer, n.channel AS new_channel
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE (o.status IN {OUTCOMES} OR n.status IN {OUTCOMES})
          AND (o.status, o.reason_code, o.proof_id, o.customer_id, o.channel, o.created_at)
              IS DISTINCT FROM (n.status, n.reason_code, n.proof_id, n.customer_id, n.channel, n.created_at)
    ) AS changed
    CROSS JOIN LATERAL (VALUES (changed.customer_id, changed.channel), (changed.customer_id, 'any'),
                               (changed.new_customer, changed.new_channel), (changed.new_customer, 'any'))
        AS pair(customer_id, channel)
"""
POSTGRESQL = [
    f"""
    CREATE FUNCTION delivery_failure_streak() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            {recount_postgresql(pairs_of("new_rows"))};
        ELSIF TG_OP = 'DELETE' THEN
            {recount_postgresql(pairs_of("old_rows"))};
        ELSE
            {recount_postgresql(CHANGED)};
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
_SQLITE_ROW = "SELECT {row}.customer_id AS customer_id, {row}.channel AS channel UNION SELECT {row}.customer_id, 'any'"
SQLITE = [
    f"""CREATE TRIGGER delivery_failure_streak_insert AFTER INSERT ON delivery_message
    WHEN NEW.status IN {OUTCOMES}
    BEGIN {"; ".join(recount_sqlite(_SQLITE_ROW.format(row="NEW")))}; END""",
    f"""CREATE TRIGGER delivery_failure_streak_update
    AFTER UPDATE OF status, reason_code, proof_id, customer_id, channel, created_at ON delivery_message
    WHEN OLD.status IN {OUTCOMES} OR NEW.status IN {OUTCOMES}
    BEGIN {"; ".join(recount_sqlite(_SQLITE_ROW.format(row="NEW") + " UNION " + _SQLITE_ROW.format(row="OLD")))}; END""",
    f"""CREATE TRIGGER delivery_failure_streak_delete AFTER DELETE ON delivery_message
    WHEN OLD.status IN {OUTCOMES}
    BEGIN {"; ".join(recount_sqlite(_SQLITE_ROW.format(row="OLD")))}; END""",
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
    everyone = pairs_of("delivery_message")
    for statement in [recount_postgresql(everyone)] if vendor == "postgresql" else recount_sqlite(everyone):
        schema_editor.execute(statement)


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
