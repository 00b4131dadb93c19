"""The sandbox phone's websocket: the chat on connect, then new messages and status changes live."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing.websocket import WebsocketCommunicator

from messaging.consumers import SandboxConsumer
from messaging.models import Message, SandboxChannel
from tests.factories import make_contact, make_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


def _connect(contact, user):
    communicator = WebsocketCommunicator(SandboxConsumer.as_asgi(), f"/ws/sandbox/{contact.pk}/")
    communicator.scope["user"] = user
    communicator.scope["url_route"] = {"args": (), "kwargs": {"contact_id": contact.pk}}
    return communicator


async def _next_messages(communicator):
    data = await communicator.receive_json_from(timeout=5)
    assert data["type"] == "messages"
    return data["messages"]


def test_chat_is_pushed_as_it_changes():
    from messaging.services import message_deliver_attempt, message_queue_outbound
    from messaging.webhooks import sandbox_inbound_submit, webhook_delivery_process

    channel = SandboxChannel.objects.create(name="Sandbox")
    contact = make_contact(channel=channel, name="Maria Silva")
    Message.objects.create(direction="in", kind="text", content={"type": "text", "text": {"body": "oi"}},
                           contact=contact, channel=channel, status="received")
    user = make_user("op", role="editor")

    async def scenario():
        communicator = _connect(contact, user)
        connected, _ = await communicator.connect()
        assert connected
        assert [m["text"] for m in await _next_messages(communicator)] == ["oi"]

        message = await sync_to_async(message_queue_outbound)(
            contact=contact, conversation=None, kind="text", content={"text": {"body": "Olá!"}}, idempotency_key="x")
        queued = await _next_messages(communicator)
        assert [(m["text"], m["status"]) for m in queued] == [("Olá!", "queued")]
        await sync_to_async(message_deliver_attempt)(message_id=message.pk)
        delivered = await _next_messages(communicator)
        assert [(m["id"], m["status"]) for m in delivered] == [(message.pk, "delivered")]

        delivery = await sync_to_async(sandbox_inbound_submit)(contact=contact, text="tudo bem?")
        await sync_to_async(webhook_delivery_process)(delivery_id=delivery.pk)
        assert [m["text"] for m in await _next_messages(communicator)] == ["tudo bem?"]
        await communicator.disconnect()

    import asyncio

    asyncio.run(scenario())


def test_strangers_and_other_channels_are_refused(cloud_channel):
    channel = SandboxChannel.objects.create(name="Sandbox")
    sandbox_contact = make_contact(channel=channel)
    real = make_contact(phone="+5511987600001", channel=cloud_channel)
    viewer = make_user("vi", role="viewer")
    nobody = make_user("no", role=None)

    async def attempt(contact, user):
        communicator = _connect(contact, user)
        connected, code = await communicator.connect()
        await communicator.disconnect()
        return connected, code

    import asyncio

    assert asyncio.run(attempt(sandbox_contact, viewer))[0] is True
    assert asyncio.run(attempt(real, viewer)) == (False, 4403)
    assert asyncio.run(attempt(sandbox_contact, nobody)) == (False, 4403)
