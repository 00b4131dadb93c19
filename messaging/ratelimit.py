"""Token buckets for WhatsApp's throughput limits: per sender number and per recipient.

With ``settings.REDIS_URL`` the buckets live in Redis (one Lua script, atomic), so every worker
on every machine draws from the same bucket. Without Redis (the embedded default) they are kept
per worker process: with N worker processes the effective limit is up to N times the setting.
That default is for one machine and the sandbox channel; a real Cloud API number belongs on the
Redis topology (and Meta's own 130429/131056 answers remain the backstop).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

# Take one token from the bucket at KEYS[1]; returns 0 when taken, else milliseconds to wait.
_LUA = """
local key = KEYS[1]
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then tokens = burst; ts = now end
tokens = math.min(burst, tokens + (now - ts) / 1000.0 * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) / rate * 1000)
end
redis.call('HSET', key, 'tokens', tokens, 'ts', now)
redis.call('PEXPIRE', key, math.ceil(burst / rate * 1000) + 1000)
return wait
"""


# The recipient bucket (KEYS[1]) first, then the sender's (KEYS[2]), in one round trip: a throttled
# pair does not burn a sender token. Returns 0 when both tokens were taken, else milliseconds to wait.
_LUA_PAIR = """
local function take(key, rate, burst, now, commit)
  local state = redis.call('HMGET', key, 'tokens', 'ts')
  local tokens = tonumber(state[1])
  local ts = tonumber(state[2])
  if tokens == nil then tokens = burst; ts = now end
  tokens = math.min(burst, tokens + (now - ts) / 1000.0 * rate)
  if tokens < 1 then return math.ceil((1 - tokens) / rate * 1000) end
  if commit then
    redis.call('HSET', key, 'tokens', tokens - 1, 'ts', now)
    redis.call('PEXPIRE', key, math.ceil(burst / rate * 1000) + 1000)
  end
  return 0
end
local now = tonumber(ARGV[5])
local wait = take(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), now, false)
if wait > 0 then return wait end
wait = take(KEYS[2], tonumber(ARGV[3]), tonumber(ARGV[4]), now, false)
if wait > 0 then return wait end
take(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), now, true)
take(KEYS[2], tonumber(ARGV[3]), tonumber(ARGV[4]), now, true)
return 0
"""


# Many recipients of one sender number at once (the outbound drain's batch): KEYS[1] is the sender's
# bucket, KEYS[2..] the recipients'; returns one wait (ms) per recipient, 0 when both tokens were taken.
_LUA_BATCH = """
local function take(key, rate, burst, now, commit)
  local state = redis.call('HMGET', key, 'tokens', 'ts')
  local tokens = tonumber(state[1])
  local ts = tonumber(state[2])
  if tokens == nil then tokens = burst; ts = now end
  tokens = math.min(burst, tokens + (now - ts) / 1000.0 * rate)
  if tokens < 1 then return math.ceil((1 - tokens) / rate * 1000) end
  if commit then
    redis.call('HSET', key, 'tokens', tokens - 1, 'ts', now)
    redis.call('PEXPIRE', key, math.ceil(burst / rate * 1000) + 1000)
  end
  return 0
