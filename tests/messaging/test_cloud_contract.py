"""Contract: for each kind of message Fluxo sends, the body has the structure of Meta's example.

Structure = the same keys at every level and the same JSON types of values (strings vs numbers
vs booleans vs objects vs arrays); a list item is compared with the example's item of the same
``type`` (components, parameters), else the one at the same position. Meta's
placeholder values (``<BODY_TEXT>``) are of course not compared.

Deviations allowed, with the reason:
* ``biz_opaque_callback_data`` is added to every message we send from a stored Message: it carries
  our idempotency key so a status webhook can complete a send whose worker died (Meta documents
  the field for messages; the v23.0 spec only lists it under calls).
* ``recipient_type`` and ``type`` are always sent: a few of Meta's examples leave them out
  ("Send Text Message with Preview URL", "Send Test Message", "Send Reply to List Message") while
  the other examples of the same kind carry them.
"""

from __future__ import annotations

import pytest

from messaging.providers import whatsapp_cloud as wa
from tests.messaging.conftest import outbound_examples

EXAMPLES = outbound_examples()
ALWAYS_SENT = {"recipient_type", "type"}
TO = "+16505551234"


def shape(value):
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def assert_same_structure(ours, theirs, path="$", extra_ok=frozenset()):
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), f"{path}: expected an object"
        missing = set(theirs) - set(ours)
        extra = set(ours) - set(theirs) - set(extra_ok)
        assert not missing, f"{path}: missing {sorted(missing)}"
        assert not extra, f"{path}: unexpected {sorted(extra)}"
        for key in theirs:
            assert_same_structure(ours[key], theirs[key], f"{path}.{key}")
    elif isinstance(theirs, list):
        assert isinstance(ours, list) and ours, f"{path}: expected a non-empty array"
        if theirs:
            for i, item in enumerate(ours):
                assert_same_structure(item, _counterpart(item, theirs, i), f"{path}[{i}]")
    else:
        assert shape(ours) == shape(theirs) or (shape(theirs) == "str" and path.endswith(".to")), \
            f"{path}: {shape(ours)} vs {shape(theirs)}"


def _counterpart(item, theirs: list, index: int):
    """The example item to compare with: the first of the same ``type`` (components, parameters),
    else the one at the same index, else the last."""
    if isinstance(item, dict) and "type" in item:
        same = [t for t in theirs if isinstance(t, dict) and t.get("type") == item["type"]]
        if same:
            return same[0]
    return theirs[min(index, len(theirs) - 1)]


def media(kind, **kw):
    return wa.build_media(TO, kind, **kw)


