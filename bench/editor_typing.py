"""How long one key press takes in the flow editor's side panel on a 300-block flow.

    .venv/bin/python bench/editor_typing.py [--nodes 300] [--keys 60] [--runs 3]

Starts its own Fluxo (uvicorn, SQLite in a temporary FLUXO_VAR_DIR) with the same 300-step flow
as bench/editor_open.py, opens it in headless system Chromium, selects a message block in the
middle and types into its text field with Playwright's keyboard. For every key it measures, in
the page:

  - handling: from the start to the end of the ``input`` event's dispatch, which is where React
    renders and commits the change (the store update, the canvas card, the side panel) — the
    main-thread work a key costs, the figure to compare with a 16 ms frame;
  - to next frame: from the same start to the next animation frame (includes waiting for it);

and prints median, 95th percentile and worst per run. Builds the frontend first if needed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from editor_open import (  # noqa: E402  (the same server, flow and login as the open benchmark)
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    USER,
    editor_served,
)

PROBE = """
() => {
  window.__keys = [];
  let start = 0;
  window.addEventListener("input", () => { start = performance.now(); }, true);
  window.addEventListener("input", () => {
    const begun = start, handled = performance.now();
    requestAnimationFrame(() => window.__keys.push([handled - begun, performance.now() - begun]));
  });
}
"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(base: str, flow_id: int, count: int, keys: int, runs: int) -> None:
    from playwright.sync_api import sync_playwright

    target = next(f"n{i}" for i in range(count // 2, count) if i % 3 == 0)  # a send_message block (editor_open.definition)
    text = "Olá, obrigado por ligar para a Fluxo! " * 4
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 950})
        page.goto(base + "/login")
        page.fill("input[name=username]", USER)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=current-user]")
        all_handling: list[float] = []
        for run in range(1, runs + 1):
            page.goto(f"{base}/flows/{flow_id}")
            node = page.locator(f".react-flow__node[data-id='{target}']")
            node.wait_for(state="visible", timeout=60_000)
            node.click()
            field = page.locator("[data-testid=side-panel] [data-testid=field-text]")
            field.wait_for(timeout=60_000)
            field.click()
            page.keyboard.press("End")
            page.wait_for_timeout(1500)  # let validation of the opened flow settle
            page.evaluate(PROBE)
            page.keyboard.type(text[:keys], delay=60)
            page.wait_for_timeout(300)
            samples = page.evaluate("window.__keys")
            handling = [s[0] for s in samples]
            frame = [s[1] for s in samples]
            all_handling += handling
            print(f"run {run}: {len(samples)} keys; handling median {statistics.median(handling):.1f} ms, "
                  f"p95 {pct(handling, 0.95):.1f} ms, worst {max(handling):.1f} ms; to next frame median "
                  f"{statistics.median(frame):.1f} ms, p95 {pct(frame, 0.95):.1f} ms")
            assert page.locator(f".react-flow__node[data-id='{target}']").inner_text(), "the card is on screen"
        browser.close()
    print(f"editor_typing: {count} blocks, {len(all_handling)} keys, handling per key median "
          f"{statistics.median(all_handling):.1f} ms, p95 {pct(all_handling, 0.95):.1f} ms (a frame is 16.7 ms)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=300)
    parser.add_argument("--keys", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    editor_served(args.nodes, "fluxo-bench-typing-",
                  lambda base, flow_id: measure(base, flow_id, args.nodes, args.keys, args.runs))



if __name__ == "__main__":
    main()
