"""The WhatsApp fixtures (fake Graph API, a Cloud API channel, clean rate limits) for campaign tests."""

from tests.messaging.conftest import _clean_limits, cloud_channel, eager_celery, fake_graph  # noqa: F401
