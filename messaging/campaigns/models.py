"""Segments, campaigns, their recipients, and date-relative events with their per-contact timers."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from messaging.models import Channel, Contact, ContactImport, Message, MessageTemplate


class Segment(models.Model):
    """A saved filter over contacts (``definition``, compiled by :func:`messaging.campaigns.segments.segment_q`)."""

    name = models.CharField(verbose_name=_("name"), max_length=200)
    definition = models.JSONField(verbose_name=_("definition"), default=dict, blank=True,
                                  help_text=_('{"match": "all"|"any", "conditions": [...]} — see docs/campaigns.md'))
    created_by = models.ForeignKey("auth.User", verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ImportedContact(models.Model):
    """Which contacts a CSV import created or updated (segments and campaigns can target a batch)."""

    contact_import = models.ForeignKey(ContactImport, verbose_name=_("contact import"), on_delete=models.CASCADE,
                                       related_name="members")
    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("imported contact")
        verbose_name_plural = _("imported contacts")
        constraints = [models.UniqueConstraint(fields=["contact_import", "contact"], name="imported_contact_unique")]

    def __str__(self) -> str:
        return f"{self.contact_import_id}:{self.contact_id}"


class Campaign(models.Model):
    """A template sent to a segment (or a CSV batch), at a time, within the channel's limits."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    name = models.CharField(verbose_name=_("name"), max_length=200)
    channel = models.ForeignKey(Channel, verbose_name=_("channel"), null=True, blank=True, on_delete=models.PROTECT,
                                related_name="campaigns")
    template = models.ForeignKey(MessageTemplate, verbose_name=_("template"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="campaigns")
    parameters = models.JSONField(
        verbose_name=_("parameters"), default=list, blank=True,
        help_text=_('One per body variable: {"source": "field"|"attribute"|"constant", "value": "name"}'))
    segment = models.ForeignKey(Segment, verbose_name=_("segment"), null=True, blank=True, on_delete=models.PROTECT,
                                related_name="campaigns")
    contact_import = models.ForeignKey(ContactImport, verbose_name=_("CSV audience"), null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="campaigns")
    scheduled_at = models.DateTimeField(verbose_name=_("scheduled at"), null=True, blank=True)
    timezone = models.CharField(verbose_name=_("time zone"), max_length=64, default="America/Sao_Paulo")
    reply_flow_id = models.PositiveBigIntegerField(
        verbose_name=_("flow on reply"), null=True, blank=True,
        help_text=_("A flow started for a recipient who replies or taps a button (id of a flow)."))
    reply_window_hours = models.PositiveIntegerField(verbose_name=_("reply window (hours)"), default=72)
    status = models.CharField(verbose_name=_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT,
                              db_index=True)
    pause_reason = models.TextField(verbose_name=_("pause reason"), blank=True)
    plan_cursor = models.BigIntegerField(verbose_name=_("planned up to contact"), default=0)
    planned = models.BooleanField(verbose_name=_("planned"), default=False)
    feed_cursor = models.BigIntegerField(verbose_name=_("queued up to recipient"), default=0)
    test_sent_at = models.DateTimeField(verbose_name=_("test sent at"), null=True, blank=True)
    created_by = models.ForeignKey("auth.User", verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(verbose_name=_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(verbose_name=_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.name


class CampaignRecipient(models.Model):
    """One contact of a campaign: planned once (unique), excluded with a reason or queued once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        EXCLUDED = "excluded", _("Excluded")
        QUEUED = "queued", _("Queued")

    class Reason(models.TextChoices):
        OPTED_OUT = "opted_out", _("Opted out")
        NOT_OPTED_IN = "not_opted_in", _("Not opted in for marketing")
        INVALID_NUMBER = "invalid_number", _("Invalid number")
        RESTRICTED_NUMBER = "restricted_number", _("Restricted number")
        DUPLICATE = "duplicate", _("Duplicate")
        ALREADY_MESSAGED = "already_messaged", _("Already messaged by this campaign")

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE,
                                 related_name="recipients")
    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="+")
    status = models.CharField(verbose_name=_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(verbose_name=_("exclusion reason"), max_length=32, choices=Reason.choices, blank=True)
    message = models.ForeignKey(Message, verbose_name=_("message"), null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    in_window = models.BooleanField(
        verbose_name=_("inside the service window"), default=False,
        help_text=_("The contact had written in the 24 hours before it was queued: not counted in the messaging limit."))
    queued_at = models.DateTimeField(verbose_name=_("queued at"), null=True, blank=True)
    replied_at = models.DateTimeField(verbose_name=_("replied at"), null=True, blank=True)
    run_id = models.PositiveBigIntegerField(verbose_name=_("run started by the reply"), null=True, blank=True)

    class Meta:
        verbose_name = _("campaign recipient")
        verbose_name_plural = _("campaign recipients")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "contact"], name="campaign_recipient_unique")]
        indexes = [
            models.Index(fields=["campaign", "id"], name="recipient_pending",
                         condition=Q(status="pending")),
            # The messaging limit's moving 24 hours: unique users outside their window, per channel.
            models.Index(fields=["queued_at"], name="recipient_counted",
                         condition=Q(status="queued", in_window=False)),
            # The reply hook: a contact's recipients waiting for a reply.
            models.Index(fields=["contact", "id"], name="recipient_awaiting_reply",
                         condition=Q(status="queued", replied_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.contact_id} {self.status}"


class DateEvent(models.Model):
    """"N minutes/hours/days before or after the contact's date attribute X" (optionally at a time of day) starts a flow."""

    class Unit(models.TextChoices):
        MINUTES = "minutes", _("minutes")
        HOURS = "hours", _("hours")
        DAYS = "days", _("days")

    name = models.CharField(verbose_name=_("name"), max_length=200)
    attribute = models.CharField(verbose_name=_("date attribute"), max_length=64, db_index=True)
    offset = models.IntegerField(verbose_name=_("offset"), default=0,
                                 help_text=_("Negative: before the date; positive: after it."))
    unit = models.CharField(verbose_name=_("unit"), max_length=8, choices=Unit.choices, default=Unit.DAYS)
    time_of_day = models.TimeField(verbose_name=_("at time of day"), null=True, blank=True)
    timezone = models.CharField(verbose_name=_("time zone"), max_length=64, default="America/Sao_Paulo")
    flow_id = models.PositiveBigIntegerField(verbose_name=_("flow"))
    is_active = models.BooleanField(verbose_name=_("active"), default=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("date event")
        verbose_name_plural = _("date events")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class DateEventFire(models.Model):
    """The durable timer of one contact for one date event (rescheduled when the attribute changes)."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        FIRED = "fired", _("Fired")
        MISSED = "missed", _("Missed (already past when scheduled)")

    event = models.ForeignKey(DateEvent, verbose_name=_("date event"), on_delete=models.CASCADE, related_name="fires")
    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="+")
    value = models.CharField(verbose_name=_("attribute value"), max_length=64)
    fire_at = models.DateTimeField(verbose_name=_("fire at"))
    state = models.CharField(verbose_name=_("state"), max_length=8, choices=State.choices, default=State.PENDING)
    fired_at = models.DateTimeField(verbose_name=_("fired at"), null=True, blank=True)

    class Meta:
        verbose_name = _("date event timer")
        verbose_name_plural = _("date event timers")
        constraints = [models.UniqueConstraint(fields=["event", "contact"], name="date_event_fire_unique")]
        indexes = [models.Index(fields=["fire_at"], name="date_event_fire_due", condition=Q(state="pending"))]

    def __str__(self) -> str:
        return f"{self.event_id}:{self.contact_id} {self.fire_at}"
