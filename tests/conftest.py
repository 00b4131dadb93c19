"""Shared fixtures. Real services: PostgreSQL and Redis (see config/test_settings.py)."""

from __future__ import annotations

import pytest
from django.conf import settings


def pytest_collection_modifyitems(config, items):
    """Tests marked postgres/redis skip only outside CI when the server is missing; under CI the
    settings module has already refused to start without them."""
    skip_pg = pytest.mark.skip(reason="PostgreSQL not reachable on 127.0.0.1:5432")
    skip_redis = pytest.mark.skip(reason="Redis not reachable on 127.0.0.1:6379")
    for item in items:
        if "postgres" in item.keywords and not settings.FLUXO_TEST_HAS_POSTGRES:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not settings.FLUXO_TEST_HAS_REDIS:
            item.add_marker(skip_redis)


@pytest.fixture(autouse=True)
def _process_caches_cleared():
    """Caches a process keeps for the hot path (channels, secrets, trigger index, subscriptions) start empty:
    a test's database is new, and a truncate sends no signal to invalidate them."""
    from core.secrets import secrets_forget
    from flows.triggers import trigger_index_forget
    from integrations.webhooks.services import subscriptions_forget
    from messaging.channel_cache import channels_forget

    channels_forget()
    trigger_index_forget()
    subscriptions_forget()
    secrets_forget()
    yield
    channels_forget()
    trigger_index_forget()
    subscriptions_forget()
    secrets_forget()


@pytest.fixture(autouse=True)
def _kick_flags_cleared():
    """Drain wake-up flags (core.kick), metrics counters and sign-in throttle counts live in Redis: each
    test starts with none.

    (A Graph API error counted by an earlier test would otherwise open a "Graph errors" alert in a
    later one.)
    """
    if settings.FLUXO_TEST_HAS_REDIS:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        # Sign-in throttle counts (core/throttling.py) live in the cache too.
        keys = list(client.scan_iter("fluxo:kick:*")) + list(client.scan_iter("*throttle_login_*"))
        if keys:
            client.delete(*keys)
    else:
        from django.core.cache import cache

        cache.clear()  # local memory: the throttle counts
    from core.metrics import metrics_reset

    metrics_reset()
    yield


@pytest.fixture
def channel(db):
    from tests.factories import make_channel

    return make_channel()


@pytest.fixture
def contact(channel):
    from tests.factories import make_contact

    return make_contact(channel=channel)


@pytest.fixture
def editor(db):
    from tests.factories import make_user

    return make_user("editor", role="editor")


@pytest.fixture
def api(editor):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(editor)
    return client


@pytest.fixture
def workers():
    """Start real Celery worker processes on the test database: ``workers("w1", **env)``.

    The queue is purged before and after, and every worker is stopped at the end.
    """
    from tests.workers import purge_queue, start_worker

    purge_queue()
    started = []

    def start(name: str, **env):
        proc = start_worker(name, **env)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()
    purge_queue()
