"""WhatsApp channel figures on PostgreSQL: webhook ingest and sends to a (fake) Graph API.

    .venv/bin/python bench/whatsapp_ingest.py [--single 300] [--batches 30] [--batch-size 50] [--sends 300]

Prints:
* ingest: p50/p99 time to the 200 of ``POST /webhooks/whatsapp/`` (signature check + raw store +
  queueing the worker task on Redis) and events/s, for single-message and batched payloads;
* processing: events/s of the worker's processing (stored delivery → contact, message,
  conversation, normalized InboundEvent), with one and two threads;
* sends/s: queued messages sent through the Cloud API client to the fake Graph API over real
  HTTP (claim → HTTP → record), 1 and 4 threads, with the sender limit raised to 1,000/s (the top
  Meta tier) so the client, not the limiter, is measured.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time

os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")

from _setup import django_on_postgres, percentile  # noqa: E402

SECRET = "bench-app-secret-0123456789"


def text_message(i: int) -> dict:
    return {"from": f"55119{i % 90000000 + 10000000:08d}", "id": f"wamid.bench.{i}", "timestamp": "1750000000",
            "type": "text", "text": {"body": f"mensagem {i} com acentuação"}}


def payload(messages: list[dict], phone_number_id: str) -> bytes:
    body = {"object": "whatsapp_business_account", "entry": [{"id": "bench-waba", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "5511400000000", "phone_number_id": phone_number_id},
            "contacts": [{"profile": {"name": "Cliente"}, "wa_id": m["from"]} for m in messages],
            "messages": messages}}]}]}
    return json.dumps(body, separators=(",", ":")).encode()  # ensure_ascii: Meta's escaping


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--single", type=int, default=300)
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--sends", type=int, default=300)
    args = parser.parse_args()
    django_on_postgres("fluxo_bench_wa")

    import redis
    from django.conf import settings
    from django.test import Client

    from messaging.models import Contact, Message, WebhookDelivery, WhatsAppCloudChannel
    from messaging.services import message_deliver_attempt
    from messaging.webhooks import signature_expected, webhook_delivery_process
    from tests.messaging.fake_graph import FakeGraph

    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    graph = FakeGraph().start()
    channel = WhatsAppCloudChannel.objects.create(
        name="bench", phone_number_id=graph.phone_number_id, waba_id=graph.waba_id, access_token=graph.token,
        app_secret=SECRET, graph_api_base_url=graph.base_url, messages_per_second=1000)
    client = Client()

    def post(body: bytes) -> float:
        started = time.perf_counter()
        response = client.post("/webhooks/whatsapp/", data=body, content_type="application/json",
                               HTTP_X_HUB_SIGNATURE_256=signature_expected(body, SECRET))
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.status_code
        return elapsed

    # 1. Ingest, one message per POST.
    bodies = [payload([text_message(i)], graph.phone_number_id) for i in range(args.single)]
    post(bodies[0])  # warm-up (connections, caches)
    times = [post(body) for body in bodies[1:]]
    total = sum(times)
    print(f"ingest single : {len(times)} POSTs, p50 {percentile(times, 50) * 1000:.2f} ms, "
          f"p99 {percentile(times, 99) * 1000:.2f} ms to 200, {len(times) / total:.0f} events/s")

    # 2. Ingest, batched payloads.
    n = args.single
    batch_bodies = []
    for _ in range(args.batches):
        batch_bodies.append(payload([text_message(n + j) for j in range(args.batch_size)], graph.phone_number_id))
        n += args.batch_size
    times = [post(body) for body in batch_bodies]
    total = sum(times)
    print(f"ingest batched: {len(times)} POSTs x {args.batch_size} messages, p50 {percentile(times, 50) * 1000:.2f} ms, "
          f"p99 {percentile(times, 99) * 1000:.2f} ms to 200, {len(times) * args.batch_size / total:.0f} events/s")

    # 3. Worker processing of what was stored (normalization → InboundEvent): half the deliveries
    #    with one thread, the other half with two (separate DB connections, like two workers).
    ids = list(WebhookDelivery.objects.filter(state="pending").order_by("id").values_list("pk", flat=True))
    halves = [ids[0::2], ids[1::2]]
    for threads, chunk_ids in zip((1, 2), halves, strict=True):
        counts = [0] * threads

        def process(index: int, chunk: list[int], counts: list[int] = counts) -> None:
            from django.db import connection

            for pk in chunk:
                counts[index] += (webhook_delivery_process(delivery_id=pk) or {}).get("items", 0)
            connection.close()

        started = time.perf_counter()
        workers = [threading.Thread(target=process, args=(i, chunk_ids[i::threads])) for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - started
        events = sum(counts)
        print(f"processing    : {events} messages in {elapsed:.2f} s, {events / elapsed:.0f} events/s "
              f"({threads} thread{'s' if threads > 1 else ''})")

    # 4. Sends to the fake Graph API.
    contacts = list(Contact.objects.all()[: args.sends])

    def make_messages(tag: str) -> list[int]:
        return [Message.objects.create(direction="out", kind="text", channel=channel, contact=contact,
                                       content={"text": {"body": "Olá!", "preview_url": False}}, status="queued",
                                       idempotency_key=f"bench:{tag}:{contact.pk}").pk for contact in contacts]

    for threads in (1, 4):
        redis.Redis.from_url(settings.REDIS_URL).flushdb()
        message_ids = make_messages(f"t{threads}")
        chunks = [message_ids[i::threads] for i in range(threads)]

        def work(chunk: list[int]) -> None:
            from django.db import connection

            for pk in chunk:
                message_deliver_attempt(message_id=pk)
            connection.close()

        started = time.perf_counter()
        workers = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - started
        sent = Message.objects.filter(pk__in=message_ids, status="sent").count()
        print(f"sends         : {sent}/{len(message_ids)} sent in {elapsed:.2f} s, {sent / elapsed:.0f} sends/s "
              f"({threads} thread{'s' if threads > 1 else ''})")
    graph.stop()
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


if __name__ == "__main__":
    main()
