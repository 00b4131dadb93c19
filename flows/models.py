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
    """One saved version of a flow's definition. Never changed once sealed.

    An editing session's autosaves coalesce into one *unsealed* revision (``session`` names the
    browser tab, ``saves`` counts its saves, for conflict checks); it is sealed — immutable from
    then on — when it is published, test-run, restored, saved explicitly, or when another session
    saves after it (flows/drafts.py). Runs only ever pin sealed revisions.
    """

    flow = models.ForeignKey(Flow, verbose_name=_("flow"), on_delete=models.CASCADE, related_name="revisions")
    revision = models.PositiveIntegerField(verbose_name=_("revision"))
    spec_version = models.PositiveIntegerField(verbose_name=_("spec version"))
    definition = models.JSONField(verbose_name=_("definition"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), null=True, blank=True, on_delete=models.SET_NULL)
    comment = models.CharField(verbose_name=_("comment"), max_length=500, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    session = models.CharField(verbose_name=_("editing session"), max_length=64, blank=True, default="",
                               help_text=_("The editor tab whose autosaves these are."))
    saves = models.PositiveIntegerField(verbose_name=_("saves"), default=1,
                                        help_text=_("Autosaves coalesced into this revision."))
    sealed = models.BooleanField(verbose_name=_("sealed"), default=True, help_text=_("Immutable from now on."))
    updated_at = models.DateTimeField(verbose_name=_("updated at"), null=True, blank=True,
                                      help_text=_("Last coalesced autosave."))

    class Meta:
        verbose_name = _("flow revision")
        verbose_name_plural = _("flow revisions")
        ordering = ["flow", "-revision"]
        constraints = [models.UniqueConstraint(fields=["flow", "revision"], name="flowrevision_unique_number")]

    def __str__(self) -> str:
        return f"{self.flow.name} r{self.revision}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("flow revisions are immutable; save a new revision instead "
                             "(an unsealed session revision is updated by flows.drafts only)")
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
        CALL = "call", _("Call to an outside system")

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
            # The Runs page: newest first per filter, test runs apart (issue 10; bench/runs_dashboard.py).
            models.Index(fields=["flow", "-id"], name="run_list_flow", condition=Q(is_test=False)),
            models.Index(fields=["status", "-id"], name="run_list_status", condition=Q(is_test=False)),
            models.Index(fields=["flow", "status", "-id"], name="run_list_flow_status", condition=Q(is_test=False)),
            models.Index(fields=["-id"], name="run_list_tests", condition=Q(is_test=True)),
            models.Index(fields=["started_at"], name="run_started"),
            # Endings: the roll-up's scan and the 5-minute failure-rate alert.
            models.Index(fields=["ended_at", "id"], name="run_ended", condition=Q(ended_at__isnull=False)),
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
        # "Has an error" on the Runs page: runs with a step that failed (handled or not).
        indexes = [models.Index(fields=["run"], name="runstep_errors", condition=~Q(error=""))]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.seq} {self.node_type}:{self.node_id}"


class FlowPublication(models.Model):
    """Who published which revision, when, and why (the publish comment)."""

    flow = models.ForeignKey(Flow, verbose_name=_("flow"), on_delete=models.CASCADE, related_name="publications")
    revision = models.ForeignKey(FlowRevision, verbose_name=_("revision"), on_delete=models.CASCADE, related_name="publications")
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("published by"), null=True, blank=True, on_delete=models.SET_NULL)
    comment = models.CharField(verbose_name=_("comment"), max_length=500, blank=True)
    warnings = models.JSONField(verbose_name=_("confirmed warnings"), default=list, blank=True,
                                help_text=_("Policy warnings the publisher confirmed."))
    decisions = models.JSONField(verbose_name=_("decisions"), default=dict, blank=True,
                                 help_text=_("Other active flows on the same event: keep both (allow) or replace."))
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
    # A test contact may be reused by later test runs (the editor's "choose the test contact"); the
    # newest test run of a contact is the one its events reach.
    contact = models.ForeignKey("messaging.Contact", verbose_name=_("contact"), on_delete=models.CASCADE, related_name="test_runs")
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