CASES = {
    "Send Text Message": lambda: wa.build_text(TO, "oi"),
    "Send Text Message with Preview URL": lambda: wa.build_text(TO, "veja https://x.example", preview_url=True),
    "Send Reply to Text Message": lambda: wa.build_text(TO, "oi", reply_to="wamid.X"),
    "Send Reply Button": lambda: wa.build_buttons(TO, "Escolha", [{"id": "a", "title": "A"}, {"id": "b", "title": "B"}]),
    "Send List Message": lambda: wa.build_list(
        TO, "Escolha", "Ver opções",
        [{"title": "S1", "rows": [{"id": "r1", "title": "R1", "description": "d1"}]},
         {"title": "S2", "rows": [{"id": "r2", "title": "R2", "description": "d2"}]}],
        header="Cabeçalho", footer="Rodapé"),
    "Send Reply to List Message": lambda: wa.build_list(
        TO, "Escolha", "Ver", [{"title": "S1", "rows": [{"id": "r1", "title": "R1", "description": "d"}]}],
        header="H", footer="F", reply_to="wamid.X"),
    "Send Message Template Text": lambda: wa.build_template(
        TO, "pedido", "pt_BR", wa.template_components(body=["Maria", "123"])),
    "Send Message Template Media": lambda: wa.build_template(
        TO, "pedido", "pt_BR", wa.template_components(body=["Maria"], header_media={"type": "image",
                                                                                 "link": "https://x/y.png"})),
    "Send Message Template Interactive": lambda: wa.build_template(
        TO, "pedido", "pt_BR", wa.template_components(
            body=["Maria"], header_media={"type": "image", "link": "https://x/y.png"},
            buttons=[{"index": 0, "sub_type": "quick_reply", "value": "sim"},
                     {"index": 1, "sub_type": "quick_reply", "value": "nao"}])),
    "Send Test Message": lambda: wa.build_template(TO, "hello_world", "en_US"),
    "Send Image Message by ID": lambda: media("image", media_id="123"),
    "Send Image Message by URL": lambda: media("image", link="https://x/y.png"),
    "Send Reply to Image Message by ID": lambda: media("image", media_id="123", reply_to="wamid.X"),
    "Send Audio Message by ID": lambda: media("audio", media_id="123"),
    "Send Audio Message by URL": lambda: media("audio", link="https://x/y.ogg"),
    "Send Video Message by ID": lambda: media("video", media_id="123", caption="c"),
    "Send Video Message by URL": lambda: media("video", link="https://x/y.mp4", caption="c"),
    "Send Document Message by ID": lambda: media("document", media_id="123", caption="c", filename="f.pdf"),
    "Send Document Message by URL": lambda: media("document", link="https://x/f.pdf", caption="c"),
    "Send Sticker Message by ID": lambda: media("sticker", media_id="123"),
    "Send Sticker Message by URL": lambda: media("sticker", link="https://x/s.webp"),
    "Send Reply to Sticker Message by ID": lambda: media("sticker", media_id="1", reply_to="wamid.X"),
    "Send Reply with Reaction Message": lambda: wa.build_reaction(TO, "wamid.X", "😀"),
    "Send Location Message": lambda: wa.build_location(TO, latitude=-23.5, longitude=-46.6, name="Loja",
                                                       address="Av. Paulista, 1000"),
    "Send typing indicator and read receipt": lambda: wa.build_mark_read("wamid.X", typing=True),
}


def test_every_case_names_a_real_example():
    assert set(CASES) <= set(EXAMPLES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_body_has_the_structure_of_metas_example(name):
    assert_same_structure(CASES[name](), EXAMPLES[name], extra_ok=ALWAYS_SENT)


def test_named_template_parameters_carry_parameter_name():
    # No named-parameter example in the v23.0 spec; Meta's documentation adds "parameter_name".
    body = wa.build_template(TO, "pedido", "pt_BR", wa.template_components(body={"nome": "Maria"}))
    param = body["template"]["components"][0]["parameters"][0]
    assert param == {"type": "text", "parameter_name": "nome", "text": "Maria"}


def test_builders_refuse_what_whatsapp_refuses():
    with pytest.raises(ValueError):
        wa.build_buttons(TO, "x", [{"id": str(i), "title": str(i)} for i in range(4)])
    with pytest.raises(ValueError):
        wa.build_list(TO, "x", "b", [{"rows": [{"id": str(i), "title": str(i)} for i in range(11)]}])
    with pytest.raises(ValueError):
        wa.build_media(TO, "image", media_id="1", link="https://x")


@pytest.mark.django_db
@pytest.mark.parametrize("name,kind,content", [
    ("Send Text Message", "text", {"text": {"body": "oi", "preview_url": False}}),
    ("Send Reply Button", "interactive", {"interactive": {"type": "button", "body": {"text": "Escolha"}, "action": {
        "buttons": [{"type": "reply", "reply": {"id": "a", "title": "A"}}]}}}),
    ("Send Message Template Text", "template", {"template": {"name": "t", "language": {"code": "pt_BR"}, "components": [
        {"type": "body", "parameters": [{"type": "text", "text": "Maria"}]}]}}),
    ("Send Reply to Text Message", "text", {"text": {"body": "oi", "preview_url": False},
                                            "context": {"message_id": "wamid.X"}}),
])
def test_stored_messages_become_bodies_of_metas_structure(contact, name, kind, content):
    """What the engine's nodes store (send_message, send_template) goes out in Meta's shape."""
    from messaging.models import Message

    message = Message.objects.create(direction="out", kind=kind, content=content, contact=contact,
                                     channel=contact.channel, status="queued", idempotency_key=f"k-{name}")
    body = wa.build_for_message(message)
    assert body["biz_opaque_callback_data"] == f"k-{name}"
    assert_same_structure(body, EXAMPLES[name], extra_ok=ALWAYS_SENT | {"biz_opaque_callback_data"})
