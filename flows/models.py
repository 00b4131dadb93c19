"""Flows, their immutable revisions, and runs with their steps."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import InboundEvent  # noqa: F401  (re-exported: the event log lives in core)


class Flow(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        ARCHIVED = "archived", _("Archived")

    name = models.CharField(verbose_name=_("name"), max_length=200)
    description = models.TextField(verbose_name=_("description"), blank=True)
    status = models.CharField(verbose_name=_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    published_revision = models.ForeignKey(
        "FlowRevision", verbose_name=_("published revision"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(verbose_name=_("published at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("flow")
        verbose_name_plural = _("flows")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def latest_revision(self) -> FlowRevision | None:
        return self.revisions.order_by("-revision").first()


class FlowRevision(models.Model):
    """One saved version of a flow's definition. Never changed after it is written."""

    flow = models.ForeignKey(Flow, verbose_name=_("flow"), on_delete=models.CASCADE, related_name="revisions")
    revision = models.PositiveIntegerField(verbose_name=_("revision"))
    spec_version = models.PositiveIntegerField(verbose_name=_("spec version"))
    definition = models.JSONField(verbose_name=_("definition"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), null=True, blank=True, on_delete=models.SET_NULL)
    comment = models.CharField(verbose_name=_("comment"), max_length=500, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("flow revision")
        verbose_name_plural = _("flow revisions")
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
        ACTIVE = "active", _("Active")
        WAITING = "waiting", _("Waiting")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")

    OPEN_STATUSES = (Status.ACTIVE, Status.WAITING)

    class WaitKind(models.TextChoices):
        NONE = "", _("None")
        DELAY = "delay", _("Delay")
        REPLY = "reply", _("Reply (with timeout)")
        SUBFLOW = "subflow", _("Subflow")

    flow = models.ForeignKey(Flow, verbose_name=_("flow"), on_delete=models.CASCADE, related_name="runs")
    revision = models.ForeignKey(FlowRevision, verbose_name=_("revision"), on_delete=models.PROTECT, related_name="runs")
    contact = models.ForeignKey("messaging.Contact", verbose_name=_("contact"), on_delete=models.CASCADE, related_name="runs")
    conversation = models.ForeignKey(
        "messaging.Conversation", verbose_name=_("conversation"), null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    parent_run = models.ForeignKey(
        "self", verbose_name=_("parent run"), null=True, blank=True, on_delete=models.SET_NULL, related_name="child_runs"
    )
    trigger_event = models.ForeignKey(
        "core.InboundEvent", verbose_name=_("trigger event"), null=True, blank=True, on_delete=models.SET_NULL, related_name="started_runs"
    )
    status = models.CharField(verbose_name=_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    current_node = models.CharField(verbose_name=_("current node"), max_length=64, blank=True)
    context = models.JSONField(verbose_name=_("context"), default=dict)
    wait_kind = models.CharField(verbose_name=_("wait kind"), max_length=16, choices=WaitKind.choices, blank=True, default="")
    wake_at = models.DateTimeField(verbose_name=_("wake at"), null=True, blank=True)
    wait_token = models.CharField(verbose_name=_("wait token"), max_length=32, blank=True, default="")
    is_test = models.BooleanField(verbose_name=_("test contact"), default=False, help_text=_("Test run from the editor: sandbox only, no stats."))
    step_count = models.PositiveIntegerField(verbose_name=_("step count"), default=0)
    end_reason = models.TextField(verbose_name=_("end reason"), blank=True)
    started_at = models.DateTimeField(verbose_name=_("started at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)
    ended_at = models.DateTimeField(verbose_name=_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("flow run")
        verbose_name_plural = _("flow runs")
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

    run = models.ForeignKey(FlowRun, verbose_name=_("run"), on_delete=models.CASCADE, related_name="steps")
    seq = models.PositiveIntegerField(verbose_name=_("seq"))
    node_id = models.CharField(verbose_name=_("node id"), max_length=64)
    node_type = models.CharField(verbose_name=_("node type"), max_length=64)
    event = models.ForeignKey("core.InboundEvent", verbose_name=_("event"), null=True, blank=True, on_delete=models.SET_NULL)
    port = models.CharField(verbose_name=_("port"), max_length=64, blank=True, help_text=_("The output port taken."))
    outcome = models.CharField(verbose_name=_("outcome"), max_length=16, blank=True, help_text=_("next, wait, end or error."))
    input = models.JSONField(verbose_name=_("input"), default=dict)
    output = models.JSONField(verbose_name=_("output"), default=dict)
    error = models.TextField(verbose_name=_("error"), blank=True)
    started_at = models.DateTimeField(verbose_name=_("started at"))
    duration_us = models.PositiveIntegerField(verbose_name=_("duration (µs)"), default=0)

    class Meta:
        verbose_name = _("run step")
        verbose_name_plural = _("run steps")
        ordering = ["run", "seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="runstep_unique_seq")]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.seq} {self.node_type}:{self.node_id}"


class FlowPublication(models.Model):
    """Who published which revision, when, and why (the publish comment)."""

    flow = models.ForeignKey(Flow, verbose_name=_("flow"), on_delete=models.CASCADE, related_name="publications")
    revision = models.ForeignKey(FlowRevision, verbose_name=_("revision"), on_delete=models.CASCADE, related_name="publications")
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("published by"), null=True, blank=True, on_delete=models.SET_NULL)
    comment = models.CharField(verbose_name=_("comment"), max_length=500, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("flow publication")
        verbose_name_plural = _("flow publications")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.flow} r{self.revision.revision} published"


class TestRun(models.Model):
    """An editor's Test run: a sandbox test contact talking to one revision of a flow."""

    __test__ = False  # not a pytest test class

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        STOPPED = "stopped", _("Stopped")

    flow = models.ForeignKey(Flow, verbose_name=_("flow"), on_delete=models.CASCADE, related_name="test_runs")
    revision = models.ForeignKey(FlowRevision, verbose_name=_("revision"), on_delete=models.CASCADE, related_name="test_runs")
    contact = models.OneToOneField("messaging.Contact", verbose_name=_("contact"), on_delete=models.CASCADE, related_name="test_run")
    run = models.ForeignKey(FlowRun, verbose_name=_("run"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    payload = models.JSONField(verbose_name=_("payload"), null=True, blank=True)
    status = models.CharField(verbose_name=_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("test run")
        verbose_name_plural = _("test runs")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"test run {self.pk} of {self.flow}"


class UserPreference(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="fluxo_preference")
    language = models.CharField(verbose_name=_("language"), max_length=8, choices=[("pt-BR", "Português (Brasil)"), ("en", "English")],
                                default="pt-BR")

    def __str__(self) -> str:
        return f"{self.user} ({self.language})"
