"""Throttle math with a fake clock: tiers, the moving 24 hours, the service window, the pair rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from messaging.campaigns import limits


class FakeClock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Cloud:
    provider_key = "whatsapp_cloud"

    def __init__(self, *, tier: str = "", override=None, rate=None):
        self.messaging_limit_tier, self.messaging_limit, self.messages_per_second = tier, override, rate


def test_tiers_override_and_default(settings):
    settings.WHATSAPP_DEFAULT_MESSAGING_LIMIT = 250
    assert limits.channel_messaging_limit(Cloud(tier="TIER_1K")) == 1000
    assert limits.channel_messaging_limit(Cloud(tier="TIER_2K")) == 2000
    assert limits.channel_messaging_limit(Cloud(tier="TIER_10K")) == 10000
    assert limits.channel_messaging_limit(Cloud(tier="TIER_100K")) == 100000
    assert limits.channel_messaging_limit(Cloud(tier="TIER_UNLIMITED")) is None
    assert limits.channel_messaging_limit(Cloud(tier="")) == 250  # unknown: the configured default
    assert limits.channel_messaging_limit(Cloud(tier="TIER_1K", override=5000)) == 5000


def test_throughput_default_80_and_per_channel(settings):
    settings.WHATSAPP_SENDER_RATE = 80
    assert limits.channel_throughput(Cloud()) == 80
    assert limits.channel_throughput(Cloud(rate=1000)) == 1000


def test_tier_remaining_and_the_moving_window_frees_places():
    clock = FakeClock(T0)
    assert limits.tier_remaining(limit=250, counted_24h=240) == 10
    assert limits.tier_remaining(limit=250, counted_24h=300) == 0
    assert limits.tier_remaining(limit=None, counted_24h=10**6) is None
    sends = [T0 + timedelta(minutes=i) for i in range(3)]  # three users at 9:00, 9:01, 9:02
    clock.advance(hours=1)
    assert limits.tier_next_free_at(counted_at=sends, limit=5, clock=clock) is None  # places free now
    assert limits.tier_next_free_at(counted_at=sends, limit=3, clock=clock) == T0 + timedelta(hours=24)
    assert limits.tier_next_free_at(counted_at=sends, limit=2, clock=clock) == T0 + timedelta(hours=24, minutes=1)
    clock.advance(hours=23, seconds=30)  # 9:00 left the window; 9:01 and 9:02 still fill a limit of 2
    assert limits.tier_next_free_at(counted_at=sends, limit=2, clock=clock) == T0 + timedelta(hours=24, minutes=1)
    clock.advance(minutes=1)  # 9:01 left too: a place is free
    assert limits.tier_next_free_at(counted_at=sends, limit=2, clock=clock) is None


def test_pair_rate_one_message_per_six_seconds():
    clock = FakeClock(T0)
    assert limits.pair_wait(last_sent_at=None, clock=clock) == 0
    assert limits.pair_wait(last_sent_at=T0, clock=clock, interval=6) == 6
    clock.advance(seconds=4)
    assert limits.pair_wait(last_sent_at=T0, clock=clock, interval=6) == 2
    clock.advance(seconds=3)
    assert limits.pair_wait(last_sent_at=T0, clock=clock, interval=6) == 0


def test_feed_allowance_keeps_a_small_buffer():
    assert limits.feed_allowance(throughput=80, interval=2, in_flight=0) == 320
    assert limits.feed_allowance(throughput=80, interval=2, in_flight=300) == 20
    assert limits.feed_allowance(throughput=80, interval=2, in_flight=400) == 0


def test_estimate_within_one_day_at_the_throughput():
    clock = FakeClock(T0)
    result = limits.estimate(recipients=8000, in_window=0, throughput=80, limit=10000, clock=clock)
    assert result.seconds == 100 and result.days == 1 and not result.spreads_over_days
    assert result.finishes_at == T0 + timedelta(seconds=100)


def test_estimate_spreads_over_days_past_the_tier():
    clock = FakeClock(T0)
    result = limits.estimate(recipients=2600, in_window=0, throughput=80, limit=1000, clock=clock)
    # 1,000 today, 1,000 tomorrow, 600 the day after.
    assert result.spreads_over_days and result.days == 3
    assert result.seconds == 2 * 86400 + 600 / 80
    used = limits.estimate(recipients=1000, in_window=0, throughput=80, limit=1000, counted_24h=400, clock=clock)
    assert used.days == 2  # 600 places left today


def test_recipients_inside_their_window_do_not_count():
    clock = FakeClock(T0)
    result = limits.estimate(recipients=2600, in_window=1700, throughput=80, limit=1000, clock=clock)
    assert result.counted == 900 and result.days == 1 and not result.spreads_over_days
    as_dict = result.as_dict()
    assert as_dict["counted_in_limit"] == 900 and as_dict["messaging_limit"] == 1000


def test_unlimited_tier_never_spreads():
    result = limits.estimate(recipients=1_000_000, in_window=0, throughput=1000, limit=None, clock=FakeClock(T0))
    assert result.days == 1 and result.seconds == 1000