# --- Operating runs: actions, roll-ups, alerts (issue 10) --------------------------------------


class RunAction(models.Model):
    """An operator's action on a run (cancel, retry, restart): who asked, when, and what came of it.

    The action itself is applied by the contact's event processor (a ``run_control`` event, see
    ``flows.run_actions``), so it runs under the contact's lock and in order with its events.
    """

    class Action(models.TextChoices):
        CANCEL = "cancel", "Cancel"
        RETRY = "retry", "Retry the failed step"
        RESTART = "restart", "Restart from the trigger"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    run = models.ForeignKey(FlowRun, on_delete=models.CASCADE, related_name="actions")
    action = models.CharField(max_length=16, choices=Action.choices)
    options = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    batch = models.ForeignKey("RunActionBatch", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="actions")
    event = models.ForeignKey("core.InboundEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    result = models.TextField(blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    new_run = models.ForeignKey(FlowRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.action} run {self.run_id} ({self.state})"


class RunActionBatch(models.Model):
    """A bulk action on the runs matching a filter of the Runs page; each run gets its own RunAction."""

    action = models.CharField(max_length=16, choices=RunAction.Action.choices)
    options = models.JSONField(default=dict, blank=True)
    filters = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    total = models.PositiveIntegerField(default=0)
    recorded = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"bulk {self.action} of {self.total} runs"


class StatCounter(models.Model):
    """One counter of the dashboard: ``metric``/``key`` in one hour (``bucket``), for one flow (0: none).

    Written only by the roll-up (``flows.stats.stats_rollup``), which adds what it finds past its
    watermarks; pages only sum these rows.
    """

    bucket = models.DateTimeField()
    flow_id = models.BigIntegerField(default=0)
    metric = models.CharField(max_length=32)
    key = models.CharField(max_length=200, blank=True, default="")
    value = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bucket", "flow_id", "metric", "key"], name="statcounter_unique")]
        indexes = [models.Index(fields=["flow_id", "metric", "bucket"], name="statcounter_flow")]

    def __str__(self) -> str:
        return f"{self.bucket:%Y-%m-%d %H}h flow {self.flow_id} {self.metric}[{self.key}]={self.value}"


class StatCounterDay(models.Model):
    """The same counters per local day (``TIME_ZONE`` midnight): long periods read these, not hours."""

    bucket = models.DateTimeField()
    flow_id = models.BigIntegerField(default=0)
    metric = models.CharField(max_length=32)
    key = models.CharField(max_length=200, blank=True, default="")
    value = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bucket", "flow_id", "metric", "key"],
                                               name="statcounterday_unique")]
        indexes = [models.Index(fields=["flow_id", "metric", "bucket"], name="statcounterday_flow")]

    def __str__(self) -> str:
        return f"{self.bucket:%Y-%m-%d} flow {self.flow_id} {self.metric}[{self.key}]={self.value}"


class StatGauge(models.Model):
    """A value measured by the last roll-up (waiting runs, overdue timers, ...), replaced each pass."""

    name = models.CharField(max_length=32)
    flow_id = models.BigIntegerField(default=0)
    key = models.CharField(max_length=200, blank=True, default="")
    value = models.FloatField(default=0)
    measured_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "flow_id", "key"], name="statgauge_unique")]

    def __str__(self) -> str:
        return f"{self.name}[{self.flow_id}:{self.key}]={self.value}"


class RollupState(models.Model):
    """Where one stream of the roll-up stands: the id watermark, ids not yet seen below it (gaps:
    rows of transactions still open, or never committed) and free-form notes."""

    name = models.CharField(max_length=32, primary_key=True)
    watermark = models.BigIntegerField(default=0)
    gaps = models.JSONField(default=list, blank=True)
    moment = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} @ {self.watermark}"


class RollupSeen(models.Model):
    """Run endings already counted (run, ended_at), kept for the overlap window of the scan."""

    run_id = models.BigIntegerField()
    ended_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run_id", "ended_at"], name="rollupseen_unique")]
        indexes = [models.Index(fields=["ended_at"], name="rollupseen_ended")]

    def __str__(self) -> str:
        return f"run {self.run_id} ended {self.ended_at}"


