"""Fixtures of the WhatsApp channel tests: the fake Graph API, a Cloud API channel, signed posts."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest
from django.conf import settings

from tests.messaging.fake_graph import FakeGraph

_SPEC_NAME = Path("shared") / "contracts" / "whatsapp-business-messaging-api_v23.0.yaml"
# /work/shared next to the lead's checkout (/work/main) and the helpers' worktrees (/work/wt/<name>).
SPEC = next((parent / _SPEC_NAME for parent in Path(__file__).resolve().parents if (parent / _SPEC_NAME).exists()),
            Path(__file__).resolve().parents[3] / _SPEC_NAME)
APP_SECRET = "meta-app-secret-0123456789"


@lru_cache(maxsize=1)
def spec() -> dict:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(SPEC, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=loader)


def webhook_examples() -> dict[str, dict]:
    content = spec()["paths"]["/whatsapp/webhooks"]["post"]["requestBody"]["content"]
    return {name: ex["value"] for media in content.values() for name, ex in (media.get("examples") or {}).items()}


def outbound_examples() -> dict[str, dict]:
    content = spec()["paths"]["/{Version}/{Phone-Number-ID}/messages"]["post"]["requestBody"]["content"]
    return {name: ex["value"] for media in content.values() for name, ex in (media.get("examples") or {}).items()}


@pytest.fixture(autouse=True)
def _clean_limits():
    """Rate-limit buckets and periodic-job locks are per test (Redis db of this suite, or in process)."""
    from django.core.cache import cache

    from messaging.ratelimit import reset_local

    reset_local()
    if settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        for key in client.scan_iter("fluxo:rl:*"):
            client.delete(key)
    try:
        cache.delete_many(["fluxo:lock:messages-requeue", "fluxo:lock:templates-sync", "fluxo:lock:webhooks-requeue"])
    except Exception:  # noqa: BLE001
        pass
    yield


@pytest.fixture
def fake_graph():
    graph = FakeGraph().start()
    yield graph
    graph.stop()


@pytest.fixture
def cloud_channel(db, fake_graph):
    from messaging.models import WhatsAppCloudChannel

    return WhatsAppCloudChannel.objects.create(
        name="Loja", phone_number_id=fake_graph.phone_number_id, waba_id=fake_graph.waba_id,
        display_phone_number="15550783881", access_token=fake_graph.token, app_secret=APP_SECRET,
        verify_token="verify-me-please", graph_api_base_url=fake_graph.base_url, graph_api_version="v23.0",
    )


@pytest.fixture
def eager_celery():
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    from messaging.webhooks import signature_expected

    return signature_expected(body, secret)


def meta_body(payload: dict) -> bytes:
    """Bytes as Meta sends them: compact JSON with non-ASCII escaped as \\uXXXX."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode()


def post_webhook(client, payload: dict | bytes, *, secret: str | None = APP_SECRET, signature: str | None = None):
    body = payload if isinstance(payload, bytes) else meta_body(payload)
    headers = {}
    if signature is not None:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature
    elif secret is not None:
        headers["HTTP_X_HUB_SIGNATURE_256"] = sign(body, secret)
    return client.post("/webhooks/whatsapp/", data=body, content_type="application/json", **headers)
