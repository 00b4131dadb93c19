"""Reads of campaigns: segment count and sample, the audience by exclusion reason, the estimate,
progress with rates, failures by reason, the recipients list and its CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from messaging.campaigns import limits
from messaging.campaigns.segments import segment_contacts
from messaging.campaigns.services import (
    _category,
    _messaged_by_campaign,
    campaign_audience,
    campaign_content,
    channel_counted_24h,
    exclusion_reason,
)
from messaging.models import Campaign, CampaignRecipient, Contact, Message

# What Meta's error codes mean for a campaign's recipient (shown with the failures by reason).
ERROR_MEANINGS = {
    "131049": "Meta did not deliver this marketing message, to keep the user's engagement healthy "
              "(per-user marketing limit); do not resend at once",
    "131050": "the user stopped marketing messages from this business; recorded as an opt-out",
    "131026": "the number is not on WhatsApp, or cannot receive this message",
    "131047": "outside the 24-hour window",
    "131056": "too many messages to this user in a short time (pair rate)",
    "130472": "the user's number is part of an experiment (not delivered)",
    "opted_out": "the contact opted out before it was sent",
}


def contact_card(contact: Contact) -> dict[str, Any]:
    return {"id": contact.pk, "phone": contact.phone, "name": contact.name, "attributes": contact.attributes,
            "last_inbound_at": contact.last_inbound_at.isoformat() if contact.last_inbound_at else None}


def segment_count_and_sample(definition: Any, *, sample: int = 10) -> dict[str, Any]:
    """The live count of a definition (raises SegmentInvalid) and a few contacts of it."""
    queryset = segment_contacts(definition)
    return {"count": queryset.count(), "sample": [contact_card(c) for c in queryset.order_by("-pk")[:sample]]}


def audience_breakdown(campaign: Campaign) -> dict[str, Any]:
    """Before start: how many the campaign reaches after exclusions, and the excluded by reason.

    Once planned (started), the recipients' rows answer; before, the audience is classified on
    the fly (nothing written).
    """
    reasons = {value: 0 for value in CampaignRecipient.Reason.values}
    if campaign.recipients.exists():
        rows = campaign.recipients.values("status", "reason").annotate(n=Count("id"))
        total = included = 0
        for row in rows:
            total += row["n"]
            if row["reason"]:
                reasons[row["reason"]] += row["n"]
            else:
                included += row["n"]
        in_window = campaign.recipients.filter(reason="", contact__last_inbound_at__gt=timezone.now()
                                               - limits.WINDOW).count()
        return {"total": total, "included": included, "excluded": reasons, "in_window": in_window,
                "planned": campaign.planned}
    category, messaged, seen = _category(campaign), _messaged_by_campaign(campaign), set()
    total = included = in_window = 0
    cutoff = timezone.now() - limits.WINDOW
    for pk, phone, consent, last in campaign_audience(campaign).order_by("pk").values_list(
            "pk", "phone", "consent", "last_inbound_at").iterator(chunk_size=2000):
        total += 1
        reason = exclusion_reason(phone=phone, consent=consent, category=category, seen=seen, messaged=messaged,
                                  contact_id=pk)
        if reason:
            reasons[reason] += 1
        else:
            included += 1
            in_window += bool(last and last > cutoff)
    return {"total": total, "included": included, "excluded": reasons, "in_window": in_window, "planned": False}


def campaign_estimate(campaign: Campaign, *, audience: dict[str, Any] | None = None) -> dict[str, Any]:
    """How long it takes within the channel's limits (and whether it spreads over days)."""
    from messaging.channel_cache import channel_get

    audience = audience or audience_breakdown(campaign)
    channel = channel_get(campaign.channel_id) if campaign.channel_id else None
    throughput = limits.channel_throughput(channel) if channel else limits.default_throughput()
    limit = limits.channel_messaging_limit(channel) if channel else None
    now = timezone.now()
    start = campaign.scheduled_at if campaign.scheduled_at and campaign.scheduled_at > now else now
    counted = channel_counted_24h(channel.pk, now) if channel else 0
    remaining = audience["included"]
    if campaign.recipients.exists():
        remaining = campaign.recipients.filter(status=CampaignRecipient.Status.PENDING).count()
    result = limits.estimate(recipients=remaining, in_window=min(audience.get("in_window", 0), remaining),
                             throughput=throughput, limit=limit, counted_24h=counted, start=start)
    data = result.as_dict()
    data["counted_24h"] = counted
    return data


