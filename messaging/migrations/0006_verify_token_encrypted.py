"""The channel's webhook verify token is encrypted at rest, like its access token and app secret.

The column becomes text holding ``fernet:<token>``; existing plain values are encrypted in place
(raw SQL: the model field would try to decrypt them on read). Reversible: decrypts them back.
"""

from django.db import migrations

import core.crypto

TABLE = "messaging_whatsappcloudchannel"


def verify_tokens_encrypt(connection) -> int:
    """Encrypt every plain verify token in the table. Returns how many were encrypted (idempotent)."""
    from core.crypto import ENCRYPTED_PREFIX, encrypt_text

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT channel_ptr_id, verify_token FROM {TABLE} WHERE verify_token <> ''")
        rows = [(pk, value) for pk, value in cursor.fetchall() if not value.startswith(ENCRYPTED_PREFIX)]
        for pk, value in rows:
            cursor.execute(f"UPDATE {TABLE} SET verify_token = %s WHERE channel_ptr_id = %s", [encrypt_text(value), pk])
    return len(rows)


def verify_tokens_decrypt(connection) -> int:
    from core.crypto import ENCRYPTED_PREFIX, decrypt_text

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT channel_ptr_id, verify_token FROM {TABLE} WHERE verify_token <> ''")
        rows = [(pk, value) for pk, value in cursor.fetchall() if value.startswith(ENCRYPTED_PREFIX)]
        for pk, value in rows:
            cursor.execute(f"UPDATE {TABLE} SET verify_token = %s WHERE channel_ptr_id = %s", [decrypt_text(value), pk])
    return len(rows)


def forwards(apps, schema_editor):
    verify_tokens_encrypt(schema_editor.connection)


def backwards(apps, schema_editor):
    verify_tokens_decrypt(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ('messaging', '0005_execution_path'),
    ]

    operations = [
        migrations.AlterField(
            model_name='whatsappcloudchannel',
            name='verify_token',
            field=core.crypto.EncryptedTextField(blank=True, verbose_name='verify token'),
        ),
        migrations.RunPython(forwards, backwards),
    ]
