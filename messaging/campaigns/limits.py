"""WhatsApp's sending limits for campaigns, as pure functions (an injectable clock, no I/O).

Three limits apply (docs/campaigns.md, "Limits"):

* **throughput** of the sender number: messages per second (Meta's default 80, up to 1,000;
  ``WhatsAppCloudChannel.messages_per_second``);
* **pair rate**: about one message every 6 seconds to one user (error 131056;
  ``WHATSAPP_RECIPIENT_INTERVAL``);
* **messaging limit**: unique users *outside their customer service window* a business may
  start conversations with in a moving 24 hours — 250, 2,000, 10,000, 100,000 or unlimited (the
  channel's tier, or ``WhatsAppCloudChannel.messaging_limit``). Recipients who wrote in the last
  24 hours do not count.

The feeder (:mod:`messaging.campaigns.services`) reads the inputs from the database and asks
:func:`feed_allowance` how many to queue now; the campaign page asks :func:`estimate`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

Clock = Callable[[], datetime]
WINDOW = timedelta(hours=24)
TIERS: dict[str, int | None] = {
    "TIER_50": 50, "TIER_250": 250, "TIER_1K": 1000, "TIER_2K": 2000, "TIER_10K": 10000, "TIER_100K": 100000,
    "TIER_UNLIMITED": None, "UNLIMITED": None,
}


def default_throughput() -> float:
    return float(getattr(settings, "WHATSAPP_SENDER_RATE", 80))


def pair_interval() -> float:
    return float(getattr(settings, "WHATSAPP_RECIPIENT_INTERVAL", 6))


def channel_throughput(channel) -> float:
    """Messages per second the channel may send (its own setting, else the default 80/s)."""
    rate = getattr(channel, "messages_per_second", None)
    return float(rate) if rate else default_throughput()


def channel_messaging_limit(channel) -> int | None:
    """Unique users outside the window per moving 24 h: the channel's override, its tier, else the
    configured default (``WHATSAPP_DEFAULT_MESSAGING_LIMIT``). None is unlimited (and the sandbox)."""
    if getattr(channel, "provider_key", "") == "sandbox":
        return None
    override = getattr(channel, "messaging_limit", None)
    if override:
        return int(override)
    tier = str(getattr(channel, "messaging_limit_tier", "") or "").upper()
    if tier in TIERS:
        return TIERS[tier]
    default = getattr(settings, "WHATSAPP_DEFAULT_MESSAGING_LIMIT", 250)
    return int(default) if default else None


def tier_remaining(*, limit: int | None, counted_24h: int) -> int | None:
    """How many more users outside their window may be messaged now (None: no limit)."""
    if limit is None:
        return None
    return max(0, limit - counted_24h)


def tier_next_free_at(*, counted_at: Iterable[datetime], limit: int | None, clock: Clock = timezone.now
                      ) -> datetime | None:
    """When the moving 24 hours frees a place again (the oldest counted send leaves the window).

    None when a place is free now (or there is no limit).
    """
    if limit is None:
        return None
    now = clock()
    recent = sorted(at for at in counted_at if now - at < WINDOW)
    if len(recent) < limit:
        return None
    return recent[len(recent) - limit] + WINDOW


def pair_wait(*, last_sent_at: datetime | None, clock: Clock = timezone.now, interval: float | None = None) -> float:
    """Seconds before the same user may get another message (0 when now)."""
    if last_sent_at is None:
        return 0.0
    gap = interval if interval is not None else pair_interval()
    return max(0.0, gap - (clock() - last_sent_at).total_seconds())


def feed_allowance(*, throughput: float, interval: float, in_flight: int, buffer_intervals: float = 2.0) -> int:
    """How many recipients the feeder may queue now, by throughput.

    Enough to keep the sender busy for ``buffer_intervals`` feeder ticks (the outbound drain does the
    per-second pacing with its token bucket), minus what is queued and not yet sent; a small queue
    keeps conversational replies ahead and a pause quick. The messaging limit is applied per
    recipient by the caller (:func:`tier_remaining`: only those outside their window count).
    """
    return max(0, int(math.ceil(throughput * interval * buffer_intervals)) - in_flight)


@dataclass(frozen=True)
class Estimate:
    recipients: int
    counted: int  # outside their window: they count toward the messaging limit
    throughput: float
    limit: int | None
    seconds: float
    days: int  # calendar days of 24 h the sending spans (1 when it fits in the first)
    spreads_over_days: bool
    finishes_at: datetime

    def as_dict(self) -> dict:
        return {"recipients": self.recipients, "counted_in_limit": self.counted, "throughput": self.throughput,
                "messaging_limit": self.limit, "seconds": round(self.seconds, 1), "days": self.days,
                "spreads_over_days": self.spreads_over_days, "finishes_at": self.finishes_at.isoformat()}


def estimate(*, recipients: int, in_window: int, throughput: float, limit: int | None, counted_24h: int = 0,
             start: datetime | None = None, clock: Clock = timezone.now) -> Estimate:
    """How long sending ``recipients`` takes: throughput, and the messaging limit over moving 24 hours.

    Recipients inside their window go at the throughput's pace; the others take the places the limit
    leaves now, then ``limit`` more each 24 hours (the places used by earlier sends free up as they
    leave the window; this assumes they free up after 24 hours at the latest).
    """
    start = start or clock()
    throughput = max(throughput, 0.001)
    counted = max(0, recipients - in_window)
    send_seconds = recipients / throughput
    days, seconds = 1, send_seconds
    if limit is not None and counted:
        first = max(0, limit - counted_24h)
        if counted > first:
            rest = counted - first
            extra_days = math.ceil(rest / limit) if limit else 0
            last_chunk = rest - (extra_days - 1) * limit
            days = 1 + extra_days
            seconds = extra_days * WINDOW.total_seconds() + last_chunk / throughput
            if limit == 0:
                days, seconds = 0, float("inf")
    spreads = days > 1
    finishes = start + timedelta(seconds=seconds) if math.isfinite(seconds) else start + timedelta(days=36500)
    return Estimate(recipients=recipients, counted=counted, throughput=throughput, limit=limit, seconds=seconds,
                    days=days, spreads_over_days=spreads, finishes_at=finishes)
