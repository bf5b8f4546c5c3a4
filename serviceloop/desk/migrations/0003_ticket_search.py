"""Full-text search over tickets: a GIN-indexed tsvector on PostgreSQL, an FTS5 table on SQLite.

Kept in sync by desk.search (called from the services), never by model signals.
"""

from django.db import migrations

POSTGRES_FORWARD = [
    "ALTER TABLE desk_ticket ADD COLUMN search_public tsvector",
    "ALTER TABLE desk_ticket ADD COLUMN search_staff tsvector",
    "CREATE INDEX desk_ticket_search_public_gin ON desk_ticket USING gin (search_public)",
    "CREATE INDEX desk_ticket_search_staff_gin ON desk_ticket USING gin (search_staff)",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS desk_ticket_search_staff_gin",
    "DROP INDEX IF EXISTS desk_ticket_search_public_gin",
    "ALTER TABLE desk_ticket DROP COLUMN IF EXISTS search_staff",
    "ALTER TABLE desk_ticket DROP COLUMN IF EXISTS search_public",
]
# rowid = the ticket's id; public_text = subject + public replies, internal_text = internal notes.
SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS desk_ticket_fts USING fts5("
    "public_text, internal_text, tokenize = 'porter unicode61')",
]
SQLITE_BACKWARD = ["DROP TABLE IF EXISTS desk_ticket_fts"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("desk", "0002_desk_conversation_sla")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        ),
    ]
