"""Channels, contacts, conversations, messages and templates."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from polymorphic.models import PolymorphicModel

from core.crypto import EncryptedTextField

SERVICE_WINDOW = timedelta(hours=24)


class Channel(PolymorphicModel):
    """A number Fluxo sends from and receives on. Polymorphic: each kind adds its own configuration
    and names its provider (``messaging/providers/``), while runs, contacts and messages refer to
    any channel alike."""

    provider_key: str = ""

    name = models.CharField(verbose_name=_("name"), max_length=120)
    is_active = models.BooleanField(verbose_name=_("active"), default=True)
    paused_at = models.DateTimeField(verbose_name=_("paused at"), null=True, blank=True)
    pause_reason = models.TextField(verbose_name=_("pause reason"), blank=True)
    read_receipts = models.BooleanField(
        verbose_name=_("mark messages read"), default=True,
        help_text=_("Inbound messages handled by a flow are marked read (the customer sees blue ticks)."))
    typing_indicator = models.BooleanField(
        verbose_name=_("typing indicator"), default=False,
        help_text=_("Show “typing…” to the customer while an AI reply is being prepared."))
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
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
        verbose_name_plural = _("sandbox channels")
        verbose_name = _("sandbox channel")


class WhatsAppCloudChannel(Channel):
    provider_key = "whatsapp_cloud"

    phone_number_id = models.CharField(verbose_name=_("phone number id"), max_length=64, unique=True)
    waba_id = models.CharField(_("WABA id"), max_length=64)
    display_phone_number = models.CharField(verbose_name=_("display phone number"), max_length=32, blank=True)
    access_token = EncryptedTextField(verbose_name=_("access token"), blank=True)
    app_secret = EncryptedTextField(verbose_name=_("app secret"), blank=True)
    # Encrypted like the other secrets and write-only in the API and the admin: whoever knows it can
    # subscribe a webhook to this number in Meta's dashboard (it proves nothing about updates, which
    # the app secret signs, but it is not for anyone to read).
    verify_token = EncryptedTextField(verbose_name=_("verify token"), blank=True)
    graph_api_base_url = models.URLField(verbose_name=_("Graph API base URL"), default="https://graph.facebook.com")
    graph_api_version = models.CharField(verbose_name=_("Graph API version"), max_length=16, default="v23.0")
    messages_per_second = models.PositiveIntegerField(verbose_name=_("messages per second"), default=80)
    # What the last check of the token against the Graph API (GET /{phone-number-id}) found.
    verified_name = models.CharField(verbose_name=_("verified name"), max_length=200, blank=True)
    quality_rating = models.CharField(verbose_name=_("quality rating"), max_length=16, blank=True, help_text=_("GREEN, YELLOW, RED or UNKNOWN"))
    messaging_limit_tier = models.CharField(verbose_name=_("messaging limit tier"), max_length=32, blank=True, help_text=_("e.g. TIER_1K, TIER_UNLIMITED"))
    throughput_level = models.CharField(verbose_name=_("throughput level"), max_length=16, blank=True, help_text=_("STANDARD or HIGH"))
    messaging_limit = models.PositiveIntegerField(
        verbose_name=_("messaging limit"), null=True, blank=True,
        help_text=_("Unique users outside the service window per moving 24 hours; empty: from the tier "
                    "(TIER_250 ... TIER_UNLIMITED)."))
    quality_updated_at = models.DateTimeField(verbose_name=_("quality updated at"), null=True, blank=True)
    checked_at = models.DateTimeField(verbose_name=_("checked at"), null=True, blank=True)
    check_error = models.TextField(verbose_name=_("check error"), blank=True)

    class Meta:
        verbose_name_plural = _("WhatsApp Cloud API channels")
        verbose_name = _("WhatsApp Cloud API channel")


class Tag(models.Model):
    name = models.CharField(verbose_name=_("name"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    class Consent(models.TextChoices):
        UNKNOWN = "unknown", _("Unknown")
        OPTED_IN = "opted_in", _("Opted in")
        OPTED_OUT = "opted_out", _("Opted out")

    CONSENT_CATEGORIES = ("marketing", "utility", "authentication")

    phone = models.CharField(verbose_name=_("phone"), max_length=20, unique=True, help_text=_("E.164, e.g. +5511987654321"))
    name = models.CharField(verbose_name=_("name"), max_length=200, blank=True)
    channel = models.ForeignKey(
        Channel, verbose_name=_("channel"), null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts",
        help_text=_("The channel this contact is reached on."),
    )
    attributes = models.JSONField(verbose_name=_("attributes"), default=dict, blank=True)
    consent = models.JSONField(verbose_name=_("consent"),
        default=dict, blank=True,
        help_text=_('Per message category: {"marketing": {"state": "opted_out", "at": "...", "source": "..."}}'),
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="contacts")
    last_inbound_at = models.DateTimeField(verbose_name=_("last inbound at"), null=True, blank=True)
    current_conversation = models.ForeignKey(
        "Conversation", verbose_name=_("current conversation"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", help_text=_("The conversation an inbound message continues (kept by the inbound path; a "
                                      "completed one is replaced by a new one)."),
    )
    is_test = models.BooleanField(verbose_name=_("test contact"),
        default=False, help_text=_("A test-run contact of the editor: only its test run sees its events.")
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
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

    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="consent_events")
    category = models.CharField(verbose_name=_("category"), max_length=32)
    state = models.CharField(verbose_name=_("state"), max_length=16, choices=Contact.Consent.choices)
    source = models.CharField(verbose_name=_("source"), max_length=200, help_text=_("keyword SAIR, error 131050, import #3, by hand, ..."))
    message = models.ForeignKey("Message", verbose_name=_("message"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                help_text=_("The inbound message that carried it, when there was one."))
    contact_import = models.ForeignKey("ContactImport", verbose_name=_("contact import"), null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="consent_events")
    actor = models.ForeignKey("auth.User", verbose_name=_("actor"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              help_text=_("Who changed it by hand or imported it."))
    note = models.CharField(verbose_name=_("note"), max_length=300, blank=True)
    at = models.DateTimeField(verbose_name=_("at"), db_index=True)

    class Meta:
        verbose_name = _("consent event")
        verbose_name_plural = _("consent events")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.contact} {self.category} {self.state}"


class ContactImport(models.Model):
    """A CSV of contacts: uploaded, checked (dry run), then imported in one transaction."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed (nothing imported)")

    filename = models.CharField(verbose_name=_("filename"), max_length=255, blank=True)
    content = models.TextField(verbose_name=_("content"), help_text=_("The CSV as uploaded (UTF-8)."))
    columns = models.JSONField(verbose_name=_("columns"), default=list)
    row_count = models.PositiveIntegerField(verbose_name=_("row count"), default=0)
    options = models.JSONField(verbose_name=_("options"), default=dict, blank=True, help_text=_("Column mapping, default region, consent."))
    status = models.CharField(verbose_name=_("status"), max_length=16, choices=Status.choices, default=Status.UPLOADED, db_index=True)
    created = models.PositiveIntegerField(verbose_name=_("created"), default=0)
    updated = models.PositiveIntegerField(verbose_name=_("updated"), default=0)
    skipped = models.PositiveIntegerField(verbose_name=_("skipped"), default=0)
    error = models.TextField(verbose_name=_("error"), blank=True)
    created_by = models.ForeignKey("auth.User", verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(verbose_name=_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("contact import")
        verbose_name_plural = _("contact imports")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"import {self.pk} ({self.filename})"


class Conversation(models.Model):
    class State(models.TextChoices):
        NEW = "new", _("New")
        TRIAGED = "triaged", _("Triaged")
        IN_SERVICE = "in_service", _("In service")
        PENDING = "pending", _("Pending")
        COMPLETED = "completed", _("Completed")

    # Allowed moves of the state machine; a completed conversation is closed for good (a new
    # inbound message opens a new conversation).
    TRANSITIONS: dict[str, set[str]] = {
        "new": {"triaged", "in_service", "pending", "completed"},
        "triaged": {"in_service", "pending", "completed"},
        "in_service": {"pending", "completed", "triaged"},
        "pending": {"in_service", "triaged", "completed"},
        "completed": set(),
    }

    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="conversations")
    channel = models.ForeignKey(Channel, verbose_name=_("channel"), null=True, blank=True, on_delete=models.SET_NULL)
    state = models.CharField(verbose_name=_("state"), max_length=16, choices=State.choices, default=State.NEW, db_index=True)
    assigned_team = models.ForeignKey(
        "integrations.Team", verbose_name=_("assigned team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    priority = models.SmallIntegerField(verbose_name=_("priority"), default=0)
    last_inbound_at = models.DateTimeField(verbose_name=_("last inbound at"), null=True, blank=True)
    opened_at = models.DateTimeField(verbose_name=_("opened at"), auto_now_add=True)
    closed_at = models.DateTimeField(verbose_name=_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"conversation {self.pk} with {self.contact}"

    def can_move_to(self, state: str) -> bool:
        return state == self.state or state in self.TRANSITIONS.get(self.state, set())


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "in", _("Inbound")
        OUTBOUND = "out", _("Outbound")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        # A file named by a link is being fetched by Fluxo before the message may be sent
        # (``messaging.media.message_media_prepare``): it holds its contact's queue like ``queued``.
        PREPARING = "preparing", _("Preparing the file")
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        UNCERTAIN = "uncertain", _("Sent, not confirmed")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        READ = "read", _("Read")
        FAILED = "failed", _("Failed")

    # Statuses only move forward along this rank ("read" may arrive before "delivered").
    STATUS_RANK = {"received": 0, "preparing": 0, "queued": 0, "sending": 1, "uncertain": 1, "sent": 2,
                   "delivered": 3, "read": 4, "failed": 5}
    # Outbound messages not yet settled: a contact's next message waits behind these (in order).
    UNSETTLED = ("preparing", "queued", "sending", "uncertain")

    direction = models.CharField(verbose_name=_("direction"), max_length=3, choices=Direction.choices)
    kind = models.CharField(verbose_name=_("kind"), max_length=32, help_text=_("text, template, interactive, image, reaction, ..."))
    content = models.JSONField(verbose_name=_("content"), default=dict)
    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="messages")
    conversation = models.ForeignKey(
        Conversation, verbose_name=_("conversation"), null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    channel = models.ForeignKey(Channel, verbose_name=_("channel"), null=True, blank=True, on_delete=models.SET_NULL)
    run = models.ForeignKey("flows.FlowRun", verbose_name=_("run"), null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    provider_message_id = models.CharField(verbose_name=_("provider message id"), max_length=255, null=True, blank=True, unique=True)
    idempotency_key = models.CharField(verbose_name=_("idempotency key"), max_length=255, null=True, blank=True, unique=True)
    status = models.CharField(verbose_name=_("status"), max_length=16, choices=Status.choices, db_index=True)
    error_code = models.CharField(verbose_name=_("error code"), max_length=32, blank=True)
    error = models.TextField(verbose_name=_("error"), blank=True)
    attempts = models.PositiveIntegerField(verbose_name=_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(verbose_name=_("next attempt at"), null=True, blank=True)
    priority = models.SmallIntegerField(
        verbose_name=_("priority"), default=0,
        help_text=_("Higher is claimed first: conversational replies 0, campaigns below (a contact's own order is kept)."))
    possible_duplicate = models.BooleanField(
        verbose_name=_("possible duplicate"), default=False,
        help_text=_("Sent again after an attempt whose outcome was never known: the customer may have received it "
                    "twice."))
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(verbose_name=_("sent at"), null=True, blank=True)
    delivered_at = models.DateTimeField(verbose_name=_("delivered at"), null=True, blank=True)
    read_at = models.DateTimeField(verbose_name=_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["id"]
        indexes = [
            # The sender's head-of-line check: a contact's unsettled outbound messages, in order.
            models.Index(fields=["contact", "id"], name="message_unsettled_by_contact",
                         condition=models.Q(direction="out",
                                            status__in=("preparing", "queued", "sending", "uncertain"))),
            # The outbound drain's scan for messages to send.
            models.Index(fields=["-priority", "id"], name="message_to_send_by_priority",
                         condition=models.Q(direction="out", status__in=("queued", "uncertain"))),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.kind} {self.status}"


class MessageTemplate(models.Model):
    class Status(models.TextChoices):
        APPROVED = "APPROVED", _("Approved")
        PENDING = "PENDING", _("Pending")
        REJECTED = "REJECTED", _("Rejected")
        PAUSED = "PAUSED", _("Paused")
        DISABLED = "DISABLED", _("Disabled")
        IN_APPEAL = "IN_APPEAL", _("In appeal")

    class Category(models.TextChoices):
        MARKETING = "MARKETING", _("Marketing")
        UTILITY = "UTILITY", _("Utility")
        AUTHENTICATION = "AUTHENTICATION", _("Authentication")

    channel = models.ForeignKey(Channel, verbose_name=_("channel"), null=True, blank=True, on_delete=models.CASCADE, related_name="templates")
    name = models.CharField(verbose_name=_("name"), max_length=512)
    language = models.CharField(verbose_name=_("language"), max_length=16)
    provider_template_id = models.CharField(verbose_name=_("provider template id"), max_length=64, blank=True)
    status = models.CharField(verbose_name=_("status"), max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    category = models.CharField(verbose_name=_("category"), max_length=16, choices=Category.choices, default=Category.UTILITY)
    components = models.JSONField(verbose_name=_("components"), default=list)
    parameter_count = models.PositiveSmallIntegerField(verbose_name=_("parameter count"), default=0, help_text=_("Body parameters expected."))
    synced_at = models.DateTimeField(verbose_name=_("synced at"), null=True, blank=True)

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
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

    channel = models.ForeignKey(Channel, verbose_name=_("channel"), on_delete=models.CASCADE, related_name="alerts")
    code = models.CharField(verbose_name=_("code"), max_length=32, blank=True)
    message = models.TextField(verbose_name=_("message"))
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True, db_index=True)
    resolved_at = models.DateTimeField(verbose_name=_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("channel alert")
        verbose_name_plural = _("channel alerts")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.channel}: {self.message[:60]}"


class WebhookDelivery(models.Model):
    """One POST from Meta, stored raw before it is acknowledged; a worker turns it into events.

    The raw body is kept byte-for-byte (as text) so that a payload Fluxo cannot read, or one for a
    phone number id no channel owns, can be inspected and reprocessed later.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSED = "processed", _("Processed")
        FAILED = "failed", _("Failed")
        UNKNOWN_CHANNEL = "unknown_channel", _("Unknown phone number id")
        UNREADABLE = "unreadable", _("Unreadable payload")

    source = models.CharField(verbose_name=_("source"), max_length=16, default="meta", help_text=_("meta | sandbox"))
    sender = models.CharField(
        verbose_name=_("sender"), max_length=32, blank=True, default="",
        help_text=_("The wa_id of the customer who wrote (one sender), '*' for several, empty for statuses. A "
                    "sender's deliveries are processed in the order they were stored."))
    shard = models.PositiveSmallIntegerField(
        verbose_name=_("shard"), default=0,
        help_text=_("Which inbound drain takes it (a sender's deliveries always share one)."))
    channel = models.ForeignKey(Channel, verbose_name=_("channel"), null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries")
    body = models.TextField(verbose_name=_("body"), help_text=_("The raw request body, as received."))
    signature = models.CharField(verbose_name=_("signature"), max_length=100, blank=True)
    state = models.CharField(verbose_name=_("state"), max_length=16, choices=State.choices, default=State.PENDING, db_index=True)
    error = models.TextField(verbose_name=_("error"), blank=True)
    attempts = models.PositiveIntegerField(verbose_name=_("attempts"), default=0)
    summary = models.JSONField(verbose_name=_("summary"), default=dict, blank=True, help_text=_("Counts of what the processing found."))
    received_at = models.DateTimeField(verbose_name=_("received at"), auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(verbose_name=_("processed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        ordering = ["-id"]
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(fields=["sender", "id"], name="delivery_pending_by_sender",
                         condition=models.Q(state="pending")),
            models.Index(fields=["shard", "id"], name="delivery_pending_by_shard",
                         condition=models.Q(state="pending")),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} ({self.state})"


def media_upload_to(instance: MediaFile, filename: str) -> str:
    """Where a file goes in the storage: by direction and month, under a random name (never the customer's)."""
    import uuid
    from pathlib import PurePosixPath

    suffix = PurePosixPath(filename or "").suffix.lower()[:10]
    now = timezone.now()
    return f"media/{instance.direction}/{now:%Y/%m}/{uuid.uuid4().hex}{suffix}"


class MediaFile(models.Model):
    """A file Fluxo holds: one a customer sent (``in``), one of the media library (``library``), or one
    Fluxo fetched from a link to send it (``fetched``: send_media with a URL, reused by SHA-256).

    Inbound files are recorded ``pending`` with the message and downloaded from the Graph API by a
    task outside the contact lock (``messaging.media``); ``failed`` keeps the reason. Retention
    deletes an inbound file's bytes after ``FLUXO_MEDIA_RETENTION_DAYS`` (``expired``) and keeps
    its metadata. Stored through Django's storage API (``default_storage``).
    """

    class Direction(models.TextChoices):
        INBOUND = "in", _("Received from a customer")
        LIBRARY = "library", _("Media library")
        FETCHED = "fetched", _("Fetched from a link to send")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending download")
        STORED = "stored", _("Stored")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Deleted after retention")

    class Kind(models.TextChoices):
        IMAGE = "image", _("Image")
        AUDIO = "audio", _("Audio")
        VIDEO = "video", _("Video")
        DOCUMENT = "document", _("Document")
        STICKER = "sticker", _("Sticker")

    direction = models.CharField(verbose_name=_("direction"), max_length=8, choices=Direction.choices)
    kind = models.CharField(verbose_name=_("kind"), max_length=16, choices=Kind.choices)
    channel = models.ForeignKey(Channel, verbose_name=_("channel"), null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="media_files")
    message = models.ForeignKey(Message, verbose_name=_("message"), null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="media_files")
    provider_media_id = models.CharField(verbose_name=_("provider media id"), max_length=128, null=True, blank=True,
                                         unique=True, help_text=_("Meta's id of a received file."))
    name = models.CharField(verbose_name=_("name"), max_length=255, blank=True,
                            help_text=_("The library's name of the file (renaming changes only this)."))
    filename = models.CharField(verbose_name=_("filename"), max_length=255, blank=True)
    mime_type = models.CharField(verbose_name=_("MIME type"), max_length=128, blank=True)
    size = models.PositiveBigIntegerField(verbose_name=_("size"), null=True, blank=True)
    sha256 = models.CharField(verbose_name=_("SHA-256"), max_length=128, blank=True)
    caption = models.TextField(verbose_name=_("caption"), blank=True)
    file = models.FileField(verbose_name=_("file"), upload_to=media_upload_to, max_length=300, blank=True)
    status = models.CharField(verbose_name=_("status"), max_length=16, choices=Status.choices, default=Status.PENDING,
                              db_index=True)
    error = models.TextField(verbose_name=_("error"), blank=True)
    attempts = models.PositiveIntegerField(verbose_name=_("attempts"), default=0)
    created_by = models.ForeignKey("auth.User", verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True, db_index=True)
    stored_at = models.DateTimeField(verbose_name=_("stored at"), null=True, blank=True)
    expires_at = models.DateTimeField(verbose_name=_("expires at"), null=True, blank=True, db_index=True,
                                      help_text=_("When retention deletes the bytes of a received file."))

    class Meta:
        verbose_name = _("media file")
        verbose_name_plural = _("media files")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.name or self.filename or f"{self.kind} {self.pk}"


class MediaUpload(models.Model):
    """A library file uploaded to one channel's number (``POST /{phone-number-id}/media``): its media
    id is reused for every send until it expires (Meta keeps uploads about 30 days)."""

    media = models.ForeignKey(MediaFile, verbose_name=_("media file"), on_delete=models.CASCADE, related_name="uploads")
    channel = models.ForeignKey(Channel, verbose_name=_("channel"), on_delete=models.CASCADE, related_name="+")
    provider_media_id = models.CharField(verbose_name=_("provider media id"), max_length=128)
    uploaded_at = models.DateTimeField(verbose_name=_("uploaded at"), auto_now_add=True)
    expires_at = models.DateTimeField(verbose_name=_("expires at"))

    class Meta:
        verbose_name = _("media upload")
        verbose_name_plural = _("media uploads")
        constraints = [models.UniqueConstraint(fields=["media", "channel"], name="media_upload_once_per_channel")]

    def __str__(self) -> str:
        return f"{self.media_id} on {self.channel_id}: {self.provider_media_id}"


# Campaigns and date events are models of this app, kept in their own module.
from messaging.campaigns.models import (  # noqa: E402, F401
    Campaign,
    CampaignRecipient,
    DateEvent,
    DateEventFire,
    ImportedContact,
    Segment,
)