end
local pair_rate, pair_burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local sender_rate, sender_burst = tonumber(ARGV[3]), tonumber(ARGV[4])
local now = tonumber(ARGV[5])
local waits = {}
for i = 2, #KEYS do
  local wait = take(KEYS[i], pair_rate, pair_burst, now, false)
  if wait == 0 then wait = take(KEYS[1], sender_rate, sender_burst, now, false) end
  if wait == 0 then
    take(KEYS[i], pair_rate, pair_burst, now, true)
    take(KEYS[1], sender_rate, sender_burst, now, true)
  end
  waits[#waits + 1] = wait
end
return waits
"""


@dataclass(frozen=True)
class Limit:
    rate: float  # tokens per second
    burst: float  # bucket size


def sender_limit(channel) -> Limit:
    per_second = float(getattr(channel, "messages_per_second", 0) or getattr(settings, "WHATSAPP_SENDER_RATE", 80))
    return Limit(rate=per_second, burst=max(1.0, per_second))


def recipient_limit() -> Limit:
    interval = float(getattr(settings, "WHATSAPP_RECIPIENT_INTERVAL", 6.0))
    if interval <= 0:
        return Limit(rate=1e9, burst=1e9)  # no pair limit (benchmarks against a fake Graph API)
    return Limit(rate=1.0 / interval, burst=float(getattr(settings, "WHATSAPP_RECIPIENT_BURST", 3)))


class _LocalBuckets:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}

    def take(self, key: str, limit: Limit) -> float:
        now = time.monotonic()
        with self._lock:
            tokens, ts = self._state.get(key, (limit.burst, now))
            tokens = min(limit.burst, tokens + (now - ts) * limit.rate)
            wait = 0.0
            if tokens >= 1:
                tokens -= 1
            else:
                wait = (1 - tokens) / limit.rate
            self._state[key] = (tokens, now)
            return wait

    def reset(self) -> None:
        with self._lock:
            self._state.clear()


_local = _LocalBuckets()


@lru_cache(maxsize=2)
def _redis(url: str):
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return client, client.register_script(_LUA), client.register_script(_LUA_PAIR), client.register_script(_LUA_BATCH)


def take(key: str, limit: Limit) -> float:
    """Take one token; returns 0.0 when allowed, else the seconds to wait before trying again.

    A Redis outage degrades to the in-process bucket (logged by the caller) rather than stopping
    all sends: Meta's own 130429/131056 answers are the backstop.
    """
    url = getattr(settings, "REDIS_URL", "")
    if url:
        try:
            _, script, _, _ = _redis(url)
            wait_ms = script(keys=[f"fluxo:rl:{key}"], args=[limit.rate, limit.burst, int(time.time() * 1000)])
            return int(wait_ms) / 1000.0
        except Exception:  # noqa: BLE001 - any Redis error falls back to the local bucket
            pass
    return _local.take(key, limit)


def send_slot_wait(*, channel, recipient: str) -> float:
    """Seconds to wait before this channel may send to this recipient (0.0: go now).

    The recipient bucket is checked first so a throttled pair does not burn sender tokens; both
    are taken in one Redis round trip. The sender's order keeps one message per recipient in
    flight, so a recipient's slot goes to its oldest waiting message.
    """
    pair, sender = recipient_limit(), sender_limit(channel)
    url = getattr(settings, "REDIS_URL", "")
    if url:
        try:
            _, _, script, _ = _redis(url)
            wait_ms = script(keys=[f"fluxo:rl:rcpt:{channel.pk}:{recipient}", f"fluxo:rl:sender:{channel.pk}"],
                             args=[pair.rate, pair.burst, sender.rate, sender.burst, int(time.time() * 1000)])
            return int(wait_ms) / 1000.0
        except Exception:  # noqa: BLE001 - any Redis error falls back to the local buckets
            pass
    wait = _local.take(f"rcpt:{channel.pk}:{recipient}", pair)
    if wait > 0:
        return wait
    return _local.take(f"sender:{channel.pk}", sender)


def reset_local() -> None:
    """Forget in-process buckets (tests)."""
    _local.reset()


def send_slots_wait(*, channel, recipients: list[str]) -> list[float]:
    """:func:`send_slot_wait` for several recipients of one channel in one Redis round trip (in order)."""
    if not recipients:
        return []
    pair, sender = recipient_limit(), sender_limit(channel)
    url = getattr(settings, "REDIS_URL", "")
    if url:
        try:
            _, _, _, script = _redis(url)
            keys = [f"fluxo:rl:sender:{channel.pk}", *(f"fluxo:rl:rcpt:{channel.pk}:{r}" for r in recipients)]
            waits = script(keys=keys, args=[pair.rate, pair.burst, sender.rate, sender.burst,
                                            int(time.time() * 1000)])
            return [int(wait) / 1000.0 for wait in waits]
        except Exception:  # noqa: BLE001 - any Redis error falls back to the local buckets
            pass
    return [send_slot_wait(channel=channel, recipient=r) for r in recipients]
