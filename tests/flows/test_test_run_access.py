"""Who may read a Test run: its starter and admins, in the REST API and on the websocket alike."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.testing.websocket import WebsocketCommunicator
from rest_framework.test import APIClient

from flows import testruns
from flows.consumers import TestRunConsumer
from tests.factories import chain, make_flow, make_user, node

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _started():
    owner = make_user("dona", role="editor")
    flow = make_flow(chain(node("t", "trigger", event="message", match="any"), node("hi", "send_message", text="Oi")),
                     publish=False)
    return owner, testruns.test_run_start(flow=flow, user=owner)


def _socket(test, user) -> tuple[bool, int | None]:
    async def attempt():
        communicator = WebsocketCommunicator(TestRunConsumer.as_asgi(), f"/ws/test-runs/{test.pk}/")
        communicator.scope["user"] = user
        communicator.scope["url_route"] = {"args": (), "kwargs": {"test_id": test.pk}}
        connected, code = await communicator.connect(timeout=5)
        if connected:
            await communicator.receive_json_from(timeout=5)  # the snapshot
            await communicator.disconnect()
        return connected, code

    return async_to_sync(attempt)()


def test_the_starter_and_admins_read_a_test_run_others_do_not():
    owner, test = _started()
    colleague, viewer = make_user("colega", role="editor"), make_user("vera", role="viewer")
    admin = make_user("chefe", role="admin")
    url = f"/api/test-runs/{test.pk}/"
    assert _client(owner).get(url).status_code == 200
    assert _client(admin).get(url).status_code == 200
    for other in (colleague, viewer):
        response = _client(other).get(url)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    # Driving it is the starter's (and admins') too.
    assert _client(colleague).post(f"{url}inbound/", {"text": "oi"}, format="json").status_code == 404
    assert _client(colleague).post(f"{url}stop/").status_code == 404
    assert _client(owner).post(f"{url}inbound/", {"text": "oi"}, format="json").status_code == 202


def test_the_websocket_applies_the_same_rule():
    owner, test = _started()
    assert _socket(test, owner)[0] is True
    assert _socket(test, make_user("chefe", role="admin"))[0] is True
    assert _socket(test, make_user("colega", role="editor")) == (False, 4403)
    assert _socket(test, make_user("vera", role="viewer")) == (False, 4403)
    assert _socket(test, make_user("ninguem", role=None)) == (False, 4403)
