"""The webhook verify token is a secret like the app secret: encrypted at rest, write-only in the API
and the admin form — and Meta's GET handshake still matches it."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from rest_framework.test import APIClient

from messaging.models import WhatsAppCloudChannel
from tests.factories import make_user

pytestmark = pytest.mark.django_db

TOKEN = "verify-me-please"


def _stored(channel) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT verify_token FROM messaging_whatsappcloudchannel WHERE channel_ptr_id = %s", [channel.pk])
        return cursor.fetchone()[0]


def test_the_column_holds_no_plaintext_and_the_handshake_still_works(client, cloud_channel):
    stored = _stored(cloud_channel)
    assert stored.startswith("fernet:") and TOKEN not in stored
    assert WhatsAppCloudChannel.objects.get(pk=cloud_channel.pk).verify_token == TOKEN
    response = client.get("/webhooks/whatsapp/", {"hub.mode": "subscribe", "hub.verify_token": TOKEN,
                                                  "hub.challenge": "42"})
    assert response.status_code == 200 and response.content == b"42"
    assert client.get("/webhooks/whatsapp/", {"hub.mode": "subscribe", "hub.verify_token": stored,
                                              "hub.challenge": "42"}).status_code == 403


def test_the_api_takes_it_but_never_gives_it_back(cloud_channel):
    admin = APIClient()
    admin.force_authenticate(make_user("root", role="admin"))
    for url in (f"/api/channels/{cloud_channel.pk}/", f"/api/channels/{cloud_channel.pk}/health/", "/api/channels/"):
        body = admin.get(url).content.decode()
        assert TOKEN not in body, url
    changed = admin.patch(f"/api/channels/{cloud_channel.pk}/health/", {"verify_token": "novo-token-de-verificacao"},
                          format="json")
    assert changed.status_code == 200, changed.content
    assert "novo-token-de-verificacao" not in changed.content.decode()
    cloud_channel.refresh_from_db()
    assert cloud_channel.verify_token == "novo-token-de-verificacao"
    # A blank value keeps the stored one (forms never echo it).
    admin.patch(f"/api/channels/{cloud_channel.pk}/health/", {"verify_token": ""}, format="json")
    cloud_channel.refresh_from_db()
    assert cloud_channel.verify_token == "novo-token-de-verificacao"


def test_the_admin_form_shows_it_masked_and_blank_keeps_it(admin_client, cloud_channel):
    url = f"/admin/messaging/whatsappcloudchannel/{cloud_channel.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert TOKEN not in page
    assert 'name="verify_token"' in page and 'type="password"' in page


def test_the_migration_encrypts_existing_plain_values(cloud_channel):
    migration = importlib.import_module("messaging.migrations.0006_verify_token_encrypted")
    with connection.cursor() as cursor:  # a row as the previous schema stored it
        cursor.execute("UPDATE messaging_whatsappcloudchannel SET verify_token = %s WHERE channel_ptr_id = %s",
                       [TOKEN, cloud_channel.pk])
    assert migration.verify_tokens_encrypt(connection) == 1
    assert migration.verify_tokens_encrypt(connection) == 0  # idempotent
    assert _stored(cloud_channel).startswith("fernet:")
    assert WhatsAppCloudChannel.objects.get(pk=cloud_channel.pk).verify_token == TOKEN
    assert migration.verify_tokens_decrypt(connection) == 1 and _stored(cloud_channel) == TOKEN
