# The update triggers of delivery_message do less for a statement that changes no outcome (a send batch claimed, then
# marked sent): the message counts find the changed rows with one join of the transition tables instead of two, and
# the failure streaks are not looked for when no row before or after the statement has an outcome (0008 recounts
# only the streaks of rows with an outcome, so there would be none). PostgreSQL only: SQLite's triggers are per row.

import importlib

from django.db import migrations

counts = importlib.import_module("delivery.migrations.0007_message_counts")
streaks = importlib.import_module("delivery.migrations.0008_failure_streaks")

COUNTS_BEFORE = counts.POSTGRESQL[0].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
STREAKS_BEFORE = streaks.POSTGRESQL[0].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")

COUNTS = f"""
    CREATE OR REPLACE FUNCTION delivery_message_count() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO delivery_messagecounts ({counts.COLUMNS})
            SELECT campaign_id, status, reason_code, count(*), min(sent_at) FROM new_rows
            WHERE proof_id IS NULL GROUP BY 1, 2, 3;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO delivery_messagecounts ({counts.COLUMNS})
            SELECT campaign_id, status, reason_code, -count(*), NULL FROM old_rows
            WHERE proof_id IS NULL GROUP BY 1, 2, 3;
        ELSE
            -- Only rows whose counted columns changed: an update of a body or a gateway id adds nothing. Each
            -- changed row takes one away from its group before and adds one to its group after.
            INSERT INTO delivery_messagecounts ({counts.COLUMNS})
            SELECT c.campaign_id, c.status, c.reason_code, sum(c.change), min(c.sent_at)
            FROM old_rows o JOIN new_rows n ON n.id = o.id
            CROSS JOIN LATERAL (VALUES (o.campaign_id, o.status, o.reason_code, o.proof_id, -1, NULL::timestamptz),
                                       (n.campaign_id, n.status, n.reason_code, n.proof_id, 1, n.sent_at))
                AS c (campaign_id, status, reason_code, proof_id, change, sent_at)
            WHERE (o.campaign_id, o.status, o.reason_code, o.proof_id, o.sent_at)
                  IS DISTINCT FROM (n.campaign_id, n.status, n.reason_code, n.proof_id, n.sent_at)
              AND c.proof_id IS NULL
            GROUP BY 1, 2, 3 HAVING sum(c.change) <> 0 OR min(c.sent_at) IS NOT NULL;
        END IF;
        RETURN NULL;
    END $$
    """

_RECOUNT_CHANGED = f"""        ELSE
            {streaks.recount_postgresql(streaks.CHANGED)};"""
assert _RECOUNT_CHANGED in STREAKS_BEFORE
STREAKS = STREAKS_BEFORE.replace(
    _RECOUNT_CHANGED,
    f"""        ELSIF EXISTS (SELECT 1 FROM new_rows WHERE status IN {streaks.OUTCOMES})
              OR EXISTS (SELECT 1 FROM old_rows WHERE status IN {streaks.OUTCOMES}) THEN
            {streaks.recount_postgresql(streaks.CHANGED)};""",
)


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(COUNTS)
        schema_editor.execute(STREAKS)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(COUNTS_BEFORE)
        schema_editor.execute(STREAKS_BEFORE)


class Migration(migrations.Migration):

    dependencies = [
        ("delivery", "0010_message_campaign_index_dropped"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
