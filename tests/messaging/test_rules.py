"""Every rule checked before sending: each refusal is a SendRefused that says how to fix it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from messaging.models import Contact
from messaging.phones import phone_restricted_region
from messaging.rules import SendRefused, outbound_check
from tests.english import run_in_english  # noqa: F401  (the messages checked here are the English ones)
from tests.factories import make_contact, make_template

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("run_in_english")]

TEXT = {"text": {"body": "oi", "preview_url": False}}


def template_content(name="lembrete", language="pt_BR", params=("Ana",), named=False):
    parameters = [{"type": "text", "text": v, **({"parameter_name": f"p{i}"} if named else {})}
                  for i, v in enumerate(params)]
    return {"template": {"name": name, "language": {"code": language},
                         "components": [{"type": "body", "parameters": parameters}] if parameters else []}}


def refuse(contact, kind, content, code):
    with pytest.raises(SendRefused) as info:
        outbound_check(contact=contact, channel=contact.channel, kind=kind, content=content)
    assert info.value.code == code, info.value.message
    return info.value.message


def test_a_valid_free_form_message_passes(contact):
    assert outbound_check(contact=contact, channel=contact.channel, kind="text", content=TEXT) is None


def test_invalid_phone(channel):
    contact = make_contact(phone="+55 11 123", channel=channel)
    assert "fix the contact's phone" in refuse(contact, "text", TEXT, "invalid_phone")


@pytest.mark.parametrize("phone,region", [
    ("+5352123456", "Cuba"), ("+989121234567", "Iran"), ("+8501912345678", "North Korea"),
    ("+963944567890", "Syria"), ("+79781234567", "Crimea"), ("+78561234567", "Donetsk"),
    ("+78571234567", "Luhansk"),
])
def test_restricted_countries(channel, phone, region):
    assert phone_restricted_region(phone) == region
    contact = Contact.objects.create(phone=phone, channel=channel, last_inbound_at=timezone.now())
    message = refuse(contact, "text", TEXT, "restricted_country")
    assert region in message or "invalid" in message


def test_russia_outside_the_restricted_areas_is_allowed():
    assert phone_restricted_region("+74951234567") is None
    assert phone_restricted_region("+5511987654321") is None


def test_outside_the_24_hour_window_free_form_needs_a_template(channel):
    contact = make_contact(channel=channel, in_window=False)
    assert "use a template" in refuse(contact, "text", TEXT, "outside_window")
    Contact.objects.filter(pk=contact.pk).update(last_inbound_at=timezone.now() - timedelta(hours=24, minutes=1))
    contact.refresh_from_db()
    refuse(contact, "interactive", {"interactive": {"type": "button"}}, "outside_window")
    Contact.objects.filter(pk=contact.pk).update(last_inbound_at=timezone.now() - timedelta(hours=23, minutes=59))
    contact.refresh_from_db()
    assert outbound_check(contact=contact, channel=channel, kind="text", content=TEXT) is None


def test_templates_work_outside_the_window(channel):
    make_template("lembrete", body="Olá {{1}}!")
    contact = make_contact(channel=channel, in_window=False)
    assert outbound_check(contact=contact, channel=channel, kind="template", content=template_content()).name == "lembrete"


def test_text_limits(contact):
    refuse(contact, "text", {"text": {"body": "x" * 4097}}, "text_too_long")
    assert outbound_check(contact=contact, channel=contact.channel, kind="text", content={"text": {"body": "x" * 4096}}) is None
    buttons = [{"type": "reply", "reply": {"id": str(i), "title": str(i)}} for i in range(4)]
    refuse(contact, "interactive", {"interactive": {"type": "button", "body": {"text": "x"},
                                                    "action": {"buttons": buttons}}}, "too_many_buttons")
    rows = [{"id": str(i), "title": str(i)} for i in range(11)]
    refuse(contact, "interactive", {"interactive": {"type": "list", "body": {"text": "x"},
                                                    "action": {"button": "b", "sections": [{"rows": rows}]}}},
           "too_many_rows")


def test_template_must_exist_in_that_language(contact):
    make_template("lembrete", language="en_US")
    message = refuse(contact, "template", template_content(), "template_not_found")
    assert "en_US" in message and "sync templates or pick another" in message


@pytest.mark.parametrize("status", ["PENDING", "REJECTED", "PAUSED", "DISABLED"])
def test_template_must_be_approved(contact, status):
    make_template("lembrete", status=status)
    assert "pick an approved one" in refuse(contact, "template", template_content(), "template_not_approved")


def test_template_parameter_count(contact):
    make_template("lembrete", body="Olá {{1}}, consulta em {{2}}.")
    message = refuse(contact, "template", template_content(params=("Ana",)), "template_param_count")
    assert "expects 2" in message and "gives 1" in message
    assert outbound_check(contact=contact, channel=contact.channel, kind="template",
                          content=template_content(params=("Ana", "10/12"))) is not None


def test_named_template_parameters_need_their_names(contact):
    make_template("pedido", body="Olá {{nome}}, pedido {{numero}}.")
    refuse(contact, "template", template_content("pedido", params=("Ana", "1")), "template_param_names")
    good = {"template": {"name": "pedido", "language": {"code": "pt_BR"}, "components": [{"type": "body", "parameters": [
        {"type": "text", "parameter_name": "nome", "text": "Ana"},
        {"type": "text", "parameter_name": "numero", "text": "1"}]}]}}
    assert outbound_check(contact=contact, channel=contact.channel, kind="template", content=good) is not None


def test_channel_template_wins_over_the_global_one(contact):
    make_template("lembrete", status="REJECTED", channel=contact.channel)
    make_template("lembrete", status="APPROVED", channel=None)
    refuse(contact, "template", template_content(), "template_not_approved")


def test_marketing_only_to_opted_in(contact):
    make_template("promo", category="MARKETING")
    assert "collect the opt-in" in refuse(contact, "template", template_content("promo"), "marketing_not_opted_in")
    contact.consent = {"marketing": {"state": "opted_in"}}
    assert outbound_check(contact=contact, channel=contact.channel, kind="template",
                          content=template_content("promo")) is not None


def test_never_marketing_to_opted_out(contact):
    make_template("promo", category="MARKETING")
    contact.consent = {"marketing": {"state": "opted_out"}}
    assert "opted out" in refuse(contact, "template", template_content("promo"), "opted_out")


def test_opted_out_of_utility_blocks_utility_templates(contact):
    make_template("lembrete")
    contact.consent = {"utility": {"state": "opted_out"}}
    refuse(contact, "template", template_content(), "opted_out")


def test_opt_out_stops_marketing_at_once(contact, django_capture_on_commit_callbacks):
    """The consent written by the webhook path is read by the very next send."""
    from messaging.services import contact_consent_set, message_queue_outbound

    make_template("promo", category="MARKETING")
    contact_consent_set(contact=contact, categories=["marketing"], state="opted_in", source="test")
    with django_capture_on_commit_callbacks(execute=False):
        message_queue_outbound(contact=contact, conversation=None, kind="template",
                               content=template_content("promo"), idempotency_key="a")
        contact_consent_set(contact=Contact.objects.get(pk=contact.pk), categories=["marketing"],
                            state="opted_out", source="keyword SAIR")
        with pytest.raises(SendRefused, match="opted out"):
            message_queue_outbound(contact=Contact.objects.get(pk=contact.pk), conversation=None, kind="template",
                                   content=template_content("promo"), idempotency_key="b")


def test_no_channel(db):
    contact = Contact.objects.create(phone="+5511987654321", last_inbound_at=timezone.now())
    refuse(contact, "text", TEXT, "no_channel")
