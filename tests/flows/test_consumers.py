"""The Test-run websocket: snapshot on connect, then steps, messages and run changes live."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing.websocket import WebsocketCommunicator

from config.asgi import application
from flows import testruns
from flows.consumers import TestRunConsumer
from flows.services import contact_events_process
from tests.factories import definition, edge, make_flow, make_user, node

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


def _flow():
    return make_flow(definition(
        [node("t", "trigger", event="message", match="any"),
         node("hello", "send_message", text="Olá! Como posso ajudar?"),
         node("wait", "wait_for_reply", timeout={"value": 2, "unit": "hours"}, save_as="answer"),
         node("ack", "send_message", text="Recebi: {{vars.answer}}"),
         node("late", "end", reason="sem resposta")],
        [edge("t", "hello"), edge("hello", "wait"), edge("wait", "ack", "reply"), edge("wait", "late", "timeout")],
    ), publish=False)


async def _receive_until(communicator, predicate, limit=60):
    seen = []
    for _ in range(limit):
        message = await communicator.receive_json_from(timeout=5)
        seen.append(message)
        if predicate(message, seen):
            return seen
    raise AssertionError(f"never saw the expected message; got {seen}")


def _connect(test, user):
    communicator = WebsocketCommunicator(TestRunConsumer.as_asgi(), f"/ws/test-runs/{test.pk}/")
    communicator.scope["user"] = user
    communicator.scope["url_route"] = {"args": (), "kwargs": {"test_id": test.pk}}
    return communicator


def test_trace_streams_steps_messages_and_run_changes():
    user = make_user("tester", role="editor")
    test = testruns.test_run_start(flow=_flow(), user=user)

    async def scenario():
        communicator = _connect(test, user)
        connected, _ = await communicator.connect()
        assert connected
        snapshot = await communicator.receive_json_from(timeout=5)
        assert snapshot["type"] == "snapshot" and snapshot["run"] is None and snapshot["messages"] == []

        await sync_to_async(testruns.test_run_inbound)(test=test, text="oi")
        await sync_to_async(contact_events_process)(contact_id=test.contact_id)
        seen = await _receive_until(communicator, lambda m, s: m["type"] == "run" and (m["run"] or {}).get("status") == "waiting")
        steps = [m["step"]["node_id"] for m in seen if m["type"] == "step"]
        texts = [m["message"]["content"].get("rendered_text") or m["message"]["content"].get("text", {}).get("body")
                 for m in seen if m["type"] == "message"]
        assert steps[:3] == ["t", "hello", "wait"]
        assert "oi" in texts and "Olá! Como posso ajudar?" in texts

        await sync_to_async(testruns.test_run_inbound)(test=test, text="meu pedido")
        await sync_to_async(contact_events_process)(contact_id=test.contact_id)
        seen = await _receive_until(communicator, lambda m, s: m["type"] == "run" and m["run"]["status"] == "completed")
        assert any(m["type"] == "step" and m["step"]["node_id"] == "ack" for m in seen)
        assert any(m["type"] == "message" and m["message"]["content"].get("rendered_text") == "Recebi: meu pedido"
                   for m in seen)
        await communicator.disconnect()

    async_to_sync(scenario)()


def test_fast_forward_fires_the_timeout_and_the_trace_shows_it():
    user = make_user("tester", role="editor")
    test = testruns.test_run_start(flow=_flow(), user=user)
    testruns.test_run_inbound(test=test, text="oi")
    contact_events_process(contact_id=test.contact_id)

    async def scenario():
        communicator = _connect(test, user)
        await communicator.connect()
        await communicator.receive_json_from(timeout=5)
        await sync_to_async(test.refresh_from_db)()
        assert await sync_to_async(testruns.test_run_fast_forward)(test=test)
        await sync_to_async(contact_events_process)(contact_id=test.contact_id)
        seen = await _receive_until(communicator, lambda m, s: m["type"] == "run" and m["run"]["status"] == "completed")
        ports = [(m["step"]["node_id"], m["step"]["port"]) for m in seen if m["type"] == "step"]
        assert ("wait", "timeout") in ports and ("late", "") in ports
        await communicator.disconnect()

    async_to_sync(scenario)()


def test_anonymous_and_roleless_users_are_refused():
    owner = make_user("owner", role="editor")
    nobody = make_user("nobody", role=None)
    test = testruns.test_run_start(flow=_flow(), user=owner)

    async def scenario(user):
        communicator = _connect(test, user)
        connected, code = await communicator.connect()
        assert not connected and code == 4403

    from django.contrib.auth.models import AnonymousUser

    async_to_sync(scenario)(AnonymousUser())
    async_to_sync(scenario)(nobody)


def test_websocket_route_is_served_by_the_asgi_application():
    user = make_user("tester", role="viewer")
    test = testruns.test_run_start(flow=_flow(), user=user)

    async def scenario():
        communicator = WebsocketCommunicator(application, f"/ws/test-runs/{test.pk}/",
                                             headers=[(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")])
        connected, code = await communicator.connect()
        # No session cookie: the route exists and the consumer refuses the anonymous user.
        assert not connected and code == 4403

    async_to_sync(scenario)()


def test_the_chat_sees_a_sent_messages_status_change_not_only_its_first_one():
    """A reply is pushed while still queued; once the sender delivers it the chat gets it again as
    delivered (as the sandbox phone shows it), and a settled message is not pushed over and over."""
    from messaging.models import Message
    from messaging.outbound import messages_drain, outbound_shard

    user = make_user("tester", role="editor")
    test = testruns.test_run_start(flow=_flow(), user=user)

    async def scenario():
        communicator = _connect(test, user)
        connected, _ = await communicator.connect()
        assert connected
        await communicator.receive_json_from(timeout=5)  # the snapshot
        await sync_to_async(testruns.test_run_inbound)(test=test, text="oi")
        await sync_to_async(contact_events_process)(contact_id=test.contact_id)
        seen = await _receive_until(communicator, lambda m, s: m["type"] == "message" and m["message"]["direction"]
                                    == "out")
        hello = next(m["message"] for m in seen if m["type"] == "message" and m["message"]["direction"] == "out")
        assert hello["status"] == "queued"  # nothing has sent it yet (no worker in this test)

        await sync_to_async(messages_drain)(shard=outbound_shard(test.contact_id))
        assert await sync_to_async(lambda: Message.objects.get(pk=hello["id"]).status)() == "delivered"
        seen = await _receive_until(communicator, lambda m, s: m["type"] == "message"
                                    and m["message"]["id"] == hello["id"] and m["message"]["status"] == "delivered")
        await communicator.send_json_to({"type": "sync"})
        await communicator.send_json_to({"type": "sync"})
        assert await communicator.receive_nothing(timeout=1.5)  # settled: polls and syncs push nothing more
        await communicator.disconnect()

    async_to_sync(scenario)()
