"""Models of the core app: the inbox (every event that can move a flow, stored before it is acknowledged)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class InboundEvent(models.Model):
    """Everything that can move a flow: stored before it is acknowledged, processed in order per contact.

    ``dedupe_key`` makes a second delivery of the same event a no-op (e.g. ``wa:msg:<wamid>``,
    ``wa:status:<wamid>:<status>``, ``timer:<run>:<token>``, ``api:<integration>:<idempotency-key>``).
    """

    class Kind(models.TextChoices):
        MESSAGE = "message", "Inbound message"
        INTERACTIVE_REPLY = "interactive_reply", "Button or list reply"
        STATUS = "status", "Message status update"
        OPT_IN = "opt_in", "Opt-in"
        OPT_OUT = "opt_out", "Opt-out"
        EXTERNAL = "external", "External system call"
        SCHEDULE = "schedule", "Schedule"
        TIMER = "timer", "Timer (delay or wait timeout)"
        TEST_CONTROL = "test_control", "Test-run control"
        CALL_RESULT = "call_result", "Result of a call to an outside system"
        SYSTEM = "system", "System or account update"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        IGNORED = "ignored", "Ignored"

    kind = models.CharField(max_length=32, choices=Kind.choices, db_index=True)
    dedupe_key = models.CharField(max_length=255, unique=True)
    contact = models.ForeignKey(
        "messaging.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    channel = models.ForeignKey("messaging.Channel", null=True, blank=True, on_delete=models.SET_NULL)
    payload = models.JSONField(default=dict, help_text="Normalized event, the flows' {{trigger.*}}.")
    raw = models.JSONField(null=True, blank=True, help_text="The provider's own piece of payload, as received.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["contact", "id"], name="event_pending_by_contact", condition=Q(state="pending")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.dedupe_key}"