def campaign_preview(campaign: Campaign, *, sample: int = 5) -> list[dict[str, Any]]:
    """The message each of a few sample contacts would get (variables filled in)."""
    if campaign.template_id is None:
        return []
    contacts = campaign_audience(campaign).order_by("pk")[:sample]
    return [{"contact": contact_card(c), "text": campaign_content(campaign=campaign, contact=c).get("rendered_text", "")}
            for c in contacts]


def campaign_progress(campaign: Campaign) -> dict[str, Any]:
    """Queued / sent / delivered / read / failed / replied, with rates, and failures by reason."""
    recipients = campaign.recipients
    counts = {"total": 0, "excluded": 0, "pending": 0, "queued": 0, "sending": 0, "sent": 0, "delivered": 0,
              "read": 0, "failed": 0}
    for row in recipients.values("status", "message__status").annotate(n=Count("id")):
        counts["total"] += row["n"]
        if row["status"] != CampaignRecipient.Status.QUEUED:
            counts[row["status"]] += row["n"]
            continue
        status = row["message__status"] or "queued"
        key = {"uncertain": "sending"}.get(status, status)
        counts[key if key in counts else "queued"] += row["n"]
    replied = recipients.filter(replied_at__isnull=False).count()
    # Cumulative: a read message was sent and delivered too.
    sent = counts["sent"] + counts["delivered"] + counts["read"]
    delivered = counts["delivered"] + counts["read"]
    to_send = counts["total"] - counts["excluded"]
    done = sent + counts["failed"]

    def rate(part: int, whole: int) -> float:
        return round(part / whole, 4) if whole else 0.0

    failures = [
        {"code": row["message__error_code"] or "unknown", "count": row["n"],
         "meaning": ERROR_MEANINGS.get(row["message__error_code"] or "", ""),
         "example": ""}
        for row in recipients.filter(message__status=Message.Status.FAILED).values("message__error_code")
        .annotate(n=Count("id")).order_by("-n")]
    return {"status": campaign.status, "pause_reason": campaign.pause_reason, "counts": {
        **counts, "sent_total": sent, "delivered_total": delivered, "replied": replied, "to_send": to_send},
        "progress": rate(done, to_send), "rates": {
            "delivered": rate(delivered, sent), "read": rate(counts["read"], sent),
            "failed": rate(counts["failed"], done), "replied": rate(replied, sent)},
        "failures": failures,
        "runs_started": recipients.filter(run_id__isnull=False).count()}


def recipient_list(campaign: Campaign, *, status: str | None = None, reason: str | None = None,
                   q: str | None = None) -> QuerySet[CampaignRecipient]:
    """The recipients, filtered by status (pending, excluded, queued, sent, delivered, read, failed,
    replied), exclusion reason and phone/name."""
    queryset = campaign.recipients.select_related("contact", "message").order_by("pk")
    if status in ("pending", "excluded"):
        queryset = queryset.filter(status=status)
    elif status == "replied":
        queryset = queryset.filter(replied_at__isnull=False)
    elif status in ("queued", "sending", "sent", "delivered", "read", "failed", "uncertain"):
        queryset = queryset.filter(status=CampaignRecipient.Status.QUEUED, message__status=status)
    if reason:
        queryset = queryset.filter(reason=reason)
    if q:
        queryset = queryset.filter(Q(contact__phone__icontains=q) | Q(contact__name__icontains=q))
    return queryset


def recipient_row(recipient: CampaignRecipient) -> dict[str, Any]:
    message = recipient.message
    status = recipient.status if recipient.status != CampaignRecipient.Status.QUEUED or message is None else message.status
    return {"id": recipient.pk, "contact_id": recipient.contact_id, "phone": recipient.contact.phone,
            "name": recipient.contact.name, "status": status, "reason": recipient.reason,
            "error_code": message.error_code if message else "", "error": message.error if message else "",
            "meaning": ERROR_MEANINGS.get(message.error_code, "") if message else "",
            "queued_at": recipient.queued_at.isoformat() if recipient.queued_at else None,
            "sent_at": message.sent_at.isoformat() if message and message.sent_at else None,
            "replied_at": recipient.replied_at.isoformat() if recipient.replied_at else None,
            "run_id": recipient.run_id}


def recipients_csv(queryset: QuerySet[CampaignRecipient]) -> str:
    from messaging.contacts import _csv_safe

    out = io.StringIO()
    writer = csv.writer(out)
    columns = ["phone", "name", "status", "reason", "error_code", "queued_at", "sent_at", "replied_at"]
    writer.writerow(columns)
    for recipient in queryset.iterator(chunk_size=2000):
        row = recipient_row(recipient)
        writer.writerow([_csv_safe(str(row[c] or "")) for c in columns])
    return out.getvalue()
