"""The channel pages' writes and reads: connect a WhatsApp Cloud API number, check its token against
the Graph API, replace its secrets, and tell whether Meta's webhooks arrive.

No network I/O inside a transaction: the Graph call happens first, its result is saved after.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max
from django.utils import timezone

from messaging.models import Channel, WebhookDelivery, WhatsAppCloudChannel
from messaging.providers.base import ProviderError

UPDATABLE = {"name", "display_phone_number", "access_token", "app_secret", "verify_token", "graph_api_base_url",
             "graph_api_version", "messages_per_second", "is_active", "read_receipts", "typing_indicator"}


@dataclass
class CheckResult:
    ok: bool
    error: str = ""
    code: str = ""
    info: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "error": self.error, "code": self.code, "info": self.info or {}}


def verify_token_generate() -> str:
    """A fresh verify token to paste in Meta's dashboard (URL-safe, 32 characters)."""
    return secrets.token_urlsafe(24)


def graph_check(*, phone_number_id: str, access_token: str, graph_api_base_url: str = "",
                graph_api_version: str = "") -> CheckResult:
    """Ask the Graph API about the number with this token (``GET /{phone-number-id}``)."""
    from messaging.providers.whatsapp_cloud import CloudClient

    field_defaults = WhatsAppCloudChannel._meta
    client = CloudClient(
        base_url=graph_api_base_url or field_defaults.get_field("graph_api_base_url").default,
        version=graph_api_version or field_defaults.get_field("graph_api_version").default,
        phone_number_id=phone_number_id, waba_id="", access_token=access_token, timeout=(3.05, 10.0))
    try:
        data = client.phone_number_info()
    except ProviderError as exc:
        return CheckResult(ok=False, error=exc.message, code=exc.code)
    info = {"display_phone_number": data.get("display_phone_number", ""),
            "verified_name": data.get("verified_name", ""), "quality_rating": data.get("quality_rating", ""),
            "messaging_limit_tier": data.get("messaging_limit_tier", ""),
            "throughput_level": (data.get("throughput") or {}).get("level", ""),
            "name_status": data.get("name_status", ""),
            "code_verification_status": data.get("code_verification_status", "")}
    return CheckResult(ok=True, info=info)


def channel_check(*, channel: WhatsAppCloudChannel) -> CheckResult:
    """Check the stored token and keep what the Graph API said (name, quality, limits) on the channel."""
    result = graph_check(phone_number_id=channel.phone_number_id, access_token=channel.access_token,
                         graph_api_base_url=channel.graph_api_base_url, graph_api_version=channel.graph_api_version)
    fields: dict[str, Any] = {"checked_at": timezone.now(), "check_error": result.error}
    if result.ok and result.info:
        for name in ("verified_name", "quality_rating", "messaging_limit_tier", "throughput_level"):
            fields[name] = result.info.get(name, "")
        if result.info.get("display_phone_number") and not channel.display_phone_number:
            fields["display_phone_number"] = result.info["display_phone_number"]
    WhatsAppCloudChannel.objects.filter(pk=channel.pk).update(**fields)
    for name, value in fields.items():
        setattr(channel, name, value)
    if result.ok and str(fields.get("quality_rating", "")).upper() in ("RED", "FLAGGED", "LOW"):
        from messaging.campaigns.services import channel_quality_record

        # The Graph API's status check says what a missed webhook would have: pause its campaigns.
        channel_quality_record(channel=channel, quality=fields["quality_rating"],
                               tier=fields.get("messaging_limit_tier", ""), source="status check")
    return result


def channel_update(*, channel: Channel, **changes: Any) -> Channel:
    """Change a channel's settings. A blank secret keeps the stored one (secrets are write-only)."""
    values = {key: value for key, value in changes.items() if key in UPDATABLE}
    for secret in ("access_token", "app_secret", "verify_token"):
        if values.get(secret) in (None, ""):
            values.pop(secret, None)
    for key, value in values.items():
        if not hasattr(channel, key):
            continue
        setattr(channel, key, value)
    channel.full_clean()
    channel.save()
    return channel


def webhook_arrivals(*, channel: Channel) -> dict[str, Any]:
    """Whether Meta's webhooks reach this channel: how many, the last one, the last failure."""
    deliveries = WebhookDelivery.objects.filter(channel=channel)
    totals = deliveries.aggregate(count=Count("id"), last=Max("received_at"))
    last_failed = deliveries.filter(state__in=["failed", "unreadable"]).order_by("-id").first()
    unknown = WebhookDelivery.objects.filter(state="unknown_channel").order_by("-id").first()
    return {
        "count": totals["count"] or 0,
        "last_received_at": totals["last"].isoformat() if totals["last"] else None,
        "last_error": last_failed.error if last_failed else "",
        # A delivery for a phone number id no channel owns often means a typo in the number id.
        "unknown_channel_at": unknown.received_at.isoformat() if unknown else None,
    }
