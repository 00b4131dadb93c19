"""Channel health on the dashboard: Meta's quality rating and messaging limit tier, asked hourly,
through the Cloud API client (whose calls the metrics hook times)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core import metrics as core_metrics
from flows.channel_health import channels_health_sync
from flows.models import ChannelHealth
from flows.stats import channels_state
from messaging.models import WhatsAppCloudChannel

pytestmark = pytest.mark.django_db

TOKEN = "EAAG-health-token"


class PhoneNumber(BaseHTTPRequestHandler):
    """GET /v23.0/{phone-number-id}?fields=...: the answer of Meta's example (quality GREEN, TIER_1K)."""

    def do_GET(self):  # noqa: N802
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            status, body = 401, {"error": {"code": 190, "message": "Invalid OAuth access token."}}
        elif self.path.startswith("/v23.0/106540352242922?"):
            status, body = 200, {"id": "106540352242922", "quality_rating": "GREEN",
                                 "messaging_limit_tier": "TIER_1K", "status": "CONNECTED"}
        else:
            status, body = 404, {"error": {"code": 100, "message": "Unknown path"}}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def graph_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), PhoneNumber)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    core_metrics.metrics_reset()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    core_metrics.metrics_reset()


def _channel(url: str, token: str = TOKEN) -> WhatsAppCloudChannel:
    return WhatsAppCloudChannel.objects.create(name="Loja", phone_number_id="106540352242922", waba_id="419561257915477",
                                               access_token=token, graph_api_base_url=url, graph_api_version="v23.0")


def test_quality_and_tier_are_read_from_meta_and_shown(graph_url):
    channel = _channel(graph_url)
    assert channels_health_sync() == 1
    health = ChannelHealth.objects.get(channel=channel)
    assert (health.quality_rating, health.messaging_limit_tier, health.number_status) == ("GREEN", "TIER_1K", "CONNECTED")
    shown = next(c for c in channels_state() if c["id"] == channel.pk)
    assert shown["quality_rating"] == "GREEN" and shown["messaging_limit_tier"] == "TIER_1K"
    assert core_metrics.graph_api_snapshot()["calls"] == {"ok": 1.0}  # the client's hook timed the call


def test_a_refused_answer_keeps_the_last_one_and_the_error(graph_url):
    channel = _channel(graph_url)
    channels_health_sync()
    WhatsAppCloudChannel.objects.filter(pk=channel.pk).update(access_token="expired")
    assert channels_health_sync() == 0
    health = ChannelHealth.objects.get(channel=channel)
    assert health.quality_rating == "GREEN" and "token" in health.error
    assert core_metrics.graph_api_snapshot()["calls"]["190"] == 1
