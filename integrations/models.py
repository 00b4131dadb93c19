"""Teams (routing targets), and the integrations' own records.

* :class:`Credential` — the vault: secrets used by HTTP requests, AI providers and notifications.
  Nodes name a credential; its secret is encrypted at rest and never enters a flow definition.
* :class:`ApiIntegration` — an outside system allowed to call ``POST /api/events/`` (API key).
* :class:`Assistant` + :class:`KnowledgeEntry` + :class:`AssistantMemory` — AI replies.
* :class:`WebhookSubscription` + :class:`WebhookDelivery` — outbound webhooks, and
  :class:`IntegrationAlert` — problems an operator must see in the admin.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.crypto import EncryptedTextField, mask


def validate_business_hours(timezone: str, hours, holidays) -> dict[str, list[str]]:
    """Problems of a team's opening hours, by field (empty when valid)."""
    import re
    from datetime import date
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    errors: dict[str, list[str]] = {}
    try:
        ZoneInfo(timezone or "")
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = [f"'{timezone}' is not a time zone (e.g. America/Sao_Paulo)"]
    hhmm = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
    weekdays = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
    if not isinstance(hours, dict):
        errors["business_hours"] = ['use {"mon": [["09:00", "18:00"]], ...}']
    else:
        for day, spans in hours.items():
            ok = day in weekdays and isinstance(spans, list) and all(
                isinstance(span, list | tuple) and len(span) == 2 and all(isinstance(t, str) and hhmm.match(t) for t in span)
                and span[0] < span[1] for span in spans)
            if not ok:
                errors.setdefault("business_hours", []).append(
                    f"'{day}': use a weekday (mon…sun) with [[\"09:00\", \"18:00\"], …], start before end")
    if not isinstance(holidays, list):
        errors["holidays"] = ['use a list of ISO dates, e.g. ["2026-12-25"]']
    else:
        for item in holidays:
            try:
                date.fromisoformat(str(item))
            except ValueError:
                errors.setdefault("holidays", []).append(f"'{item}' is not an ISO date (YYYY-MM-DD)")
    return errors


class Team(models.Model):
    name = models.CharField(max_length=120, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="teams")
    priority = models.SmallIntegerField(default=0)
    timezone = models.CharField(max_length=64, default="America/Sao_Paulo")
    business_hours = models.JSONField(
        default=dict, blank=True,
        help_text='Weekday → list of [start, end], e.g. {"mon": [["09:00", "18:00"]]}',
    )
    holidays = models.JSONField(default=list, blank=True, help_text='ISO dates, e.g. ["2026-12-25"]')
    holiday_country = models.CharField(
        max_length=2, blank=True, default="",
        help_text="Public holidays of this country close the team (the holidays library), e.g. BR.")
    holiday_subdivision = models.CharField(
        max_length=8, blank=True, default="", help_text="Also the holidays of this state, e.g. SP (blank: national only).")
    notify_email = models.EmailField(blank=True, help_text="Team mailbox for notifications (else the members').")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        errors = validate_business_hours(self.timezone, self.business_hours, self.holidays)
        if errors:
            raise ValidationError(errors)

    def all_holidays(self, years: list[int] | None = None) -> list[str]:
        """The team's own dates plus its country's (and state's) public holidays for ``years``."""
        from django.utils import timezone as tz

        from integrations.holidays import public_holidays

        dates = set(self.holidays or [])
        if self.holiday_country:
            now = tz.now().year
            for year in years or [now - 1, now, now + 1]:
                dates.update(item["date"] for item in public_holidays(
                    country=self.holiday_country, subdivision=self.holiday_subdivision, year=year))
        return sorted(dates)

    def hours(self):
        """The team's opening hours as a :class:`flows.engine.calendar.BusinessHours`."""
        from flows.engine.calendar import BusinessHours

        return BusinessHours.from_dict({"timezone": self.timezone, "hours": self.business_hours or {},
                                        "holidays": self.all_holidays()})

    def is_open(self, moment) -> bool:
        """Open at ``moment``? A team without business hours is always open."""
        if not self.business_hours:
            return True
        return self.hours().is_open(moment)


# --- Vault ------------------------------------------------------------------------------------


