"""Flows, their immutable revisions, and runs with their steps."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import InboundEvent  # noqa: F401  (re-exported: the event log lives in core)


class Flow(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    published_revision = models.ForeignKey(
        "FlowRevision", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def latest_revision(self) -> FlowRevision | None:
        return self.revisions.order_by("-revision").first()


class FlowRevision(models.Model):
    """One saved version of a flow's definition. Never changed after it is written."""

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="revisions")
    revision = models.PositiveIntegerField()
    spec_version = models.PositiveIntegerField()
    definition = models.JSONField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    comment = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["flow", "-revision"]
        constraints = [models.UniqueConstraint(fields=["flow", "revision"], name="flowrevision_unique_number")]

    def __str__(self) -> str:
        return f"{self.flow.name} r{self.revision}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("flow revisions are immutable; save a new revision instead")
        super().save(*args, **kwargs)


class FlowRun(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        WAITING = "waiting", "Waiting"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"

    OPEN_STATUSES = (Status.ACTIVE, Status.WAITING)

    class WaitKind(models.TextChoices):
        NONE = "", "None"
        DELAY = "delay", "Delay"
        REPLY = "reply", "Reply (with timeout)"
        SUBFLOW = "subflow", "Subflow"
        CALL = "call", "Call to an outside system"

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="runs")
    revision = models.ForeignKey(FlowRevision, on_delete=models.PROTECT, related_name="runs")
    contact = models.ForeignKey("messaging.Contact", on_delete=models.CASCADE, related_name="runs")
    conversation = models.ForeignKey(
        "messaging.Conversation", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    parent_run = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="child_runs"
    )
    trigger_event = models.ForeignKey(
        "core.InboundEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="started_runs"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    current_node = models.CharField(max_length=64, blank=True)
    context = models.JSONField(default=dict)
    wait_kind = models.CharField(max_length=16, choices=WaitKind.choices, blank=True, default="")
    wake_at = models.DateTimeField(null=True, blank=True)
    wait_token = models.CharField(max_length=32, blank=True, default="")
    is_test = models.BooleanField(default=False, help_text="Test run from the editor: sandbox only, no stats.")
    step_count = models.PositiveIntegerField(default=0)
    end_reason = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["wake_at"], name="run_due_timers", condition=Q(wake_at__isnull=False)),
            models.Index(fields=["contact", "status"], name="run_contact_status"),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.flow_id} ({self.status})"

    @staticmethod
    def new_wait_token() -> str:
        return uuid.uuid4().hex

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class RunStep(models.Model):
    """One node execution (or resumption) of a run: what went in, what came out, what went wrong."""

    run = models.ForeignKey(FlowRun, on_delete=models.CASCADE, related_name="steps")
    seq = models.PositiveIntegerField()
    node_id = models.CharField(max_length=64)
    node_type = models.CharField(max_length=64)
    event = models.ForeignKey("core.InboundEvent", null=True, blank=True, on_delete=models.SET_NULL)
    port = models.CharField(max_length=64, blank=True, help_text="The output port taken.")
    outcome = models.CharField(max_length=16, blank=True, help_text="next, wait, end or error.")
    input = models.JSONField(default=dict)
    output = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField()
    duration_us = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["run", "seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="runstep_unique_seq")]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.seq} {self.node_type}:{self.node_id}"


class FlowPublication(models.Model):
    """Who published which revision, when, and why (the publish comment)."""

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="publications")
    revision = models.ForeignKey(FlowRevision, on_delete=models.CASCADE, related_name="publications")
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    comment = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.flow} r{self.revision.revision} published"


class TestRun(models.Model):
    """An editor's Test run: a sandbox test contact talking to one revision of a flow."""

    __test__ = False  # not a pytest test class

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        STOPPED = "stopped", "Stopped"

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="test_runs")
    revision = models.ForeignKey(FlowRevision, on_delete=models.CASCADE, related_name="test_runs")
    contact = models.OneToOneField("messaging.Contact", on_delete=models.CASCADE, related_name="test_run")
    run = models.ForeignKey(FlowRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    payload = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"test run {self.pk} of {self.flow}"


class UserPreference(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="fluxo_preference")
    language = models.CharField(max_length=8, choices=[("pt-BR", "Português (Brasil)"), ("en", "English")],
                                default="pt-BR")

    def __str__(self) -> str:
        return f"{self.user} ({self.language})"
