"""Search finds a ticket by its requester's name and email and its organisation's name.

PostgreSQL: the two tsvector columns of 0003 gain the people part (weight B); every ticket's
document is recomputed here, set-wise (one UPDATE: minutes on a large desk, run it in a quiet hour).
SQLite: the FTS5 table gains a `people_text` column (FTS5 tables cannot be altered: it is rebuilt and
refilled). The SQL is a copy of desk.search's at the time of writing, so that this migration keeps
doing what it did when that module changes.
"""

from django.db import migrations

_PG_AGG = (
    "coalesce(left((SELECT string_agg(m.body, ' ') FROM desk_message m "
    "WHERE m.ticket_id = t.id AND m.kind = '{kind}'), 200000), '')"
)
_PG_PEOPLE = (
    "coalesce((SELECT p.name || ' ' || p.email || ' ' || translate(p.email, '@.+_-', '     ') "
    "FROM relationships_person p WHERE p.id = t.requester_id), '') || ' ' || "
    "coalesce((SELECT o.name FROM accounts_organisation o WHERE o.id = t.organisation_id), '')"
)
_PG_COMMON = (
    "setweight(to_tsvector('english', t.subject), 'A') || "
    "setweight(to_tsvector('english', " + _PG_PEOPLE + "), 'B') || "
    "to_tsvector('english', " + _PG_AGG.format(kind="public") + ")"
)
POSTGRES_FORWARD = [
    "UPDATE desk_ticket t SET search_public = " + _PG_COMMON + ", search_staff = " + _PG_COMMON + " || "
    "setweight(to_tsvector('english', " + _PG_AGG.format(kind="internal") + "), 'C')",
]
# Back to 0003's documents: subject and conversation only.
_PG_OLD = "setweight(to_tsvector('english', t.subject), 'A') || to_tsvector('english', " + _PG_AGG.format(kind="public") + ")"
POSTGRES_BACKWARD = [
    "UPDATE desk_ticket t SET search_public = " + _PG_OLD + ", search_staff = " + _PG_OLD + " || "
    "setweight(to_tsvector('english', " + _PG_AGG.format(kind="internal") + "), 'C')",
]

_SQLITE_AGG = (
    "coalesce(substr((SELECT group_concat(m.body, ' ') FROM desk_message m "
    "WHERE m.ticket_id = t.id AND m.kind = '{kind}'), 1, 200000), '')"
)
_SQLITE_PEOPLE = (
    "coalesce((SELECT p.name || ' ' || p.email FROM relationships_person p WHERE p.id = t.requester_id), '') "
    "|| ' ' || coalesce((SELECT o.name FROM accounts_organisation o WHERE o.id = t.organisation_id), '')"
)
SQLITE_FORWARD = [
    "DROP TABLE IF EXISTS desk_ticket_fts",
    "CREATE VIRTUAL TABLE desk_ticket_fts USING fts5("
    "public_text, internal_text, people_text, tokenize = 'porter unicode61')",
    "INSERT INTO desk_ticket_fts(rowid, public_text, internal_text, people_text) "
    "SELECT t.id, t.subject || ' ' || " + _SQLITE_AGG.format(kind="public") + ", "
    + _SQLITE_AGG.format(kind="internal") + ", " + _SQLITE_PEOPLE + " FROM desk_ticket t",
]
SQLITE_BACKWARD = [
    "DROP TABLE IF EXISTS desk_ticket_fts",
    "CREATE VIRTUAL TABLE desk_ticket_fts USING fts5(public_text, internal_text, tokenize = 'porter unicode61')",
    "INSERT INTO desk_ticket_fts(rowid, public_text, internal_text) "
    "SELECT t.id, t.subject || ' ' || " + _SQLITE_AGG.format(kind="public") + ", "
    + _SQLITE_AGG.format(kind="internal") + " FROM desk_ticket t",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("desk", "0007_sla_resolved_pause")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        ),
    ]