class Credential(models.Model):
    """A named secret. Flows refer to it by name; the secret is shown back only masked."""

    class Kind(models.TextChoices):
        BEARER = "bearer", "Bearer token (Authorization: Bearer …)"
        BASIC = "basic", "HTTP basic (username + password)"
        HEADER = "header", "Custom header (e.g. X-API-Key)"
        QUERY = "query", "Query parameter (e.g. ?api_key=…)"
        URL = "url", "Secret URL (e.g. a Slack incoming webhook)"

    name = models.SlugField(max_length=80, unique=True, help_text="How flows refer to it, e.g. erp-api.")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.BEARER)
    secret = EncryptedTextField(help_text="Token, password, API key or URL. Encrypted at rest.")
    username = models.CharField(max_length=200, blank=True, help_text="For HTTP basic.")
    header_name = models.CharField(max_length=100, blank=True, default="",
                                   help_text="Header for the 'header' kind (default X-API-Key).")
    query_param = models.CharField(max_length=100, blank=True, default="", help_text="For the 'query' kind.")
    base_url = models.URLField(blank=True, help_text="Optional base URL (AI providers: e.g. https://api.openai.com/v1).")
    allowed_hosts = models.JSONField(
        default=list, blank=True,
        help_text="Hosts or CIDRs this credential may reach even when private (e.g. an on-premises ERP). "
                  "Only admins edit credentials, so only admins widen the SSRF guard.",
    )
    description = models.TextField(blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def secret_masked(self) -> str:
        return mask(self.secret)


# --- Inbound API ------------------------------------------------------------------------------


class ApiIntegration(models.Model):
    """An outside system (shop, CRM, ERP) allowed to send events. Its key is stored hashed."""

    name = models.CharField(max_length=120, unique=True)
    key_prefix = models.CharField(max_length=16, unique=True, help_text="Public part of the key, to find it.")
    key_hash = models.CharField(max_length=64, help_text="SHA-256 of the whole key.")
    is_active = models.BooleanField(default=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# --- AI -----------------------------------------------------------------------------------------


class Assistant(models.Model):
    class Provider(models.TextChoices):
        BUILTIN = "builtin", "Built-in (offline, answers from the knowledge entries)"
        OPENAI = "openai", "OpenAI-compatible chat completions (OpenAI, Ollama, vLLM, …)"

    name = models.CharField(max_length=120, unique=True)
    instructions = models.TextField(blank=True, help_text="System prompt for language-model providers.")
    provider = models.CharField(max_length=16, choices=Provider.choices, default=Provider.BUILTIN)
    model = models.CharField(max_length=120, blank=True, help_text="e.g. gpt-4o-mini, llama3.1")
    credential = models.ForeignKey(
        Credential, null=True, blank=True, on_delete=models.PROTECT, related_name="assistants",
        help_text="API key (and base URL) of an OpenAI-compatible provider.",
    )
    base_url = models.URLField(blank=True, help_text="Overrides the credential's base URL.")
    temperature = models.FloatField(default=0.2)
    max_tokens = models.PositiveIntegerField(default=400)
    timeout_seconds = models.FloatField(default=20.0)
    confidence_threshold = models.FloatField(
        default=0.5, help_text="Built-in provider: below this the node takes its failure (handoff) port.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class KnowledgeEntry(models.Model):
    assistant = models.ForeignKey(Assistant, on_delete=models.CASCADE, related_name="knowledge")
    question = models.CharField(max_length=300, help_text="The question or topic, e.g. Qual o prazo de entrega?")
    answer = models.TextField()
    keywords = models.CharField(max_length=300, blank=True, help_text="Extra words that point here, comma separated.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["assistant", "id"]
        verbose_name_plural = "knowledge entries"

    def __str__(self) -> str:
        return self.question


class AssistantMemory(models.Model):
    """The last turns between one contact and one assistant: ``[{"role", "content", "at"}]``."""

    assistant = models.ForeignKey(Assistant, on_delete=models.CASCADE, related_name="memories")
    contact = models.ForeignKey("messaging.Contact", on_delete=models.CASCADE, related_name="assistant_memories")
    turns = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["assistant", "contact"], name="assistantmemory_unique")]
        verbose_name_plural = "assistant memories"

    def __str__(self) -> str:
        return f"{self.assistant} ↔ {self.contact}"


# --- Outbound webhooks --------------------------------------------------------------------------

WEBHOOK_EVENT_TYPES = [
    "conversation.opened", "conversation.triaged", "conversation.assigned", "conversation.closed",
    "message.received", "message.sent", "message.delivered", "message.read", "message.failed",
    "run.completed", "run.failed", "run.cancelled", "run.expired", "contact.opted_in", "contact.opted_out",
    "team.notified", "channel.paused",
]


class WebhookSubscription(models.Model):
    name = models.CharField(max_length=120, unique=True)
    url = models.URLField(max_length=1000)
    event_types = models.JSONField(default=list, help_text='Event types, or ["*"] for all.')
    secret = EncryptedTextField(help_text="Signing secret (HMAC-SHA256). Shown once when created.")
    is_active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def wants(self, event_type: str) -> bool:
        return "*" in self.event_types or event_type in self.event_types


class WebhookDelivery(models.Model):
    """One event for one subscription, delivered at least once. Redeliveries are new rows
    sharing ``event_id``, so receivers can deduplicate on the ``X-Fluxo-Event-Id`` header."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RETRYING = "retrying", "Retrying"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed (gave up)"

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(default=uuid.uuid4, db_index=True)
    event_type = models.CharField(max_length=64)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_response = models.TextField(blank=True, help_text="First 2 KB of the last response body.")
    last_error = models.TextField(blank=True)
    attempt_log = models.JSONField(default=list, help_text="[{at, status_code, error, duration_ms}]")
    redelivery_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["next_attempt_at"], name="webhook_due",
                         condition=Q(status__in=["pending", "retrying"])),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.subscription} ({self.status})"


class IntegrationAlert(models.Model):
    """Something an operator must act on (a webhook disabled after repeated failures, …)."""

    kind = models.CharField(max_length=64)
    message = models.TextField()
    subscription = models.ForeignKey(WebhookSubscription, null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="alerts")
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message[:60]}"
