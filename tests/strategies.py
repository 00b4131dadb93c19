"""Hypothesis strategies for hostile input: JSON of any shape, Meta-shaped webhook payloads with a
wrong type in any field, bytes that are not JSON, NUL, lone surrogates, huge numbers, deep nesting.

Used by the property-based tests (tests/core/test_fuzz_public.py, tests/messaging/test_fuzz_webhook.py).
Everything here is data; the tests decide what the answer must be.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

# Text that has broken something before: NUL, a lone surrogate, a right-to-left mark, an emoji
# (a surrogate pair once escaped), SQL and template syntax, a very long word.
NASTY_TEXT = ["", "\x00", "a\x00b", "\ud800", "x\udfffy", "\u202e", "😀", "' OR 1=1 --", "{{contact.name}}",
              "%00", "\\u0000", "null", "true", "-1", "1e999", "9" * 400, "ção", " " * 3]

nasty_text = st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=40),
                       st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=12))
huge_numbers = st.sampled_from([2**63, -(2**63) - 1, 10**30, 2**64 + 1, 1e308, -1e308, 5e-324])
scalars = st.one_of(st.none(), st.booleans(), st.integers(), huge_numbers,
                    st.floats(allow_nan=False, allow_infinity=False), nasty_text)


def json_values(*, max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """Any JSON value (keys and strings may hold NUL or lone surrogates)."""
    return st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(nasty_text, inner, max_size=4)), max_leaves=max_leaves)


def deep(depth: int, *, kind: str = "list", leaf: str = "1") -> str:
    """JSON text nested ``depth`` levels deep (built as text: no recursion)."""
    if kind == "list":
        return "[" * depth + leaf + "]" * depth
    return '{"a":' * depth + leaf + "}" * depth


deep_json = st.builds(deep, st.integers(min_value=60, max_value=5000), kind=st.sampled_from(["list", "object"]),
                      leaf=st.sampled_from(["1", '"\\u0000"', "1e999", "[]"]))

# JSON text a stock json.dumps would not produce: bad constants, huge exponents, escapes PostgreSQL refuses.
RAW_JSON = ['{"a": NaN}', "[Infinity]", '{"n": 1e999}', '{"n": -1e999}', '{"s": "\\u0000"}', '{"\\u0000": 1}',
            '["\\ud800"]', '{"s": "\\udc00\\ud800"}', '{"n": ' + "9" * 5000 + "}", "{", "[1,]", '{"a" 1}', "",
            "\x00", '"\x00"', "\ufeff{}", "{}garbage", "[" * 30 + "]" * 29]
raw_json = st.sampled_from(RAW_JSON)


def to_bytes(value: Any) -> bytes:
    """Meta's encoding: compact, non-ASCII (and lone surrogates) escaped as \\uXXXX."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":")).encode()


def hostile_bodies(*, valid: st.SearchStrategy[Any] | None = None) -> st.SearchStrategy[bytes]:
    """Request bodies: JSON of any shape, deep nesting, raw JSON oddities, random bytes, invalid UTF-8."""
    choices = [json_values().map(to_bytes), deep_json.map(str.encode), raw_json.map(lambda t: t.encode()),
               st.binary(max_size=200), st.sampled_from([b"\xff\xfe", b'{"a": "\xff"}', b"\x00" * 8])]
    if valid is not None:
        choices.insert(0, valid.map(to_bytes))
    return st.one_of(*choices)


def maybe(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usually the right thing, sometimes any JSON value in its place (a wrong type)."""
    return st.one_of(good, good, good, json_values(max_leaves=4))


def meta_payloads(phone_number_id: str, *, senders: list[str] | None = None) -> st.SearchStrategy[Any]:
    """Payloads shaped like Meta's webhooks (messages, statuses, contacts) with a wrong type anywhere."""
    senders = senders or ["5511987654321", "16505551234"]
    wa_id = maybe(st.sampled_from(senders))
    profile = maybe(st.fixed_dictionaries({"name": maybe(nasty_text)}))
    contact = maybe(st.fixed_dictionaries({"profile": profile, "wa_id": wa_id}))
    text_message = st.fixed_dictionaries({
        "from": wa_id, "id": maybe(st.text(min_size=1, max_size=20).map(lambda s: f"wamid.{s}")),
        "timestamp": maybe(st.sampled_from(["1749416383", "0", "-1", "99999999999999", "abc"])),
        "type": maybe(st.sampled_from(["text", "image", "interactive", "button", "reaction", "location", "weird"])),
        "text": maybe(st.fixed_dictionaries({"body": maybe(nasty_text)})),
        "interactive": maybe(st.fixed_dictionaries({
            "type": maybe(st.sampled_from(["button_reply", "list_reply", "nfm_reply"])),
            "button_reply": maybe(st.fixed_dictionaries({"id": maybe(nasty_text), "title": maybe(nasty_text)}))})),
        "context": maybe(st.fixed_dictionaries({"id": maybe(nasty_text), "from": maybe(nasty_text)})),
    })
    status = maybe(st.fixed_dictionaries({
        "id": maybe(nasty_text), "status": maybe(st.sampled_from(["sent", "delivered", "read", "failed", "odd"])),
        "timestamp": maybe(st.sampled_from(["1749416383", "x"])), "recipient_id": wa_id,
        "errors": maybe(st.lists(st.fixed_dictionaries({"code": maybe(st.integers()),
                                                         "title": maybe(nasty_text)}), max_size=2)),
    }))
    metadata = maybe(st.fixed_dictionaries({"display_phone_number": maybe(nasty_text),
                                            "phone_number_id": maybe(st.just(phone_number_id))}))
    value = maybe(st.fixed_dictionaries({
        "messaging_product": maybe(st.just("whatsapp")), "metadata": metadata,
        "contacts": maybe(st.lists(contact, max_size=2)), "messages": maybe(st.lists(maybe(text_message), max_size=3)),
        "statuses": maybe(st.lists(status, max_size=2)),
    }))
    change = maybe(st.fixed_dictionaries({"field": maybe(st.sampled_from(["messages", "group_lifecycle_update",
                                                                          "message_template_status_update"])),
                                          "value": value}))
    entry = maybe(st.fixed_dictionaries({"id": maybe(st.just("102290129340398")),
                                         "changes": maybe(st.lists(change, max_size=2))}))
    return maybe(st.fixed_dictionaries({"object": maybe(st.just("whatsapp_business_account")),
                                        "entry": maybe(st.lists(entry, max_size=2))}))


def webhook_bodies(phone_number_id: str) -> st.SearchStrategy[bytes]:
    """What a validly signed caller might POST: Meta's shape with wrong types, or anything else."""
    return st.one_of(meta_payloads(phone_number_id).map(to_bytes), meta_payloads(phone_number_id).map(to_bytes),
                     hostile_bodies())


query_values = st.one_of(nasty_text, st.sampled_from(["abc", "null", "false", "-1", "1.5", "²", "0", "1",
                                                      "99999999999999999999999", "%00", "active", "in"]))
