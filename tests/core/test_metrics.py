"""Graph API call metrics: summed in the process, written to Redis within a second, read by any process."""

from __future__ import annotations

import time

import pytest

from core import metrics

pytestmark = pytest.mark.redis


def _calls_in_redis() -> dict[str, float]:
    return metrics._read_hash(f"{metrics.PREFIX}:graph:calls")


def test_calls_reach_redis_by_themselves_when_the_process_goes_quiet():
    metrics.graph_api_observe(seconds=0.02, result="ok")
    metrics.graph_api_observe(seconds=0.03, result="131047")
    assert _calls_in_redis() == {}  # summed in the process first: no round trip per call
    deadline = time.monotonic() + metrics.FLUSH_SECONDS + 5
    while time.monotonic() < deadline and not _calls_in_redis():
        time.sleep(0.05)
    assert _calls_in_redis() == {"ok": 1.0, "131047": 1.0}
    latency = metrics._read_hash(f"{metrics.PREFIX}:graph:latency")
    assert latency["count"] == 2.0 and latency["sum"] == pytest.approx(0.05)
    minute = int(time.time() // 60)
    errors = metrics.graph_errors_by_minute(after=minute - 2, before=minute + 1)
    assert sum(codes.get("131047", 0) for codes in errors.values()) == 1


def test_a_snapshot_includes_this_processs_latest_calls():
    for _ in range(3):
        metrics.graph_api_observe(seconds=0.2, result="ok")
    snapshot = metrics.graph_api_snapshot()
    assert snapshot["calls"] == {"ok": 3.0} and snapshot["latency"]["le:0.25"] == 3.0
