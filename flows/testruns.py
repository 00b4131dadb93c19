"""Test runs of the editor: a sandbox test contact talking to one revision of a flow.

Moved out of ``flows/services.py`` so the editor's test-run work and the execution-path rewrite
do not edit the same file. Writes only; every function is atomic.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

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


@transaction.atomic
def test_run_start(*, flow, revision_number: int | None = None, payload: dict[str, Any] | None = None, user=None):
    """Open a Test run: a fresh sandbox test contact and, when ``payload`` is given, a run started at once."""

    revision = flow.revisions.get(revision=revision_number) if revision_number else flow.latest_revision
    who = (getattr(user, "first_name", "") or getattr(user, "username", "") or "").strip()
    contact = Contact.objects.create(phone=_test_phone(), name=f"Teste {who}".strip(), channel=_sandbox_channel(),
                                     is_test=True)
    test = TestRun.objects.create(flow=flow, revision=revision, contact=contact, payload=payload, created_by=user)
    if payload is not None:
        triggers = compiled_revision(revision).trigger_ids
        if not triggers:
            raise InvalidDefinition("the flow has no trigger to start from")
        test.run = Interpreter().run_start(flow=flow, revision=revision, contact=contact, trigger_node_id=triggers[0],
                                           is_test=True, trigger_payload={**payload, "kind": "external"})
        test.save(update_fields=["run"])
    return test


def test_run_inbound(*, test, text: str = "", reply_id: str = "", reply_title: str = ""):
    """The person playing the customer sent a message or tapped a reply: record it as an inbound event."""
    import uuid


    at = timezone.now()
    message_id = f"test.{test.pk}.{uuid.uuid4().hex}"
    if reply_id:
        kind, content = "interactive", {"interactive": {"type": "button_reply", "button_reply": {"id": reply_id, "title": reply_title}}}
        payload = {"type": "interactive", "text": reply_title, "reply_id": reply_id, "reply_title": reply_title}
        event_kind = InboundEvent.Kind.INTERACTIVE_REPLY
    else:
        kind, content = "text", {"text": {"body": text}}
        payload = {"type": "text", "text": text}
        event_kind = InboundEvent.Kind.MESSAGE
    with transaction.atomic():
        _message, started = message_record_inbound(contact=test.contact, channel=test.contact.channel, kind=kind,
                                                   content=content, provider_message_id=message_id, at=at)
        payload.update({"message_id": message_id, "from": test.contact.phone, "contact_name": test.contact.name,
                        "timestamp": at.isoformat(), "conversation_started": started})
        event, _ = event_record(kind=event_kind, dedupe_key=f"test:{message_id}", contact=test.contact,
                                channel=test.contact.channel, payload=payload, occurred_at=at)

        trace_notify_contact(test.contact_id)
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


@transaction.atomic
def test_run_stop(*, test):

    # Every open run of the test contact (a subflow child too), newest first so no parent resumes.
    open_runs = (FlowRun.objects.select_for_update().select_related("revision", "flow", "contact")
                 .filter(contact_id=test.contact_id, status__in=FlowRun.OPEN_STATUSES).order_by("-id"))
    for run in open_runs:
        run.parent_run_id = None  # a cancelled child must not resume its (also cancelled) parent
        Interpreter().run_cancel(run=run, reason="test run stopped")
    test.status = TestRun.Status.STOPPED
    test.save(update_fields=["status"])
    return test
