"""Channels, contacts, conversations, messages and templates."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone
from polymorphic.models import PolymorphicModel

from core.crypto import EncryptedTextField

SERVICE_WINDOW = timedelta(hours=24)


class Channel(PolymorphicModel):
    """A number Fluxo sends from and receives on. Polymorphic: each kind adds its own configuration
    and names its provider (``messaging/providers/``), while runs, contacts and messages refer to
    any channel alike."""

    provider_key: str = ""

    name = models.CharField(max_length=120)
    is_active = models.BooleanField(default=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    pause_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def kind(self) -> str:
        return self.provider_key

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None


class SandboxChannel(Channel):
    """The embedded default: messages are stored and shown in the sandbox chat page, nothing leaves."""

    provider_key = "sandbox"

    class Meta:
        verbose_name = "sandbox channel"


class WhatsAppCloudChannel(Channel):
    provider_key = "whatsapp_cloud"

    phone_number_id = models.CharField(max_length=64, unique=True)
    waba_id = models.CharField("WABA id", max_length=64)
    display_phone_number = models.CharField(max_length=32, blank=True)
    access_token = EncryptedTextField(blank=True)
    app_secret = EncryptedTextField(blank=True)
    verify_token = models.CharField(max_length=128, blank=True)
    graph_api_base_url = models.URLField(default="https://graph.facebook.com")
    graph_api_version = models.CharField(max_length=16, default="v23.0")
    messages_per_second = models.PositiveIntegerField(default=80)
    # What the last check of the token against the Graph API (GET /{phone-number-id}) found.
    verified_name = models.CharField(max_length=200, blank=True)
    quality_rating = models.CharField(max_length=16, blank=True, help_text="GREEN, YELLOW, RED or UNKNOWN")
    messaging_limit_tier = models.CharField(max_length=32, blank=True, help_text="e.g. TIER_1K, TIER_UNLIMITED")
    throughput_level = models.CharField(max_length=16, blank=True, help_text="STANDARD or HIGH")
    checked_at = models.DateTimeField(null=True, blank=True)
    check_error = models.TextField(blank=True)

    class Meta:
        verbose_name = "WhatsApp Cloud API channel"


class Tag(models.Model):
    name = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    class Consent(models.TextChoices):
        UNKNOWN = "unknown", "Unknown"
        OPTED_IN = "opted_in", "Opted in"
        OPTED_OUT = "opted_out", "Opted out"

    CONSENT_CATEGORIES = ("marketing", "utility", "authentication")

    phone = models.CharField(max_length=20, unique=True, help_text="E.164, e.g. +5511987654321")
    name = models.CharField(max_length=200, blank=True)
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts",
        help_text="The channel this contact is reached on.",
    )
    attributes = models.JSONField(default=dict, blank=True)
    consent = models.JSONField(
        default=dict, blank=True,
        help_text='Per message category: {"marketing": {"state": "opted_out", "at": "...", "source": "..."}}',
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="contacts")
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    is_test = models.BooleanField(
        default=False, help_text="A test-run contact of the editor: only its test run sees its events."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.name or ''} {self.phone}".strip()

    def consent_state(self, category: str) -> str:
        return (self.consent.get(category) or {}).get("state", self.Consent.UNKNOWN)

    def in_service_window(self, now=None) -> bool:
        now = now or timezone.now()
        return self.last_inbound_at is not None and now - self.last_inbound_at < SERVICE_WINDOW


class ConsentEvent(models.Model):
    """One change of a contact's consent for one message category: when, how and from where.

    ``Contact.consent`` holds the current state (read before every send); this is its history,
    written by the same service (``contact_consent_set``) so the two never disagree.
    """

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consent_events")
    category = models.CharField(max_length=32)
    state = models.CharField(max_length=16, choices=Contact.Consent.choices)
    source = models.CharField(max_length=200, help_text="keyword SAIR, error 131050, import #3, by hand, ...")
    message = models.ForeignKey("Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                help_text="The inbound message that carried it, when there was one.")
    contact_import = models.ForeignKey("ContactImport", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="consent_events")
    actor = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              help_text="Who changed it by hand or imported it.")
    note = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.contact} {self.category} {self.state}"


class ContactImport(models.Model):
    """A CSV of contacts: uploaded, checked (dry run), then imported in one transaction."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Failed (nothing imported)"

    filename = models.CharField(max_length=255, blank=True)
    content = models.TextField(help_text="The CSV as uploaded (UTF-8).")
    columns = models.JSONField(default=list)
    row_count = models.PositiveIntegerField(default=0)
    options = models.JSONField(default=dict, blank=True, help_text="Column mapping, default region, consent.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADED, db_index=True)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"import {self.pk} ({self.filename})"


class Conversation(models.Model):
    class State(models.TextChoices):
        NEW = "new", "New"
        TRIAGED = "triaged", "Triaged"
        IN_SERVICE = "in_service", "In service"
        PENDING = "pending", "Pending"
        COMPLETED = "completed", "Completed"

    # Allowed moves of the state machine; a completed conversation is closed for good (a new
    # inbound message opens a new conversation).
    TRANSITIONS: dict[str, set[str]] = {
        "new": {"triaged", "in_service", "pending", "completed"},
        "triaged": {"in_service", "pending", "completed"},
        "in_service": {"pending", "completed", "triaged"},
        "pending": {"in_service", "triaged", "completed"},
        "completed": set(),
    }

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="conversations")
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.SET_NULL)
    state = models.CharField(max_length=16, choices=State.choices, default=State.NEW, db_index=True)
    assigned_team = models.ForeignKey(
        "integrations.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    priority = models.SmallIntegerField(default=0)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"conversation {self.pk} with {self.contact}"

    def can_move_to(self, state: str) -> bool:
        return state == self.state or state in self.TRANSITIONS.get(self.state, set())


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "in", "Inbound"
        OUTBOUND = "out", "Outbound"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        READ = "read", "Read"
        FAILED = "failed", "Failed"

    # Statuses only move forward along this rank ("read" may arrive before "delivered").
    STATUS_RANK = {"received": 0, "queued": 0, "sending": 1, "sent": 2, "delivered": 3, "read": 4, "failed": 5}

    direction = models.CharField(max_length=3, choices=Direction.choices)
    kind = models.CharField(max_length=32, help_text="text, template, interactive, image, reaction, ...")
    content = models.JSONField(default=dict)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="messages")
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.SET_NULL)
    run = models.ForeignKey("flows.FlowRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    provider_message_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, db_index=True)
    error_code = models.CharField(max_length=32, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.direction} {self.kind} {self.status}"


class MessageTemplate(models.Model):
    class Status(models.TextChoices):
        APPROVED = "APPROVED", "Approved"
        PENDING = "PENDING", "Pending"
        REJECTED = "REJECTED", "Rejected"
        PAUSED = "PAUSED", "Paused"
        DISABLED = "DISABLED", "Disabled"
        IN_APPEAL = "IN_APPEAL", "In appeal"

    class Category(models.TextChoices):
        MARKETING = "MARKETING", "Marketing"
        UTILITY = "UTILITY", "Utility"
        AUTHENTICATION = "AUTHENTICATION", "Authentication"

    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.CASCADE, related_name="templates")
    name = models.CharField(max_length=512)
    language = models.CharField(max_length=16)
    provider_template_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    category = models.CharField(max_length=16, choices=Category.choices, default=Category.UTILITY)
    components = models.JSONField(default=list)
    parameter_count = models.PositiveSmallIntegerField(default=0, help_text="Body parameters expected.")
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "language"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "name", "language"], name="template_unique_name_language")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"

    @property
    def body_text(self) -> str:
        for component in self.components:
            if str(component.get("type", "")).upper() == "BODY":
                return component.get("text", "")
        return ""


class ChannelAlert(models.Model):
    """Something an operator must act on: the channel was paused (bad token, policy block, ...).

    Shown in the admin (channel list and the alert list) until someone resolves it.
    """

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="alerts")
    code = models.CharField(max_length=32, blank=True)
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.channel}: {self.message[:60]}"


class WebhookDelivery(models.Model):
    """One POST from Meta, stored raw before it is acknowledged; a worker turns it into events.

    The raw body is kept byte-for-byte (as text) so that a payload Fluxo cannot read, or one for a
    phone number id no channel owns, can be inspected and reprocessed later.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"
        UNKNOWN_CHANNEL = "unknown_channel", "Unknown phone number id"
        UNREADABLE = "unreadable", "Unreadable payload"

    source = models.CharField(max_length=16, default="meta", help_text="meta | sandbox")
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries")
    body = models.TextField(help_text="The raw request body, as received.")
    signature = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING, db_index=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True, help_text="Counts of what the processing found.")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"delivery {self.pk} ({self.state})"
