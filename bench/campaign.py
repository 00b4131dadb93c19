"""Campaign figures on PostgreSQL: planning and queueing a 100,000-recipient campaign (time, peak
memory) and the sending rate reached against the fake Graph API with the limit at 1,000/s.

    .venv/bin/python bench/campaign.py [--recipients 100000] [--send 30000] [--threads 4]

Prints:
* plan: the audience classified (exclusions by reason) and the recipient rows written, in
  batches of 2,000 (time, recipients/s, peak Python memory by tracemalloc, RSS growth);
* queue: the feeder's ticks writing the outbound ``Message`` rows (idempotency key per recipient,
  cursor, one transaction per tick), with its throughput budget opened to take all at once;
* send: a second campaign of ``--send`` recipients run as in production — a feeder thread ticking
  every ``FLUXO_CAMPAIGN_FEED_INTERVAL`` (a few ticks' worth queued at a time, at low priority) and
  ``--threads`` outbound drains (one per shard) sending over HTTP to ``bench/_fake_graph.py`` with
  the channel's throughput set to 1,000/s (Meta's top) — messages/s from the first to the last send.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import threading
import time
import tracemalloc

os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")

from _setup import ROOT, django_on_postgres  # noqa: E402

TOKEN = "bench-campaign-token"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--send", type=int, default=30_000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--trace-memory", action="store_true",
                        help="peak Python memory by tracemalloc (slows the timed parts)")
    options = parser.parse_args()
    os.environ.setdefault("FLUXO_OUTBOUND_SHARDS", str(options.threads))
    django_on_postgres(os.environ.get("BENCH_DB", "fluxo_bench_campaigns"))

    from django.conf import settings
    from django.db import connection
    from django.db.models import Count

    from messaging.campaigns import services
    from messaging.models import (
        Campaign,
        CampaignRecipient,
        Contact,
        Message,
        MessageTemplate,
        Segment,
        WhatsAppCloudChannel,
    )
    from messaging.outbound import messages_drain

    port = _free_port()
    graph = subprocess.Popen([sys.executable, str(ROOT / "bench" / "_fake_graph.py"), "--port", str(port),
                              "--token", TOKEN], start_new_session=True)
    try:
        time.sleep(0.5)
        channel = WhatsAppCloudChannel.objects.create(
            name="Bench", phone_number_id="bench-phone", waba_id="bench-waba", access_token=TOKEN,
            app_secret="s", graph_api_base_url=f"http://127.0.0.1:{port}", messages_per_second=1000,
            messaging_limit_tier="TIER_UNLIMITED")
        template = MessageTemplate.objects.create(
            channel=channel, name="promo", language="pt_BR", status="APPROVED", category="MARKETING",
            components=[{"type": "BODY", "text": "Oi {{1}}! Ofertas da semana. Responda SAIR para sair."}],
            parameter_count=1)
        n = options.recipients
        started = time.perf_counter()
        batch = []
        for i in range(n):
            consent = {"marketing": {"state": "opted_out" if i % 50 == 0 else "opted_in"}}
            batch.append(Contact(phone=f"+5511{900000000 + i}", name=f"Cliente {i}", channel=channel,
                                 consent=consent, attributes={"grupo": i % 10}))
            if len(batch) == 5000:
                Contact.objects.bulk_create(batch)
                batch = []
        Contact.objects.bulk_create(batch)
        print(f"setup: {n:,} contacts in {time.perf_counter() - started:.1f}s (1 in 50 opted out)")

        everyone = Segment.objects.create(name="all", definition={"conditions": []})
        campaign = services.campaign_save(data={"name": "Bench", "channel": channel, "template": template,
                                                "segment": everyone,
                                                "parameters": [{"source": "field", "value": "first_name"}]})
        services.campaign_start(campaign=campaign)

        rss0 = _rss_mb()
        if options.trace_memory:
            tracemalloc.start()
        started = time.perf_counter()
        services.campaign_plan(campaign_id=campaign.pk)
        plan_seconds = time.perf_counter() - started
        plan_peak = tracemalloc.get_traced_memory()[1] if options.trace_memory else 0
        if options.trace_memory:
            tracemalloc.reset_peak()
        reasons = dict(CampaignRecipient.objects.filter(campaign=campaign).values_list("reason")
                       .annotate(n=Count("id")))
        print(f"plan: {n:,} contacts classified and written in {plan_seconds:.1f}s "
              f"({n / plan_seconds:,.0f}/s)" + (f", peak Python memory {plan_peak / 2**20:.1f} MiB" if plan_peak else "")
              + f"; by reason {reasons}; max RSS {_rss_mb():.0f} MiB")

        # Queue everything: open the feeder's budget (throughput x interval x 2) to the whole audience.
        settings.FLUXO_CAMPAIGN_FEED_INTERVAL = n / (2 * 1000) + 1
        started = time.perf_counter()
        ticks = queued = 0
        while True:
            done = services.campaign_feed(campaign_id=campaign.pk)
            ticks += 1
            queued += done
            if not done:
                break
        queue_seconds = time.perf_counter() - started
        queue_peak = tracemalloc.get_traced_memory()[1] if options.trace_memory else 0
        if options.trace_memory:
            tracemalloc.stop()
        print(f"queue: {queued:,} messages queued in {queue_seconds:.1f}s ({queued / queue_seconds:,.0f}/s, "
              f"{ticks} ticks of at most 5,000)" + (f", peak Python memory {queue_peak / 2**20:.1f} MiB"
                                                    if queue_peak else "")
              + f"; process max RSS grew {_rss_mb() - rss0:.0f} MiB (max RSS {_rss_mb():.0f} MiB)")
        total = (plan_seconds + queue_seconds)
        print(f"plan + queue: {total:.1f}s for {n:,} recipients")

        # Sending as in production. The first campaign's messages leave the queue first (cancelled).
        services.campaign_cancel(campaign=Campaign.objects.get(pk=campaign.pk))
        Message.objects.filter(status="queued").delete()
        settings.FLUXO_CAMPAIGN_FEED_INTERVAL = 2.0
        few = Segment.objects.create(name="some", definition={"conditions": [
            {"field": "attribute", "key": "grupo", "op": "lt", "value": max(1, round(options.send * 10 / n))}]})
        second = services.campaign_save(data={"name": "Send", "channel": channel, "template": template,
                                              "segment": few,
                                              "parameters": [{"source": "field", "value": "first_name"}]})
        services.campaign_start(campaign=second)
        services.campaign_plan(campaign_id=second.pk)
        expected = CampaignRecipient.objects.filter(campaign=second, reason="").count()
        stop = threading.Event()

        def feeder() -> None:
            while not stop.is_set():
                services.campaign_feed(campaign_id=second.pk)
                stop.wait(settings.FLUXO_CAMPAIGN_FEED_INTERVAL)
            connection.close()

        def drain(shard: int) -> None:
            while not stop.is_set():
                if not messages_drain(shard=shard, max_rounds=200):
                    time.sleep(0.05)
            connection.close()

        threads = [threading.Thread(target=feeder)] + [threading.Thread(target=drain, args=(s,))
                                                        for s in range(options.threads)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        sent = Message.objects.filter(idempotency_key__startswith=f"campaign:{second.pk}:r:", status="sent")
        while sent.count() < expected and time.perf_counter() - started < 600:
            time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join()
        import json
        import urllib.request

        stats = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=10).read())
        times = sorted(row[0] for row in stats["sent"])
        span = times[-1] - times[0] if len(times) > 1 else 0.0
        print(f"send: {len(times):,} of {expected:,} recipients at the fake Graph API in {span:.1f}s = "
              f"{(len(times) - 1) / span if span else 0:,.0f} messages/s with the limit at 1,000/s "
              f"({options.threads} drains, feeder every {settings.FLUXO_CAMPAIGN_FEED_INTERVAL:.0f}s)")
        # Per-second peak: how close to the limit the sender ran.
        buckets: dict[int, int] = {}
        for moment in times:
            buckets[int(moment)] = buckets.get(int(moment), 0) + 1
        inner = sorted(buckets.values())[1:-1] or sorted(buckets.values())
        print(f"send: per-second counts median {inner[len(inner) // 2]:,}, max {max(inner):,}")
    finally:
        graph.terminate()
        graph.wait(10)


if __name__ == "__main__":
    main()
