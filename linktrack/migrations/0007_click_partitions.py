# The click table partitioned by month on PostgreSQL (declarative partitioning, RANGE on clicked_at), so old months
# can be dropped whole (CLICK_RETENTION_MONTHS) and each month's indexes stay the size of a month.
#
# A unique key of a partitioned table must hold the partition key: the primary key becomes (id, clicked_at) and the
# dedup key (event_id, clicked_at). A click's time is fixed in the web process with its event id, so the same click
# stored twice has the same pair. Django keeps `id` as its primary key; ids come from one sequence on the parent, so
# they stay unique and ordered (the reporting API pages by id). Nothing has a foreign key to the click table.
#
# Existing clicks are copied into the new table (one partition per month from the oldest click's to two months
# ahead, and a DEFAULT partition for a click whose month has none), the old table is dropped and the new one takes
# its name. SQLite keeps a plain table and only changes the unique key.

import datetime

from django.db import migrations, models
from django.db.migrations.operations.base import Operation

COLUMNS = "id, event_id, channel, clicked_at, ip_hash, user_agent, is_bot, campaign_id, message_id, short_link_id"
TABLE_COLUMNS = """
    id bigint NOT NULL,
    event_id varchar(64) NOT NULL,
    channel varchar(8) NOT NULL,
    clicked_at timestamp with time zone NOT NULL,
    ip_hash varchar(64) NOT NULL,
    user_agent varchar(500) NOT NULL,
    is_bot boolean NOT NULL,
    campaign_id bigint NOT NULL,
    message_id bigint NULL,
    short_link_id bigint NOT NULL
"""
INDEXES_AND_KEYS = [
    "CREATE INDEX click_campaign_is_bot_id ON linktrack_click (campaign_id, is_bot, id)",
    "CREATE INDEX linktrack_click_campaign_id_4ec49a19 ON linktrack_click (campaign_id)",
    "CREATE INDEX linktrack_click_message_id_62cef26b ON linktrack_click (message_id)",
    "CREATE INDEX linktrack_click_short_link_id_3d828766 ON linktrack_click (short_link_id)",
    "ALTER TABLE linktrack_click ADD CONSTRAINT linktrack_click_campaign_id_4ec49a19_fk_campaigns_campaign_id "
    "FOREIGN KEY (campaign_id) REFERENCES campaigns_campaign (id) DEFERRABLE INITIALLY DEFERRED",
    "ALTER TABLE linktrack_click ADD CONSTRAINT linktrack_click_message_id_62cef26b_fk_delivery_message_id "
    "FOREIGN KEY (message_id) REFERENCES delivery_message (id) DEFERRABLE INITIALLY DEFERRED",
    "ALTER TABLE linktrack_click ADD CONSTRAINT linktrack_click_short_link_id_3d828766_fk_linktrack "
    "FOREIGN KEY (short_link_id) REFERENCES linktrack_shortlink (id) DEFERRABLE INITIALLY DEFERRED",
]
MONTHS_AHEAD = 2


def _month(moment: datetime.datetime) -> datetime.date:
    return datetime.date(moment.year, moment.month, 1)


