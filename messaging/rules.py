"""WhatsApp's rules, checked before a message is queued. Each refusal says how to fix it.

The engine calls :func:`outbound_check` through ``message_queue_outbound``; a refusal is a
:class:`SendRefused`, which the flow runtime turns into a step error shown on the node in the run
trace, so it names the rule and the way out (pick another template, collect the opt-in, fix the
number, ...).
"""

from __future__ import annotations

import re

from django.utils import timezone
from django.utils.translation import gettext as _

from core.secrets import secrets_found
from messaging.models import Contact, MessageTemplate
from messaging.phones import InvalidPhone, phone_normalize, phone_restricted_region

FREE_FORM_KINDS = {"text", "interactive", "image", "audio", "video", "document", "sticker", "location",
                   "contacts", "reaction"}
MAX_TEXT = 4096
MAX_BUTTONS = 3
MAX_LIST_ROWS = 10


class SendRefused(Exception):
    """WhatsApp would refuse (or forbid) this message. ``message`` says how to fix it."""

    def __init__(self, message: str, *, code: str = "send_refused", details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = details or {}


_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


def template_find(*, channel, name: str, language: str) -> MessageTemplate | None:
    """The channel's own template of that name and language, else the global one (channel NULL)."""
    template = None
    if channel is not None:
        template = MessageTemplate.objects.filter(channel=channel, name=name, language=language).first()
    if template is None:
        template = MessageTemplate.objects.filter(channel__isnull=True, name=name, language=language).first()
    return template


def template_placeholders(text: str) -> list[str]:
    """Distinct ``{{1}}`` / ``{{name}}`` placeholders of a template text, in order of appearance."""
    seen: list[str] = []
    for key in _PLACEHOLDER.findall(text or ""):
        if key not in seen:
            seen.append(key)
    return seen


def _check_phone(contact: Contact) -> None:
    try:
        e164 = phone_normalize(contact.phone)
    except InvalidPhone as exc:
        raise SendRefused(f"{exc}; fix the contact's phone number (E.164, e.g. +5511987654321)",
                        code="invalid_phone") from exc
    region = phone_restricted_region(e164)
    if region:
        raise SendRefused(
            f"WhatsApp Business cannot message numbers from {region} ({e164}); remove this contact from the flow",
            code="restricted_country",
        )


def _check_shape(kind: str, content: dict) -> None:
    """Limits of the Cloud API that a flow can break with its own data (long text, too many rows)."""
    if kind == "text":
        body = (content.get("text") or {}).get("body", "")
        if not body:
            raise SendRefused("the message text is empty; write a text in the node", code="empty_text")
        if len(body) > MAX_TEXT:
            raise SendRefused(f"the text has {len(body)} characters, WhatsApp takes at most {MAX_TEXT}; shorten it",
                            code="text_too_long")
    if kind == "interactive":
        interactive = content.get("interactive") or {}
        action = interactive.get("action") or {}
        if len((interactive.get("body") or {}).get("text", "")) > 1024:
            raise SendRefused("the text above the buttons has more than 1024 characters; shorten it",
                            code="text_too_long")
        if interactive.get("type") == "button" and len(action.get("buttons") or []) > MAX_BUTTONS:
            raise SendRefused(f"WhatsApp shows at most {MAX_BUTTONS} reply buttons; use a list for more options",
                            code="too_many_buttons")
        if interactive.get("type") == "list":
            rows = sum(len(s.get("rows") or []) for s in action.get("sections") or [])
            if rows > MAX_LIST_ROWS:
                raise SendRefused(f"a list has at most {MAX_LIST_ROWS} rows (this one has {rows}); remove some",
                                code="too_many_rows")


def _check_template(*, contact: Contact, channel, content: dict) -> MessageTemplate:
    spec = content.get("template") or {}
    name, language = spec.get("name", ""), (spec.get("language") or {}).get("code", "")
    template = template_find(channel=channel, name=name, language=language)
    if template is None:
        other = MessageTemplate.objects.filter(name=name).values_list("language", flat=True)
        hint = f" (it exists in {', '.join(sorted(set(other)))})" if other else ""
        raise SendRefused(f"template '{name}' ({language}) does not exist on this channel{hint}; "
                        "sync templates or pick another", code="template_not_found")
    if template.status != MessageTemplate.Status.APPROVED:
        raise SendRefused(f"template '{name}' ({language}) is {template.status}, not APPROVED; pick an approved one",
                        code="template_not_approved")
    body = next((c for c in spec.get("components") or [] if str(c.get("type", "")).lower() == "body"),
                {"parameters": []})
    given = len(body.get("parameters") or [])
    if given != template.parameter_count:
        raise SendRefused(
            f"template '{name}' expects {template.parameter_count} body variables, the node gives "
            f"{given}; map one value per variable", code="template_param_count",
        )
    placeholders = template_placeholders(template.body_text)
    named = [p for p in placeholders if not p.isdigit()]
    if named:
        names = {p.get("parameter_name") for p in body.get("parameters") or []}
        missing = [p for p in named if p not in names]
        if missing:
            raise SendRefused(f"template '{name}' uses named variables {', '.join(missing)}; give each value its name",
                            code="template_param_names")
    category = str(template.category).lower()
    state = contact.consent_state(category)
    if template.category == MessageTemplate.Category.MARKETING:
        if state == Contact.Consent.OPTED_OUT:
            raise SendRefused("this contact opted out of marketing messages; never send them marketing templates",
                            code="opted_out")
        if state != Contact.Consent.OPTED_IN:
            raise SendRefused(
                "marketing templates go only to contacts opted in to marketing "
                f"(this contact: {state}); use a utility template or collect the opt-in first",
                code="marketing_not_opted_in",
            )
    elif state == Contact.Consent.OPTED_OUT:
        raise SendRefused(f"this contact opted out of {category} messages; do not send them {category} templates",
                        code="opted_out")
    return template


def _check_secrets(content: dict) -> None:
    """Rule ``secret_in_message``: no vault secret goes to a customer, in clear or as its mask.

    A company API that echoed a credential leaves its mask (``[segredo: <name>]``) in the run's
    variables; a message built from them (text, template parameters, buttons, an AI answer) is
    refused here, before it is queued, instead of sending the customer a secret or a placeholder.
    """
    names = secrets_found(content)
    if names:
        raise SendRefused(
            _("the message would contain the secret of vault credential(s) %(names)s; never send a credential "
              "to a contact: map only the response fields you need") % {"names": ", ".join(names)},
            code="secret_in_message", details={"credentials": names},
        )


def send_time_check(*, contact: Contact, channel, kind: str, content: dict) -> None:
    """What can change between queueing and sending, checked again when a worker claims the message:
    consent (an opt-out stops queued marketing at once) and the template's approval."""
    if kind == "template":
        _check_template(contact=contact, channel=channel, content=content)


def outbound_check(*, contact: Contact, channel, kind: str, content: dict) -> MessageTemplate | None:
    """Raise :class:`SendRefused` when WhatsApp would refuse (or forbid) this message.

    Returns the template record for template messages.
    """
    _check_secrets(content)
    _check_phone(contact)
    if channel is None:
        raise SendRefused("the contact has no channel to be reached on; set one on the contact", code="no_channel")
    if channel.is_paused:
        raise SendRefused(f"channel '{channel}' is paused ({channel.pause_reason}); fix it in the admin and resume it",
                        code="channel_paused")
    if kind in FREE_FORM_KINDS and not contact.in_service_window(timezone.now()):
        raise SendRefused(
            "outside the 24-hour window since the contact's last message: use a template (Enviar template)",
            code="outside_window",
        )
    _check_shape(kind, content)
    if kind != "template":
        return None
    return _check_template(contact=contact, channel=channel, content=content)
