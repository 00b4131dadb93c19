"""How long the flow editor takes to open a 300-node flow until it responds to input.

    .venv/bin/python bench/editor_open.py [--nodes 300] [--runs 3]

Starts its own Fluxo (uvicorn, SQLite in a temporary FLUXO_VAR_DIR), stores a flow of N steps
(a chain of messages, delays and branches, laid out on a grid), logs in with headless system
Chromium and opens the editor. Per run it measures, from navigation start:

  - first node: the first step card is on screen;
  - interactive: a step was clicked and the editor reacted (the node is selected and its form
    is in the side panel) -- the figure to quote;
and the click-to-selected latency on its own. Builds the frontend first if needed (make frontend).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
CHROMIUM = os.environ.get("FLUXO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
USER, PASSWORD = "bench", "bench-senha-forte-123"


def definition(count: int) -> dict:
    nodes = [{"id": "n0", "type": "trigger", "config": {"event": "message", "match": "any"}}]
    edges = []
    for i in range(1, count):
        kind = ("send_message", "delay", "branch")[i % 3]
        config = {
            "send_message": {"text": f"Mensagem {i} para {{{{contact.name}}}}"},
            "delay": {"mode": "duration", "duration": {"value": i % 5 + 1, "unit": "minutes"}},
            "branch": {"mode": "conditions", "conditions": [
                {"id": "c1", "label": f"Regra {i}", "match": "all",
                 "rules": [{"left": "{{contact.name}}", "op": "contains", "right": "a"}]}]},
        }[kind]
        nodes.append({"id": f"n{i}", "type": kind, "config": config})
        previous = nodes[i - 1]
        port = "c1" if previous["type"] == "branch" else "next"
        edges.append({"id": f"e{i}", "source": previous["id"], "source_port": port, "target": f"n{i}"})
    positions = {node["id"]: {"position": {"x": (index % 20) * 280, "y": (index // 20) * 200}}
                 for index, node in enumerate(nodes)}
    return {"spec_version": 1, "nodes": nodes, "edges": edges, "ui": {"nodes": positions, "notes": []}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(env: dict[str, str], count: int) -> int:
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    script = (
        "import json, sys\n"
        "from django.contrib.auth import get_user_model\n"
        "from django.contrib.auth.models import Group\n"
        "from flows import services\n"
        f"user = get_user_model().objects.create_user({USER!r}, password={PASSWORD!r})\n"
        "user.groups.add(Group.objects.get_or_create(name='editor')[0])\n"
        "flow = services.flow_create(name='Bench', definition=json.loads(sys.stdin.read()), author=user)\n"
        "print(flow.pk)\n"
    )
    result = subprocess.run([PY, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True,
                            input=json.dumps(definition(count)), capture_output=True, text=True)
    return int(result.stdout.strip().splitlines()[-1])


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the server exited early")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"no answer from {url}")


def measure(base: str, flow_id: int, count: int, runs: int) -> None:
    from playwright.sync_api import sync_playwright

    target = f"n{count // 2}"
    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 950})
        page.goto(base + "/login")
        page.fill("input[name=username]", USER)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=current-user]")
        for _ in range(runs):
            page.goto("about:blank")
            start = time.perf_counter()
            page.goto(f"{base}/flows/{flow_id}", wait_until="commit")
            page.wait_for_selector(".react-flow__node", state="visible", timeout=60_000)
            first_node = time.perf_counter()
            node = page.locator(f".react-flow__node[data-id='{target}']")
            node.wait_for(state="visible", timeout=60_000)
            clicked = time.perf_counter()
            node.click()
            page.wait_for_selector(f".react-flow__node.selected[data-id='{target}']", timeout=60_000)
            page.locator("[data-testid=side-panel]").get_by_text(target, exact=True).wait_for(timeout=60_000)
            done = time.perf_counter()
            rendered = page.locator(".react-flow__node").count()
            results.append((first_node - start, done - start, done - clicked, rendered))
        browser.close()
    for index, (first, interactive, latency, rendered) in enumerate(results, 1):
        print(f"run {index}: first node {first * 1000:.0f} ms, interactive {interactive * 1000:.0f} ms "
              f"(click-to-selected {latency * 1000:.0f} ms, {rendered} nodes in the DOM)")
    median = statistics.median(result[1] for result in results)
    print(f"editor_open: {count} nodes, median time until the canvas responds to input: {median * 1000:.0f} ms")


def editor_served(nodes: int, prefix: str, run) -> None:
    """Build the frontend if needed, serve a fresh embedded Fluxo holding a ``nodes``-block flow, and call
    ``run(base_url, flow_id)`` against it (the editor benchmarks share this setup)."""
    if not (ROOT / "static" / "build" / ".vite" / "manifest.json").exists():
        print("the frontend is not built yet: running `make frontend`", flush=True)
        subprocess.run(["make", "frontend"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory(prefix=prefix) as var_dir:
        env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
        env.update({"FLUXO_VAR_DIR": var_dir, "DJANGO_SETTINGS_MODULE": "config.settings", "LOG_LEVEL": "ERROR",
                    "PYTHONWARNINGS": "ignore"})
        flow_id = prepare(env, nodes)
        port = free_port()
        server = subprocess.Popen([str(Path(PY).parent / "uvicorn"), "config.asgi:application", "--host", "127.0.0.1",
                                   "--port", str(port), "--no-access-log", "--log-level", "warning"], cwd=ROOT, env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_http(base + "/login", server)
            run(base, flow_id)
        finally:
            server.terminate()
            server.wait(15)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    editor_served(args.nodes, "fluxo-bench-editor-", lambda base, flow_id: measure(base, flow_id, args.nodes, args.runs))



if __name__ == "__main__":
    main()
