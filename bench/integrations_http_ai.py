"""Costs of the integrations' hot paths (no database needed).

    .venv/bin/python bench/integrations_http_ai.py [--requests 300] [--entries 1000]

Prints: ms per GET to a local server through the SSRF-guarded client vs plain ``requests``
(the guard's cost: resolution + vetting + a fresh connection per request), µs per built-in AI
search over the demo FAQ and over N synthetic knowledge entries, and µs per webhook signature.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import _setup  # noqa: F401  (puts the project on sys.path)
from _setup import percentile

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("FLUXO_VAR_DIR", "/tmp/fluxo-bench")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = b'{"status": "shipped", "eta": "amanha"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def timed(fn, n: int) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--entries", type=int, default=1000)
    args = parser.parse_args()

    import django

    django.setup()
    import requests

    from integrations.ai.retrieval import Index
    from integrations.demo import FAQ
    from integrations.http import client
    from integrations.http.guard import Guard
    from integrations.webhooks import signing

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/orders/1"
    guard = Guard.build(["127.0.0.1"])
    try:
        guarded = timed(lambda: client.request("GET", url, guard=guard, timeout=5), args.requests)
        plain = timed(lambda: requests.get(url, timeout=5).content, args.requests)
    finally:
        server.shutdown()
        server.server_close()
    print(f"http GET, guarded client: median {statistics.median(guarded) * 1000:.2f} ms, "
          f"p95 {percentile(guarded, 95) * 1000:.2f} ms ({args.requests} requests)")
    print(f"http GET, plain requests: median {statistics.median(plain) * 1000:.2f} ms, "
          f"p95 {percentile(plain, 95) * 1000:.2f} ms")

    faq = Index([(i, f"{q} {k}", a) for i, (q, k, a) in enumerate(FAQ)])
    questions = ["qual o prazo de entrega?", "vocês aceitam pix?", "quero trocar um produto", "abrem no sábado?"]
    faq_times = timed(lambda: faq.search(random.choice(questions)), 2000)
    print(f"built-in AI search, demo FAQ ({len(FAQ)} entries): median {statistics.median(faq_times) * 1e6:.0f} µs")

    rng = random.Random(7)
    words = [f"palavra{i}" for i in range(3000)]
    docs = [(i, " ".join(rng.choices(words, k=8)), " ".join(rng.choices(words, k=40))) for i in range(args.entries)]
    started = time.perf_counter()
    big = Index(docs)
    build = time.perf_counter() - started
    big_times = timed(lambda: big.search(" ".join(rng.choices(words, k=6))), 300)
    print(f"built-in AI search, {args.entries} entries: index build {build * 1000:.0f} ms, "
          f"search median {statistics.median(big_times) * 1000:.2f} ms")

    body = b'{"id":"x","type":"run.completed","data":{"run_id":1}}' * 10
    sign_times = timed(lambda: signing.signature_header("whsec_abc", 1700000000, body), 5000)
    print(f"webhook signature (HMAC-SHA256, {len(body)} B): median {statistics.median(sign_times) * 1e6:.1f} µs")


if __name__ == "__main__":
    main()
