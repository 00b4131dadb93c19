"""Small Playwright helpers for driving the flow editor like a person does."""

from __future__ import annotations

import re

PASSWORD = "s3nha-forte-123"


def login(page, username: str, password: str = PASSWORD) -> None:
    page.goto(page.base_url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("[data-testid=login-form] button[type=submit]")
    page.wait_for_selector("[data-testid=current-user]")


def drop_node(page, node_type: str, x: float, y: float) -> str:
    """Drags a palette item onto the canvas at (x, y) of the pane; returns the new node's id."""
    before = page.locator(".react-flow__node").count()
    page.locator(f"[data-testid=palette-{node_type}]").drag_to(
        page.locator(".react-flow__pane"), target_position={"x": x, "y": y})
    page.wait_for_function(f"document.querySelectorAll('.react-flow__node').length > {before}")
    node_id = page.locator(".react-flow__node.selected").get_attribute("data-id")
    assert node_id and node_id.startswith(node_type), node_id
    return node_id


def connect(page, source: str, port: str, target: str) -> None:
    """Drags from an output port handle to the target's input handle, as a mouse would."""
    start = page.locator(f"[data-testid=port-{source}-{port}]").bounding_box()
    end = page.locator(f"[data-testid=target-{target}]").bounding_box()
    assert start and end, (source, port, target)
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2 - 20, end["y"] + end["height"] / 2, steps=8)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=4)
    page.mouse.up()
    page.locator(f".react-flow__edge[data-id='e_{source}_{port}_{target}']").wait_for(state="attached")


def select_node(page, node_id: str) -> None:
    page.locator(f"[data-testid=node-{node_id}] header").click()
    page.locator("[data-testid=side-panel]").get_by_text(node_id).wait_for()


def pick_variable(page, field, typed: str, variable: str) -> None:
    """Types the start of an expression and picks the variable from the autocomplete list."""
    field.click()
    field.press_sequentially(typed, delay=20)
    page.locator("[data-testid=autocomplete] li", has_text=re.compile(rf"^{re.escape(variable)}$")).click()


def wait_saved(page) -> None:
    page.locator("[data-testid=save-status][data-status=saved]").wait_for()
