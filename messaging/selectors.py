"""Reads of the messaging app (the API, the admin and the sandbox page use these)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from messaging.models import Channel, Contact, Message, MessageTemplate


def channel_list() -> QuerySet[Channel]:
    return Channel.objects.all().order_by("name")


def template_list(*, status: str | None = None, language: str | None = None, channel_id: Any = None,
                  category: str | None = None) -> QuerySet[MessageTemplate]:
    qs = MessageTemplate.objects.all().order_by("name", "language")
    if status:
        qs = qs.filter(status=status.upper())
    if language:
        qs = qs.filter(language=language)
    if category:
        qs = qs.filter(category=category.upper())
    if channel_id not in (None, ""):
        qs = qs.filter(channel_id=channel_id) | qs.filter(channel__isnull=True)
    return qs


def contact_list(*, q: str | None = None, channel_id: Any = None) -> QuerySet[Contact]:
    qs = Contact.objects.all().order_by("-id")
    if q:
        qs = qs.filter(phone__icontains=q) | qs.filter(name__icontains=q)
    if channel_id not in (None, ""):
        qs = qs.filter(channel_id=channel_id)
    return qs


def message_list(*, contact_id: Any = None, direction: str | None = None) -> QuerySet[Message]:
    qs = Message.objects.all().order_by("-id")
    if contact_id not in (None, ""):
        qs = qs.filter(contact_id=contact_id)
    if direction:
        qs = qs.filter(direction=direction)
    return qs


def sandbox_contacts() -> QuerySet[Contact]:
    sandbox_ids = [c.pk for c in Channel.objects.all() if c.provider_key == "sandbox"]
    return Contact.objects.filter(channel_id__in=sandbox_ids, is_test=False).order_by("name", "id")


def sandbox_contact(*, contact_id: Any) -> Contact | None:
    try:
        pk = int(contact_id)
    except (TypeError, ValueError):
        return None
    return sandbox_contacts().filter(pk=pk).first() or Contact.objects.filter(
        pk=pk, channel__in=[c.pk for c in Channel.objects.all() if c.provider_key == "sandbox"]).first()


def contact_card(contact: Contact) -> dict[str, Any]:
    return {"id": contact.pk, "name": contact.name, "phone": contact.phone,
            "in_window": contact.in_service_window(), "consent": contact.consent}


def _bubble(message: Message) -> dict[str, Any]:
    """What the sandbox phone shows for one message: text plus the buttons/rows the customer can tap."""
    content = message.content or {}
    item: dict[str, Any] = {"id": message.pk, "direction": message.direction, "kind": message.kind,
                            "status": message.status, "at": message.created_at.isoformat(), "text": "",
                            "wamid": message.provider_message_id or "", "error": message.error}
    if message.direction == Message.Direction.OUTBOUND:
        item["text"] = content.get("rendered_text") or (content.get("text") or {}).get("body", "")
        interactive = content.get("interactive") or {}
        action = interactive.get("action") or {}
        if interactive.get("type") == "button":
            item["buttons"] = [b.get("reply", {}) for b in action.get("buttons") or []]
        elif interactive.get("type") == "list":
            item["list"] = {"button": action.get("button", ""), "sections": action.get("sections") or []}
        if interactive.get("header", {}).get("text"):
            item["header"] = interactive["header"]["text"]
        if interactive.get("footer", {}).get("text"):
            item["footer"] = interactive["footer"]["text"]
        if message.kind == "template":
            template = content.get("template") or {}
            item["template"] = template.get("name", "")
            item["buttons"] = content.get("template_buttons") or []
    else:
        mtype = content.get("type", message.kind)
        if mtype == "text":
            item["text"] = (content.get("text") or {}).get("body", "")
        elif mtype == "interactive":
            inter = content.get("interactive") or {}
            item["text"] = (inter.get(inter.get("type", "")) or {}).get("title", "")
        elif mtype == "button":
            item["text"] = (content.get("button") or {}).get("text", "")
        else:
            item["text"] = f"[{mtype}]"
    return item


def sandbox_chat(*, contact: Contact, after: int = 0, limit: int = 200) -> list[dict[str, Any]]:
    messages = Message.objects.filter(contact=contact, pk__gt=after).order_by("id")[:limit]
    return [_bubble(m) for m in messages]


def contact_search(*, q: str | None = None, channel_id: Any = None, tag: str | None = None,
                   consent: str | None = None, consent_category: str = "marketing",
                   attribute: str | None = None, include_tests: bool = False) -> QuerySet[Contact]:
    """The contact list's filters: text (phone or name), tag, consent state, ``key=value`` attribute."""
    qs = contact_list(q=q, channel_id=channel_id)
    if not include_tests:
        qs = qs.filter(is_test=False)
    if tag:
        qs = qs.filter(tags__name=tag)
    if consent and consent_category in Contact.CONSENT_CATEGORIES:
        if consent == Contact.Consent.UNKNOWN:
            from django.db.models import Q

            state = f"consent__{consent_category}__state"
            qs = qs.filter(Q(**{f"{state}__isnull": True}) | ~Q(**{f"{state}__in": ["opted_in", "opted_out"]}))
        else:
            qs = qs.filter(**{f"consent__{consent_category}__state": consent})
    if attribute:
        key, _, value = attribute.partition("=")
        key = key.strip()
        if key.isidentifier():
            qs = qs.filter(**{f"attributes__{key}__icontains": value.strip()}) if value else qs.filter(
                attributes__has_key=key)
    return qs.distinct()


def contact_timeline(contact: Contact) -> dict[str, Any]:
    """The contact page: consent history, conversations and the latest messages with statuses."""
    from messaging.models import ConsentEvent, Conversation

    history = ConsentEvent.objects.filter(contact=contact).select_related("message", "actor", "contact_import")
    conversations = Conversation.objects.filter(contact=contact).select_related("assigned_team", "channel")[:50]
    messages = Message.objects.filter(contact=contact).order_by("-id")[:200]
    return {
        "consent_history": [{
            "id": item.pk, "category": item.category, "state": item.state, "source": item.source,
            "at": item.at.isoformat(), "note": item.note, "actor": item.actor.username if item.actor else None,
            "message": ({"id": item.message.pk, "text": _bubble(item.message)["text"],
                         "at": item.message.created_at.isoformat()} if item.message else None),
            "import": ({"id": item.contact_import.pk, "filename": item.contact_import.filename}
                       if item.contact_import else None),
        } for item in history[:500]],
        "conversations": [{
            "id": c.pk, "state": c.state, "channel": c.channel.name if c.channel else None,
            "team": c.assigned_team.name if c.assigned_team else None, "opened_at": c.opened_at.isoformat(),
            "closed_at": c.closed_at.isoformat() if c.closed_at else None,
            "messages": c.messages.count(),
        } for c in conversations],
        "messages": [{**_bubble(m), "conversation": m.conversation_id, "run": m.run_id,
                      "error_code": m.error_code} for m in messages],
    }
