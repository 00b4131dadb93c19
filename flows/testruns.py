"""Test runs of the editor: a sandbox test contact talking to one revision of a flow.

Moved out of ``flows/services.py`` so the editor's test-run work and the execution-path rewrite
do not edit the same file. Writes only; every function is atomic.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from core.i18n import in_run_language
from core.inbox import event_record
from flows.engine.graph import compiled_revision
from flows.engine.interpreter import Interpreter
from flows.models import FlowRun, InboundEvent, TestRun
from flows.services import InvalidDefinition
from flows.trace import trace_notify_contact
from messaging.models import Contact, SandboxChannel
from messaging.services import message_record_inbound


def _sandbox_channel():
    channel = SandboxChannel.objects.order_by("id").first()
    return channel or SandboxChannel.objects.create(name="Sandbox")


def _test_phone() -> str:
    import secrets

    while True:
        # +55 11 9xxxx-xxxx: a valid mobile shape; test contacts live on the sandbox channel only.
        phone = f"+55119{secrets.randbelow(10**8):08d}"
        if not Contact.objects.filter(phone=phone).exists():
            return phone


class TestContactError(ValueError):
    """A test contact cannot be created or used as asked (``field`` names the culprit)."""

    __test__ = False

    def __init__(self, message: dict[str, str], field: str):
        super().__init__(message["en"])
        self.message = message
        self.field = field


def _consent(opted_in: bool | None, at) -> dict[str, Any]:
    state = Contact.Consent.OPTED_IN if opted_in else Contact.Consent.UNKNOWN
    return {category: {"state": state, "at": at.isoformat(), "source": "test run"} for category in ("marketing", "utility")}


@transaction.atomic
def test_contact_create(*, name: str = "", phone: str = "", attributes: dict[str, Any] | None = None,
                        opted_in: bool = False, user=None) -> Contact:
    """A sandbox test contact (``is_test``) the tester plays: its events reach only its test runs."""
    from messaging.phones import InvalidPhone, phone_normalize

    if phone:
        try:
            phone = phone_normalize(phone)
        except InvalidPhone as exc:
            raise TestContactError({"pt-BR": f"Telefone inválido: {exc}. Use o formato +5511987654321.",
                                    "en": f"Invalid phone: {exc}. Use the format +5511987654321."}, "phone") from exc
        existing = Contact.objects.filter(phone=phone).first()
        if existing is not None and not existing.is_test:
            raise TestContactError({"pt-BR": "Este telefone é de um contato real; testes usam só contatos de teste.",
                                    "en": "This phone belongs to a real contact; tests use test contacts only."}, "phone")
        if existing is not None:
            raise TestContactError({"pt-BR": "Já existe um contato de teste com este telefone: escolha-o na lista.",
                                    "en": "A test contact with this phone exists: pick it from the list."}, "phone")
    who = (getattr(user, "first_name", "") or getattr(user, "username", "") or "").strip()
    now = timezone.now()
    return Contact.objects.create(phone=phone or _test_phone(), name=(name or f"Teste {who}").strip()[:200],
                                  channel=_sandbox_channel(), is_test=True, attributes=dict(attributes or {}),
                                  consent=_consent(opted_in, now))


@transaction.atomic
def test_contact_update(*, contact: Contact, name: str | None = None, attributes: dict[str, Any] | None = None,
                        opted_in: bool | None = None) -> Contact:
    """Change a test contact's name, attributes or marketing opt-in (never a real contact's)."""
    if not contact.is_test:
        raise TestContactError({"pt-BR": "Só contatos de teste podem ser alterados aqui.",
                                "en": "Only test contacts can be changed here."}, "contact")
    fields = ["updated_at"]
    if name is not None:
        contact.name, fields = name.strip()[:200], [*fields, "name"]
    if attributes is not None:
        contact.attributes, fields = dict(attributes), [*fields, "attributes"]
    if opted_in is not None:
        contact.consent, fields = {**(contact.consent or {}), **_consent(opted_in, timezone.now())}, [*fields, "consent"]
    contact.save(update_fields=fields)
    return contact


def _trigger_config(revision, node_id: str) -> dict[str, Any]:
    return compiled_revision(revision).nodes[node_id].get("config") or {}


@in_run_language  # a test run stores what a production run would: the installation's language
@transaction.atomic
def test_run_start(*, flow, revision_number: int | None = None, payload: dict[str, Any] | None = None, user=None,
                   contact: Contact | None = None):
    """Open a Test run on ``contact`` (a test contact; a new one when None) and, when ``payload`` is
    given, start the run at once with it as the external event's data.

    The revision is sealed: it is what the run pins. Other open test runs of the same contact are
    stopped, so the contact's messages reach this one only. The external payload is shaped as
    production shapes it (``integrations.events``: ``{"event": <name>, **data}``).
    """
    revision = flow.revisions.get(revision=revision_number) if revision_number else flow.latest_revision
    from flows.drafts import revision_seal

    revision_seal(revision=revision)
    if contact is None:
        contact = test_contact_create(user=user)
    elif not contact.is_test:
        raise TestContactError({"pt-BR": "Testes usam só contatos de teste.", "en": "Tests use test contacts only."},
                               "contact")
    for other in TestRun.objects.filter(contact=contact, status=TestRun.Status.OPEN):
        test_run_stop(test=other)
    test = TestRun.objects.create(flow=flow, revision=revision, contact=contact, payload=payload, created_by=user)
    if payload is not None:
        triggers = compiled_revision(revision).trigger_ids
        if not triggers:
            raise InvalidDefinition("the flow has no trigger to start from")
        config = _trigger_config(revision, triggers[0])
        shaped = {**payload, "kind": "external"}
        if config.get("event") == "external" and config.get("event_name"):
            shaped = {"event": config["event_name"], **payload, "kind": "external"}
        test.run = Interpreter().run_start(flow=flow, revision=revision, contact=contact, trigger_node_id=triggers[0],
                                           is_test=True, trigger_payload=shaped)
        test.save(update_fields=["run"])
    return test


def _cloud_message(*, message_id: str, phone: str, at, text: str, reply_id: str, reply_title: str,
                   reply_kind: str) -> dict[str, Any]:
    """What Meta would post for this tap or text (the same shapes as the sandbox phone)."""
    message: dict[str, Any] = {"from": phone.lstrip("+"), "id": message_id, "timestamp": str(int(at.timestamp()))}
    if reply_id and reply_kind == "quick_reply":
        message.update(type="button", button={"payload": reply_id, "text": reply_title})
    elif reply_id:
        key = f"{'list' if reply_kind == 'list' else 'button'}_reply"
        message.update(type="interactive", interactive={"type": key, key: {"id": reply_id, "title": reply_title}})
    else:
        message.update(type="text", text={"body": text})
    return message


def test_run_inbound(*, test, text: str = "", reply_id: str = "", reply_title: str = "", reply_kind: str = "button"):
    """The person playing the customer sent a message or tapped a reply: record it as production does.

    The Cloud-API-shaped message goes through ``messaging.webhooks.normalize_message`` (the very
    normalization of real webhooks), then gets the conversation and channel ids the inbound path
    adds, so a flow sees the same ``{{trigger.*}}``/``{{reply.*}}`` in a test as in production.
    """
    import uuid

    from messaging.webhooks import normalize_message

    at = timezone.now()
    contact = test.contact
    message_id = f"test.{test.pk}.{uuid.uuid4().hex}"
    message = _cloud_message(message_id=message_id, phone=contact.phone, at=at, text=text, reply_id=reply_id,
                             reply_title=reply_title, reply_kind=reply_kind)
    event_kind, payload = normalize_message(message, contact_name=contact.name, phone=contact.phone)
    with transaction.atomic():
        stored, started = message_record_inbound(contact=contact, channel=contact.channel, kind=payload["type"],
                                                 content=message, provider_message_id=message_id, at=at)
        payload["conversation_started"] = started
        if stored.conversation_id:
            payload["conversation_id"] = stored.conversation_id
        if contact.channel_id:
            payload["channel_id"] = contact.channel_id
        event, _ = event_record(kind=event_kind, dedupe_key=f"test:{message_id}", contact=contact,
                                channel=contact.channel, payload=payload, raw=message, occurred_at=at)
        trace_notify_contact(contact.pk)
    return event


def test_run_inbound_media(*, test, upload, caption: str = ""):
    """The person playing the customer sent a photo or a document: stored (WhatsApp's checks), then
    recorded as Meta's media message, like :func:`test_run_inbound`. Raises ``MediaRefused``."""
    import uuid

    from messaging.media import media_facts, media_library_create
    from messaging.models import MediaFile
    from messaging.webhooks import normalize_message

    at = timezone.now()
    contact = test.contact
    message_id = f"test.{test.pk}.{uuid.uuid4().hex}"
    media = media_library_create(upload=upload, direction=MediaFile.Direction.INBOUND, channel=contact.channel,
                                 provider_media_id=f"test.{uuid.uuid4().hex}", caption=caption[:1024])
    item: dict[str, Any] = {"id": media.provider_media_id, "mime_type": media.mime_type, "sha256": media.sha256}
    if caption and media.kind in ("image", "video", "document"):
        item["caption"] = caption[:1024]
    if media.kind == "document":
        item["filename"] = media.filename
    message = {"from": contact.phone.lstrip("+"), "id": message_id, "timestamp": str(int(at.timestamp())),
               "type": media.kind, media.kind: item}
    event_kind, payload = normalize_message(message, contact_name=contact.name, phone=contact.phone)
    with transaction.atomic():
        stored, started = message_record_inbound(contact=contact, channel=contact.channel, kind=media.kind,
                                                 content=message, provider_message_id=message_id, at=at)
        MediaFile.objects.filter(pk=media.pk).update(message=stored)
        payload.update(conversation_started=started, media=media_facts(media))
        if stored.conversation_id:
            payload["conversation_id"] = stored.conversation_id
        if contact.channel_id:
            payload["channel_id"] = contact.channel_id
        event, _ = event_record(kind=event_kind, dedupe_key=f"test:{message_id}", contact=contact,
                                channel=contact.channel, payload=payload, raw=message, occurred_at=at)
        trace_notify_contact(contact.pk)
    return event


@transaction.atomic
def test_run_fast_forward(*, test) -> bool:
    """Fire the test run's pending delay or wait timeout now. Returns False when nothing is pending."""

    if test.run_id is None:
        return False
    run = FlowRun.objects.select_for_update().select_related("contact").get(pk=test.run_id)
    if run.status != FlowRun.Status.WAITING or not run.wait_token or run.wait_kind not in ("delay", "reply"):
        return False
    if run.wait_kind == "reply" and run.wake_at is None:
        return False  # waiting for a reply with no timeout: nothing to skip
    event_record(kind=InboundEvent.Kind.TIMER, dedupe_key=f"timer:{run.pk}:{run.wait_token}", contact=run.contact,
                 payload={"run_id": run.pk, "token": run.wait_token, "fast_forward": True})
    FlowRun.objects.filter(pk=run.pk).update(wake_at=None)
    return True


@in_run_language
@transaction.atomic
def test_run_stop(*, test):

    # Every open run of the test contact (a subflow child too), newest first so no parent resumes.
    open_runs = (FlowRun.objects.select_for_update().select_related("revision", "flow", "contact")
                 .filter(contact_id=test.contact_id, status__in=FlowRun.OPEN_STATUSES).order_by("-id"))
    for run in open_runs:
        run.parent_run_id = None  # a cancelled child must not resume its (also cancelled) parent
        Interpreter().run_cancel(run=run, reason=gettext("test run stopped"))
    test.status = TestRun.Status.STOPPED
    test.save(update_fields=["status"])
    return test
