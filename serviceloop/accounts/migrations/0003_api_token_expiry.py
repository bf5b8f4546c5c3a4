import hashlib

from django.db import migrations, models


def bind_tokens_to_passwords(apps, schema_editor):
    # Tokens made before this migration are bound to the password their owner has now
    # (accounts.models.password_fingerprint, copied here as migrations must not import models).
    ApiToken = apps.get_model("accounts", "ApiToken")
    for token in ApiToken.objects.select_related("user").iterator():
        token.password_fingerprint = hashlib.sha256(f"serviceloop.api_token:{token.user.password}".encode()).hexdigest()
        token.save(update_fields=["password_fingerprint"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="revoked_because",
            field=models.CharField(
                blank=True,
                choices=[
                    ("revoked", "revoked"),
                    ("password_changed", "password changed"),
                    ("deactivated", "user deactivated"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="password_fingerprint",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(bind_tokens_to_passwords, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="apitoken",
            index=models.Index(fields=["user", "revoked_at"], name="accounts_apitoken_user_active"),
        ),
    ]
