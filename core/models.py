"""Models of the core app: the inbox (every event that can move a flow, stored before it is acknowledged)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class InboundEvent(models.Model):
    """Everything that can move a flow: stored before it is acknowledged, processed in order per contact.

    ``dedupe_key`` makes a second delivery of the same event a no-op (e.g. ``wa:msg:<wamid>``,
    ``wa:status:<wamid>:<status>``, ``timer:<run>:<token>``, ``api:<integration>:<idempotency-key>``).
    """

    class Kind(models.TextChoices):
        MESSAGE = "message", _("Inbound message")
        INTERACTIVE_REPLY = "interactive_reply", _("Button or list reply")
        STATUS = "status", _("Message status update")
        OPT_IN = "opt_in", _("Opt-in")
        OPT_OUT = "opt_out", _("Opt-out")
        EXTERNAL = "external", _("External system call")
        SCHEDULE = "schedule", _("Schedule")
        TIMER = "timer", _("Timer (delay or wait timeout)")
        TEST_CONTROL = "test_control", _("Test-run control")
        CALL_RESULT = "call_result", _("Result of a call to an outside system")
        RUN_CONTROL = "run_control", _("Action on a run (cancel, retry, restart)")
        SYSTEM = "system", _("System or account update")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        IGNORED = "ignored", _("Ignored")

    kind = models.CharField(verbose_name=_("kind"), max_length=32, choices=Kind.choices, db_index=True)
    dedupe_key = models.CharField(verbose_name=_("dedupe key"), max_length=255, unique=True)
    contact = models.ForeignKey(
        "messaging.Contact", verbose_name=_("contact"), null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    channel = models.ForeignKey("messaging.Channel", verbose_name=_("channel"), null=True, blank=True, on_delete=models.SET_NULL)
    payload = models.JSONField(verbose_name=_("payload"), default=dict, help_text=_("Normalized event, the flows' {{trigger.*}}."))
    raw = models.JSONField(verbose_name=_("raw"), null=True, blank=True, help_text=_("The provider's own piece of payload, as received."))
    state = models.CharField(verbose_name=_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(verbose_name=_("attempts"), default=0)
    error = models.TextField(verbose_name=_("error"), blank=True)
    occurred_at = models.DateTimeField(verbose_name=_("occurred at"), null=True, blank=True)
    received_at = models.DateTimeField(verbose_name=_("received at"), auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(verbose_name=_("processed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("inbound event")
        verbose_name_plural = _("inbound events")
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["contact", "id"], name="event_pending_by_contact", condition=Q(state="pending")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.dedupe_key}"
