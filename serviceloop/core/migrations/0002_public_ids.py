"""Public ids for outgoing mail and event deliveries, so operators retry them by an unguessable id.

Added in three steps: a unique column with a callable default would give every existing row the
same value, so the column is added nullable, each row gets its own id, then it becomes unique.
"""

from typing import Any

from django.db import migrations, models

import serviceloop.core.models


def fill_public_ids(apps: Any, schema_editor: Any) -> None:
    for model_name in ("OutgoingMail", "EventDelivery"):
        model = apps.get_model("core", model_name)
        for row in model.objects.filter(public_id__isnull=True).only("pk").iterator():
            model.objects.filter(pk=row.pk).update(public_id=serviceloop.core.models.new_public_id())


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_outbox"),
    ]

    operations = [
        migrations.AddField(
            model_name="outgoingmail",
            name="public_id",
            field=models.CharField(editable=False, max_length=24, null=True),
        ),
        migrations.AddField(
            model_name="eventdelivery",
            name="public_id",
            field=models.CharField(editable=False, max_length=24, null=True),
        ),
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="outgoingmail",
            name="public_id",
            field=models.CharField(
                default=serviceloop.core.models.new_public_id, editable=False, max_length=24, unique=True
            ),
        ),
        migrations.AlterField(
            model_name="eventdelivery",
            name="public_id",
            field=models.CharField(
                default=serviceloop.core.models.new_public_id, editable=False, max_length=24, unique=True
            ),
        ),
    ]
