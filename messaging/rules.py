"""WhatsApp's rules, checked before a message is queued. Each refusal says how to fix it.

The engine calls :func:`outbound_check` through ``message_queue_outbound``; a refusal is a
:class:`SendRefused`, which the flow runtime turns into a step error shown on the node in the run
trace, so it names the rule and the way out (pick another template, collect the opt-in, fix the
number, ...).
"""

from __future__ import annotations

import re

from django.utils import timezone
from django.utils.translation import gettext

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


def _status_label(status: str) -> str:
    try:
        return str(MessageTemplate.Status(status).label).lower()
    except ValueError:
        return status


def _consent_label(state: str) -> str:
    try:
        return str(Contact.Consent(state).label).lower()
    except ValueError:
        return state


def _category_label(category: str) -> str:
    try:
        return str(MessageTemplate.Category(category.upper()).label).lower()
    except ValueError:
        return category


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
        raise SendRefused(gettext("%(error)s; fix the contact's phone number (E.164, e.g. +5511987654321)")
                          % {"error": exc},
                        code="invalid_phone") from exc
    region = phone_restricted_region(e164)
    if region:
        raise SendRefused(
            gettext("WhatsApp Business cannot message numbers from %(region)s (%(phone)s); "
                    "remove this contact from the flow") % {"region": region, "phone": e164},
            code="restricted_country",
        )


def _check_shape(kind: str, content: dict) -> None:
    """Limits of the Cloud API that a flow can break with its own data (long text, too many rows)."""
    if kind == "text":
        body = (content.get("text") or {}).get("body", "")
        if not body:
            raise SendRefused(gettext("the message text is empty; write a text in the node"), code="empty_text")
        if len(body) > MAX_TEXT:
            raise SendRefused(gettext("the text has %(count)s characters, WhatsApp takes at most %(limit)s; shorten it")
                              % {"count": len(body), "limit": MAX_TEXT},
                            code="text_too_long")
    if kind == "interactive":
        interactive = content.get("interactive") or {}
        action = interactive.get("action") or {}
        if len((interactive.get("body") or {}).get("text", "")) > 1024:
            raise SendRefused(gettext("the text above the buttons has more than %(limit)s characters; shorten it")
                              % {"limit": 1024},
                            code="text_too_long")
        if interactive.get("type") == "button" and len(action.get("buttons") or []) > MAX_BUTTONS:
            raise SendRefused(gettext("WhatsApp shows at most %(limit)s reply buttons; use a list for more options")
                              % {"limit": MAX_BUTTONS},
                            code="too_many_buttons")
        if interactive.get("type") == "list":
            rows = sum(len(s.get("rows") or []) for s in action.get("sections") or [])
            if rows > MAX_LIST_ROWS:
                raise SendRefused(gettext("a list has at most %(limit)s rows (this one has %(count)s); remove some")
                                  % {"limit": MAX_LIST_ROWS, "count": rows},
                                code="too_many_rows")


def _check_template(*, contact: Contact, channel, content: dict) -> MessageTemplate:
    spec = content.get("template") or {}
    name, language = spec.get("name", ""), (spec.get("language") or {}).get("code", "")
    template = template_find(channel=channel, name=name, language=language)
    if template is None:
        other = MessageTemplate.objects.filter(name=name).values_list("language", flat=True)
        if other:
            message = gettext("template '%(template)s' (%(language)s) does not exist on this channel (it exists in "
                              "%(languages)s); sync templates or pick another") % {
                "template": name, "language": language, "languages": ", ".join(sorted(set(other)))}
        else:
            message = gettext("template '%(template)s' (%(language)s) does not exist on this channel; "
                              "sync templates or pick another") % {"template": name, "language": language}
        raise SendRefused(message, code="template_not_found")
    if template.status != MessageTemplate.Status.APPROVED:
        raise SendRefused(gettext("template '%(template)s' (%(language)s) is %(state)s, not approved; "
                                  "pick an approved one")
                          % {"template": name, "language": language, "state": _status_label(template.status)},
                        code="template_not_approved")
    body = next((c for c in spec.get("components") or [] if str(c.get("type", "")).lower() == "body"),
                {"parameters": []})
    given = len(body.get("parameters") or [])
    if given != template.parameter_count:
        raise SendRefused(
            gettext("template '%(template)s' expects %(expected)s body variables, the node gives %(given)s; "
                    "map one value per variable")
            % {"template": name, "expected": template.parameter_count, "given": given}, code="template_param_count",
        )
    placeholders = template_placeholders(template.body_text)
    named = [p for p in placeholders if not p.isdigit()]
    if named:
        names = {p.get("parameter_name") for p in body.get("parameters") or []}
        missing = [p for p in named if p not in names]
        if missing:
            raise SendRefused(gettext("template '%(template)s' uses named variables %(names)s; give each value its name")
                              % {"template": name, "names": ", ".join(missing)},
                            code="template_param_names")
    category = str(template.category).lower()
    state = contact.consent_state(category)
    if template.category == MessageTemplate.Category.MARKETING:
        if state == Contact.Consent.OPTED_OUT:
            raise SendRefused(gettext("this contact opted out of marketing messages; never send them marketing templates"),
                            code="opted_out")
        if state != Contact.Consent.OPTED_IN:
            raise SendRefused(
                gettext("marketing templates go only to contacts opted in to marketing (this contact: %(state)s); "
                        "use a utility template or collect the opt-in first") % {"state": _consent_label(state)},
                code="marketing_not_opted_in",
            )
    elif state == Contact.Consent.OPTED_OUT:
        raise SendRefused(gettext("this contact opted out of %(category)s messages; do not send them %(category)s templates")
                          % {"category": _category_label(category)},
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
            gettext("the message would contain the secret of vault credential(s) %(names)s; never send a credential "
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
        raise SendRefused(gettext("the contact has no channel to be reached on; set one on the contact"), code="no_channel")
    if channel.is_paused:
        raise SendRefused(gettext("channel '%(channel)s' is paused (%(reason)s); fix it in the admin and resume it")
                          % {"channel": channel, "reason": channel.pause_reason},
                        code="channel_paused")
    if kind in FREE_FORM_KINDS and not contact.in_service_window(timezone.now()):
        raise SendRefused(
            gettext("outside the 24-hour window since the contact's last message: use a template (%(node)s)")
            % {"node": gettext("Send template")},
            code="outside_window",
        )
    _check_shape(kind, content)
    if kind != "template":
        return None
    return _check_template(contact=contact, channel=channel, content=content)