class MessageFact(models.Model):
    """What the roll-up has counted of one outbound message (sent, delivered, read, failed bits),
    so a late or repeated status, or ``read`` before ``delivered``, is counted exactly once."""

    SENT, DELIVERED, READ, FAILED = 1, 2, 4, 8

    message_id = models.BigIntegerField(primary_key=True)
    bucket = models.DateTimeField(help_text="The hour the message was created (rates are per sending hour).")
    flow_id = models.BigIntegerField(default=0)
    template = models.CharField(max_length=200, blank=True, default="")
    flags = models.PositiveSmallIntegerField(default=0)
    open = models.BooleanField(default=True, help_text="Neither sent nor failed yet: checked again each pass.")

    class Meta:
        indexes = [models.Index(fields=["message_id"], name="messagefact_open", condition=Q(open=True))]

    def __str__(self) -> str:
        return f"message {self.message_id} flags {self.flags}"


class AlertSettings(models.Model):
    """Alert thresholds and where to send alerts. The row without a flow holds the defaults and the
    installation-wide thresholds; a flow's own row overrides its failure-rate threshold and target."""

    class Target(models.TextChoices):
        NONE = "", "In the app only"
        EMAIL = "email", "E-mail"
        SLACK = "slack", "Slack-compatible webhook"
        WEBHOOK = "webhook", "Outbound webhook"

    flow = models.OneToOneField(Flow, null=True, blank=True, on_delete=models.CASCADE, related_name="alert_settings")
    failure_rate_enabled = models.BooleanField(default=True)
    failure_rate_threshold = models.FloatField(default=0.2, help_text="Share of failed runs over 5 minutes (0-1).")
    failure_min_runs = models.PositiveIntegerField(default=5, help_text="Runs ended in 5 minutes before the rate counts.")
    timer_backlog_threshold = models.PositiveIntegerField(default=100, help_text="Overdue timers (global row only).")
    graph_error_threshold = models.PositiveIntegerField(default=50,
                                                        help_text="Graph API errors in 5 minutes (global row only).")
    notify_channel = models.CharField(max_length=16, choices=Target.choices, blank=True, default="")
    notify_team = models.CharField(max_length=200, blank=True)
    notify_to = models.JSONField(default=list, blank=True)
    notify_subscription = models.CharField(max_length=120, blank=True)
    notify_credential = models.CharField(max_length=80, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"alert settings of {self.flow or 'the installation'}"


class Alert(models.Model):
    """Something an operator should look at, open while its condition holds (one open alert per key)."""

    class Kind(models.TextChoices):
        CHANNEL_PAUSED = "channel_paused", "Channel paused"
        WEBHOOK_DISABLED = "webhook_disabled", "Outbound webhook disabled"
        FAILURE_RATE = "failure_rate", "Flow failure rate"
        TIMER_BACKLOG = "timer_backlog", "Timer backlog"
        GRAPH_ERRORS = "graph_errors", "Graph API error storm"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    key = models.CharField(max_length=200, help_text="What the alert is about, e.g. channel:3 or flow:7.")
    flow = models.ForeignKey(Flow, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    params = models.JSONField(default=dict, blank=True, help_text="Figures shown in the alert's text.")
    link = models.CharField(max_length=500, blank=True, help_text="Where to look: the runs or messages concerned.")
    opened_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    notify_error = models.TextField(blank=True)
    read_by = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["key"], condition=Q(resolved_at__isnull=True),
                                               name="alert_one_open_per_key")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}{' (resolved)' if self.resolved_at else ''}"


class ChannelHealth(models.Model):
    """What Meta last said of a WhatsApp number: quality rating and messaging limit tier (hourly)."""

    channel = models.OneToOneField("messaging.Channel", on_delete=models.CASCADE, related_name="health")
    quality_rating = models.CharField(max_length=16, blank=True, help_text="GREEN, YELLOW, RED, NA or UNKNOWN.")
    messaging_limit_tier = models.CharField(max_length=32, blank=True, help_text="TIER_250 ... TIER_UNLIMITED.")
    number_status = models.CharField(max_length=32, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"health of {self.channel_id}: {self.quality_rating or '?'} {self.messaging_limit_tier or ''}"