def _next(month: datetime.date) -> datetime.date:
    return datetime.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def partition_clicks(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("LOCK TABLE linktrack_click IN ACCESS EXCLUSIVE MODE")
        cursor.execute("SELECT min(clicked_at), max(clicked_at), max(id) FROM linktrack_click")
        oldest, newest, highest = cursor.fetchone()
        now = datetime.datetime.now(datetime.UTC)
        month, last = _month(min(oldest or now, now)), _month(max(newest or now, now))
        for _ in range(MONTHS_AHEAD):
            last = _next(last)
        cursor.execute(f"CREATE TABLE linktrack_click_partitioned ({TABLE_COLUMNS}) PARTITION BY RANGE (clicked_at)")
        while month <= last:
            cursor.execute(
                f"CREATE TABLE linktrack_click_p{month:%Y_%m} PARTITION OF linktrack_click_partitioned "
                f"FOR VALUES FROM ('{month.isoformat()} 00:00+00') TO ('{_next(month).isoformat()} 00:00+00')"
            )
            month = _next(month)
        cursor.execute("CREATE TABLE linktrack_click_default PARTITION OF linktrack_click_partitioned DEFAULT")
        cursor.execute(f"INSERT INTO linktrack_click_partitioned ({COLUMNS}) SELECT {COLUMNS} FROM linktrack_click")
        cursor.execute("DROP TABLE linktrack_click")
        cursor.execute("ALTER TABLE linktrack_click_partitioned RENAME TO linktrack_click")
        cursor.execute("CREATE SEQUENCE linktrack_click_id_seq OWNED BY linktrack_click.id")
        cursor.execute("ALTER TABLE linktrack_click ALTER COLUMN id SET DEFAULT nextval('linktrack_click_id_seq')")
        if highest:
            cursor.execute("SELECT setval('linktrack_click_id_seq', %s)", [highest])
        cursor.execute("ALTER TABLE linktrack_click ADD CONSTRAINT linktrack_click_pkey PRIMARY KEY (id, clicked_at)")
        cursor.execute(
            "ALTER TABLE linktrack_click ADD CONSTRAINT click_unique_event_clicked_at UNIQUE (event_id, clicked_at)"
        )
        for statement in INDEXES_AND_KEYS:
            cursor.execute(statement)


def unpartition_clicks(apps, schema_editor):
    """Back to one plain table (as migration 0006 left it), every click copied."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("LOCK TABLE linktrack_click IN ACCESS EXCLUSIVE MODE")
        cursor.execute(f"CREATE TABLE linktrack_click_plain ({TABLE_COLUMNS})")
        cursor.execute(f"INSERT INTO linktrack_click_plain ({COLUMNS}) SELECT {COLUMNS} FROM linktrack_click")
        cursor.execute("SELECT coalesce(max(id), 0) + 1 FROM linktrack_click")
        (following,) = cursor.fetchone()
        cursor.execute("DROP TABLE linktrack_click")
        cursor.execute("ALTER TABLE linktrack_click_plain RENAME TO linktrack_click")
        cursor.execute(
            f"ALTER TABLE linktrack_click ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (START WITH {following})"
        )
        cursor.execute("ALTER TABLE linktrack_click ADD CONSTRAINT linktrack_click_pkey PRIMARY KEY (id)")
        cursor.execute("ALTER TABLE linktrack_click ADD CONSTRAINT linktrack_click_event_id_key UNIQUE (event_id)")
        cursor.execute(
            "CREATE INDEX linktrack_click_event_id_f44399ae_like ON linktrack_click (event_id varchar_pattern_ops)"
        )
        for statement in INDEXES_AND_KEYS:
            cursor.execute(statement)


class NotOnPostgreSQL(Operation):
    """An operation whose change to the database is made everywhere but on PostgreSQL, where partition_clicks makes
    it; the migration state changes as usual."""

    reversible = True

    def __init__(self, operation):
        self.operation = operation

    def deconstruct(self):
        return self.__class__.__name__, [self.operation], {}

    def state_forwards(self, app_label, state):
        self.operation.state_forwards(app_label, state)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            self.operation.database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            self.operation.database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self):
        return f"{self.operation.describe()} (not on PostgreSQL)"


class Migration(migrations.Migration):

    dependencies = [
        ('linktrack', '0006_click_counters'),
    ]

    operations = [
        migrations.CreateModel(
            name='ClickRetention',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kept_from', models.DateTimeField()),
                ('dropped_at', models.DateTimeField(auto_now_add=True)),
                ('dropped', models.TextField(blank=True)),
            ],
        ),
        migrations.RunPython(partition_clicks, unpartition_clicks),
        NotOnPostgreSQL(
            migrations.AlterField(
                model_name='click',
                name='event_id',
                field=models.CharField(max_length=64),
            )
        ),
        NotOnPostgreSQL(
            migrations.AddConstraint(
                model_name='click',
                constraint=models.UniqueConstraint(fields=('event_id', 'clicked_at'), name='click_unique_event_clicked_at'),
            )
        ),
    ]
