"""What Meta says of each WhatsApp number (quality rating, messaging limit tier), asked hourly.

Shown on the dashboard's channel panel. A number Meta will not describe keeps its last answer
and the error, and is asked again next hour.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from flows.models import ChannelHealth

logger = logging.getLogger(__name__)


def channels_health_sync() -> int:
    """Refresh ChannelHealth of every active Cloud API channel. Returns how many answered.

    The Graph API call happens outside any transaction; each answer is one small write.
    """
    from messaging.models import WhatsAppCloudChannel
    from messaging.providers.base import ProviderError
    from messaging.providers.whatsapp_cloud import CloudClient

    answered = 0
    for channel in WhatsAppCloudChannel.objects.filter(is_active=True):
        health, _ = ChannelHealth.objects.get_or_create(channel=channel)
        try:
            data = CloudClient.for_channel(channel).phone_number_health()
        except ProviderError as exc:
            health.error, health.checked_at = exc.message[:1000], timezone.now()
            health.save(update_fields=["error", "checked_at"])
            logger.warning("channel %s health not read: %s", channel.pk, exc.message)
            continue
        health.quality_rating = str(data.get("quality_rating") or "")[:16]
        health.messaging_limit_tier = str(data.get("messaging_limit_tier") or "")[:32]
        health.number_status = str(data.get("status") or "")[:32]
        health.checked_at, health.error = timezone.now(), ""
        health.save()
        answered += 1
    return answered
