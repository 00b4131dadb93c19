"""Small Playwright helpers for driving the flow editor like a person does."""

from __future__ import annotations

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


def _in_canvas_view(page, locator) -> bool:
    box, canvas = locator.bounding_box(), page.locator(".canvas").first.bounding_box()
    return bool(box and canvas and box["x"] >= canvas["x"] and box["y"] >= canvas["y"]
                and box["x"] + box["width"] <= canvas["x"] + canvas["width"]
                and box["y"] + box["height"] <= canvas["y"] + canvas["height"])


def search_block(page, text: str, *, keyboard: bool = False) -> None:
    """Block search (Ctrl+K or the toolbar's ⌕), type, Enter: selects and centres the first match."""
    if keyboard:
        page.locator("[data-testid=canvas]").focus()
        page.keyboard.press("Control+k")
    else:
        page.click("[data-testid=open-search]")
    page.locator("[data-testid=search-input]").fill(text)
    page.locator("[data-testid=search-input]").press("Enter")
    page.locator("[data-testid=search-dialog]").wait_for(state="detached")


def select_node(page, node_id: str) -> None:
    """Clicks a block on the canvas; one outside the view is found with the search (Ctrl+K)."""
    header = page.locator(f"[data-testid=node-{node_id}] header").first
    header.wait_for(state="attached")
    page.wait_for_timeout(50)  # a fit-view animation may still be placing it
    if _in_canvas_view(page, header):
        header.click()
    else:
        search_block(page, node_id)
    page.locator(f"[data-testid=side-panel] [data-testid=node-id]:text-is('{node_id}')").wait_for()


def pick_variable(page, field, typed: str, variable: str) -> None:
    """Types the start of an expression and picks the variable from the autocomplete list."""
    field.click()
    field.press_sequentially(typed, delay=20)
    page.locator(f"[data-testid=autocomplete] li[data-name='{variable}']").click()


def add_after(page, source: str, port: str, node_type: str) -> str:
    """Clicks "+" on a block's output port and picks a block type; returns the new block's id."""
    before = page.locator(".react-flow__node").count()
    page.locator(f"[data-testid=port-add-{source}-{port}]").click()
    page.locator("[data-testid=quick-add]").wait_for()
    page.locator(f"[data-testid=quick-add-{node_type}]").click()
    page.wait_for_function(f"document.querySelectorAll('.react-flow__node').length > {before}")
    node_id = page.locator(".react-flow__node.selected").get_attribute("data-id")
    assert node_id and node_id.startswith(node_type), node_id
    page.locator(f".react-flow__edge[data-id='e_{source}_{port}_{node_id}']").wait_for(state="attached")
    return node_id


def wait_saved(page) -> None:
    page.locator("[data-testid=save-status][data-status=saved]").wait_for()
