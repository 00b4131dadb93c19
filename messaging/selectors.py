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
            header = next((c for c in template.get("components") or [] if c.get("type") == "header"), None)
            param = ((header or {}).get("parameters") or [{}])[0]
            if param.get("type") in MEDIA_KINDS:
                item["media"] = _outbound_media(param["type"], param.get(param["type"]) or {})
        if message.kind in MEDIA_KINDS:
            item["media"] = _outbound_media(message.kind, content.get(message.kind) or {})
            item["text"] = item["media"].get("caption", "")
        _rich_text(item, message.kind, content)
    else:
        mtype = content.get("type", message.kind)
        if mtype == "text":
            item["text"] = (content.get("text") or {}).get("body", "")
        elif mtype == "interactive":
            inter = content.get("interactive") or {}
            item["text"] = (inter.get(inter.get("type", "")) or {}).get("title", "")
        elif mtype == "button":
            item["text"] = (content.get("button") or {}).get("text", "")
        elif mtype in MEDIA_KINDS:
            from messaging.media import media_facts

            files = list(message.media_files.all())
            item["media"] = media_facts(files[0]) if files else {"type": mtype, "url": "", "status": "failed"}
            item["text"] = (content.get(mtype) or {}).get("caption", "")
        else:
            _rich_text(item, mtype, content)
            item["text"] = item["text"] or f"[{mtype}]"
    return item


MEDIA_KINDS = ("image", "audio", "video", "document", "sticker")


def message_media(message: Message) -> dict[str, Any] | None:
    """The file of a message as chats draw it (``messaging.media.media_facts``), or None."""
    content = message.content or {}
    if message.direction == Message.Direction.OUTBOUND:
        if message.kind in MEDIA_KINDS:
            return _outbound_media(message.kind, content.get(message.kind) or {}, message.status)
        if message.kind == "template":
            header = next((c for c in (content.get("template") or {}).get("components") or []
                           if c.get("type") == "header"), None)
            param = ((header or {}).get("parameters") or [{}])[0]
            if param.get("type") in MEDIA_KINDS:
                return _outbound_media(param["type"], param.get(param["type"]) or {}, message.status)
        return None
    if message.kind not in MEDIA_KINDS:
        return None
    from messaging.media import media_facts

    files = list(message.media_files.all())
    return media_facts(files[0]) if files else {"type": message.kind, "url": "", "status": "failed"}


def _outbound_media(kind: str, payload: dict[str, Any], message_status: str = "") -> dict[str, Any]:
    """A sent file as the sandbox draws it: a stored file (its signed link) or the link Meta fetches.

    A file still being fetched from its link (``fluxo_fetch``) has no link to show yet: ``pending``,
    or ``failed`` when the fetch gave up (the message's error says why).
    """
    facts: dict[str, Any] = {"type": kind, "url": payload.get("link", ""), "caption": payload.get("caption", ""),
                             "filename": payload.get("filename", ""), "status": "stored"}
    if isinstance(payload.get("fluxo_fetch"), str):
        return {**facts, "status": "failed" if message_status == Message.Status.FAILED else "pending"}
    if isinstance(payload.get("fluxo_media"), int):
        from messaging.media import media_facts
        from messaging.models import MediaFile

        media = MediaFile.objects.filter(pk=payload["fluxo_media"]).first()
        if media is None:
            return {**facts, "status": "failed"}
        facts = {**media_facts(media), "caption": facts["caption"], "filename": facts["filename"] or media.filename}
    return facts


def _rich_text(item: dict[str, Any], kind: str, content: dict[str, Any]) -> None:
    """Location, contact card and reaction bubbles: a readable line (plus the pin or the emoji)."""
    if kind == "location":
        loc = content.get("location") or {}
        item["location"] = {k: loc.get(k) for k in ("latitude", "longitude", "name", "address")}
        item["text"] = " — ".join(str(v) for v in (loc.get("name"), loc.get("address")) if v) or \
            f"{loc.get('latitude')}, {loc.get('longitude')}"
    elif kind == "contacts":
        cards = content.get("contacts") or []
        item["text"] = ", ".join(
            f"{(c.get('name') or {}).get('formatted_name', '')} {((c.get('phones') or [{}])[0]).get('phone', '')}".strip()
            for c in cards)
    elif kind == "reaction":
        reaction = content.get("reaction") or {}
        item["reaction"] = {"emoji": reaction.get("emoji", ""), "message_id": reaction.get("message_id", "")}
        item["text"] = reaction.get("emoji", "")


def sandbox_chat(*, contact: Contact, after: int = 0, limit: int = 200) -> list[dict[str, Any]]:
    messages = Message.objects.filter(contact=contact, pk__gt=after).prefetch_related("media_files").order_by("id")[:limit]
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
