"""Property-based: Meta's webhook never answers 5xx, and the inbound drain never loops on what it stored.

* A validly signed body of any shape (Meta's payload with a wrong type in any field, deep nesting,
  NUL, lone surrogates, bytes that are not JSON) is answered 200 and stored.
* Without a signature it is 401, with a wrong one 403, and nothing is stored.
* Each stored delivery then goes through the inbound task (eagerly, retries included): no exception
  escapes, and the delivery ends processed, unreadable, unknown_channel or failed with a reason —
  never left pending.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from messaging.models import WebhookDelivery
from tests.messaging.conftest import post_webhook, sign
from tests.strategies import deep, hostile_bodies, webhook_bodies

pytestmark = pytest.mark.django_db

PHONE_NUMBER_ID = "106540352242922"  # the fake Graph API's number (tests/messaging/fake_graph.py)
FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
SETTLED = {WebhookDelivery.State.PROCESSED, WebhookDelivery.State.UNREADABLE, WebhookDelivery.State.UNKNOWN_CHANNEL,
           WebhookDelivery.State.FAILED}


@pytest.fixture
def quick_parking(settings):
    settings.WHATSAPP_DELIVERY_MAX_ATTEMPTS = 2


def _drained(delivery: WebhookDelivery) -> WebhookDelivery:
    """Run the inbound task on a stored delivery as a worker would (eager: its retries run at once)."""
    from messaging.tasks import inbound_delivery_process

    if delivery.state == WebhookDelivery.State.PENDING:
        result = inbound_delivery_process.apply(args=(delivery.pk, delivery.sender))
        assert result.successful(), result.traceback
    delivery.refresh_from_db()
    return delivery


def test_the_fuzzed_channel_is_the_fake_graphs(cloud_channel):
    assert cloud_channel.phone_number_id == PHONE_NUMBER_ID


@FUZZ
@given(body=webhook_bodies(PHONE_NUMBER_ID))
@example(body=(deep(900, leaf='"\\u0000"')).encode())
@example(body=b'{"entry": [{"changes": [{"field": "messages", "value": {"metadata": {"phone_number_id": "'
         + PHONE_NUMBER_ID.encode() + b'"}, "contacts": [{"profile": "Ana", "wa_id": "5511987654321"}], '
         b'"messages": [{"from": "5511987654321", "id": "wamid.X1", "type": "text", "text": {"body": "oi\\u0000"}}]}}]}]}')
@example(body=b'{"entry": [{"changes": [{"field": "messages", "value": {"metadata": "' + PHONE_NUMBER_ID.encode()
         + b'"}}]}]}')
@example(body=b'{"entry": 5}')
@example(body=b'{"entry": [{"changes": 7}]}')
def test_a_validly_signed_body_is_stored_with_200_and_drained_to_an_end(client, cloud_channel, quick_parking, body):
    before = WebhookDelivery.objects.count()
    response = post_webhook(client, body)
    assert response.status_code == 200, (response.status_code, body[:200])
    assert WebhookDelivery.objects.count() == before + 1
    delivery = _drained(WebhookDelivery.objects.order_by("-id").first())
    assert delivery.state in SETTLED, (delivery.state, delivery.error, body[:200])
    if delivery.state == WebhookDelivery.State.FAILED:
        assert delivery.error, "a parked delivery says why"


@FUZZ
@given(body=hostile_bodies(), signature=st.one_of(st.none(), st.sampled_from(
    ["", "sha256=", "sha256=00", "md5=abc", "sha256=" + "0" * 64, "\x00"]), st.text(max_size=80)))
def test_an_unsigned_or_wrongly_signed_body_is_refused_and_not_stored(client, cloud_channel, body, signature):
    before = WebhookDelivery.objects.count()
    headers = {} if signature is None else {"HTTP_X_HUB_SIGNATURE_256": signature}
    response = client.post("/webhooks/whatsapp/", data=body, content_type="application/json", **headers)
    assert response.status_code == (401 if not signature else 403), (response.status_code, signature)
    assert WebhookDelivery.objects.count() == before


@FUZZ
@given(body=hostile_bodies())
def test_a_body_signed_with_another_secret_is_refused(client, cloud_channel, body):
    before = WebhookDelivery.objects.count()
    response = post_webhook(client, body, signature=sign(body, "not-the-app-secret"))
    assert response.status_code == 403
    assert WebhookDelivery.objects.count() == before


@FUZZ
@given(params=st.dictionaries(st.sampled_from(["hub.mode", "hub.verify_token", "hub.challenge", "other"]),
                              st.text(max_size=60), max_size=4))
def test_the_handshake_answers_200_or_403_whatever_the_query(client, cloud_channel, params):
    response = client.get("/webhooks/whatsapp/", params)
    expected = 200 if params.get("hub.mode") == "subscribe" and params.get("hub.verify_token") == "verify-me-please" \
        else 403
    assert response.status_code == expected
